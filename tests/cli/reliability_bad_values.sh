# Values out of range are refused before any work: exit 2, a message naming
# the key, and no run folder left behind — from --set (and, for two of them,
# from a config file).
source "$(dirname "$0")/lib.sh"
T=("${TINY[@]}" --set train.steps=2)
check() {  # $1: pattern the message must match, $2: the key=value, $3: a second pattern (optional), $4: "file" to try a config file too
  local pattern=$1 value=$2 also=${3:-} file=${4:-} out rc
  out=$("$DUEL" train --out "$WORK/set" "${T[@]}" --set "$value" 2>&1); rc=$?
  [ "$rc" = 2 ] || fail "--set $value: exit $rc, want 2"
  grep -qE -- "$pattern" <<<"$out" || fail "--set $value: message lacks /$pattern/: $out"
  [ -z "$also" ] || grep -qE -- "$also" <<<"$out" || fail "--set $value: message lacks /$also/: $out"
  [ ! -e "$WORK/set" ] || { fail "--set $value left a run folder"; rm -rf "$WORK/set"; }
  [ "$file" = file ] || return 0
  local key=${value%%=*}
  printf '[%s]\n%s = %s\n' "${key%%.*}" "${key#*.}" "${value#*=}" > "$WORK/bad.toml"
  out=$("$DUEL" train --config "$WORK/bad.toml" --out "$WORK/file" "${TINY[@]}" 2>&1); rc=$?
  [ "$rc" = 2 ] || fail "config $value: exit $rc, want 2"
  grep -qE -- "$pattern" <<<"$out" || fail "config $value: message lacks /$pattern/: $out"
  [ ! -e "$WORK/file" ] || { fail "config $value left a run folder"; rm -rf "$WORK/file"; }
}
check "config key 'optim.g_lr' = -0.1 is out of range" optim.g_lr=-0.1 "" file
check "config key 'train.batch_size' = 0 is out of range" train.batch_size=0 "" file
check "config key 'model.latent_dim' = 0 is out of range" model.latent_dim=0
check "dcgan does not support image size 30" data.image_size=30 "hint: set data.image_size to 28"
check "config key 'train.nan_rollbacks' = -1 is out of range" train.nan_rollbacks=-1
finish
