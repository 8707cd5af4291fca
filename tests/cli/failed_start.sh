# A start that cannot work is refused before its run folder exists (eval.every
# without a feature network, a missing eval.features, a folder as --config); a
# folder that holds no checkpoint (a start that failed or was killed before
# its first one) is no run: the same command reuses it, and --resume says why
# it cannot continue it.
source "$(dirname "$0")/lib.sh"
H="$WORK/h"
expect_exit 2 "^error: no feature network for dataset 'folder:$FIXTURES/folder-rgb'" -- "$DUEL" train --out "$H" \
  "${TINY[@]}" --set "data.dataset=folder:$FIXTURES/folder-rgb" --set train.steps=2 --set eval.every=1
[ -e "$H" ] && fail "eval.every without a feature network left $(ls "$H")"
expect_exit 2 "^error: feature network '$WORK/none.duelfeat' does not exist" -- "$DUEL" train --out "$H" \
  "${TINY[@]}" --set train.steps=2 --set eval.every=1 --set "eval.features=$WORK/none.duelfeat"
[ -e "$H" ] && fail "a missing eval.features left $(ls "$H")"
mkdir -p "$WORK/configs"
expect_exit 2 "^error: --config '$WORK/configs' is a folder, not a config file" -- "$DUEL" train -c "$WORK/configs" --out "$H" "${TINY[@]}"
[ -e "$H" ] && fail "a folder as --config left $(ls "$H")"
# What a start that failed after making its folder leaves: config, logs, empty folders.
mkdir -p "$H/samples" "$H/checkpoints"
printf '[train]\nsteps = 2\n' > "$H/config.toml"
printf 'step,epoch,stale\n99,0,1\n' > "$H/metrics.csv"
printf '{"event":"start","step":0}\n' > "$H/events.jsonl"
expect_exit 2 "^error: run folder '$H' holds no checkpoint: its training stopped before the first one" -- \
  "$DUEL" train --resume "$H"
expect_exit 0 "^trained 2 steps" -- "$DUEL" train --out "$H" "${TINY[@]}" --set train.steps=2
[ "$(cut -d, -f1 "$H/metrics.csv" | tr '\n' ' ')" = "step 2 " ] || fail "stale rows kept: $(cat "$H/metrics.csv")"
[ "$(grep -c '"event":"start"' "$H/events.jsonl")" = 1 ] || fail "stale events kept: $(cat "$H/events.jsonl")"
# With a checkpoint it is a run, and still refused.
expect_exit 2 "^error: run folder '$H' already holds a run" -- "$DUEL" train --out "$H" "${TINY[@]}" --set train.steps=2
finish
