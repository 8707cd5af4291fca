# Every bad input exits 2 with a message naming the file, key or value, and leaves no half-written run.
source "$(dirname "$0")/lib.sh"
T=("${TINY[@]}" --set train.steps=2)
for case in "magic:bad IDX magic" "truncated:is truncated" "count:count mismatch" "notgz:corrupt gzip\|truncated gzip"; do
  name=${case%%:*}; msg=${case#*:}
  expect_exit 2 "'$FIXTURES/bad/$name/train-(images|labels)-idx[13]-ubyte(\.gz)?'" -- "$DUEL" train --out "$WORK/$name" "${T[@]}" --set "data.path=$FIXTURES/bad/$name"
  out=$("$DUEL" train --out "$WORK/$name-b" "${T[@]}" --set "data.path=$FIXTURES/bad/$name" 2>&1)
  grep -q -- "$msg" <<<"$out" || fail "$name: message lacks '$msg': $out"
  [ ! -e "$WORK/$name-b/checkpoints/latest.duel" ] || fail "$name left a checkpoint"
done
expect_exit 2 "no 't[a-z0-9]*-[a-z]*-idx[13]-ubyte\[.gz\]' under '/nonexistent'" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set data.path=/nonexistent
expect_exit 2 "holds no PNG" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set "data.dataset=folder:$FIXTURES/folder-empty"
expect_exit 2 "cannot read image '$FIXTURES/folder-broken/a.png'" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set "data.dataset=folder:$FIXTURES/folder-broken"
expect_exit 2 "does not exist or is not a folder" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set "data.dataset=folder:$WORK/nope"
expect_exit 2 "unknown config key 'train.stepz'" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set train.stepz=3
expect_exit 2 "optim.g_lr.*out of range" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set optim.g_lr=-0.1
expect_exit 2 "train.batch_size.*out of range" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set train.batch_size=0
expect_exit 2 "model.latent_dim.*out of range" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set model.latent_dim=0
expect_exit 2 "must be an integer" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set train.steps=many
expect_exit 2 "dcgan does not support image size 30" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set data.image_size=30
expect_exit 2 "unknown model 'stylegan9' \(model.name\)" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set model.name=stylegan9
expect_exit 2 "fewer than one batch" -- "$DUEL" train --out "$WORK/x" "${T[@]}" --set train.batch_size=1000
expect_exit 2 "cannot open config file '$WORK/missing.toml'" -- "$DUEL" train --config "$WORK/missing.toml" --out "$WORK/x"
printf '[train]\nsteps = "ten"\n' > "$WORK/bad.toml"
expect_exit 2 "train.steps.*must be an integer.*bad.toml" -- "$DUEL" train --config "$WORK/bad.toml" --out "$WORK/x"
printf '[train\n' > "$WORK/broken.toml"
expect_exit 2 "cannot parse config .*broken.toml:1" -- "$DUEL" train --config "$WORK/broken.toml" --out "$WORK/x"
expect_exit 2 "the run has no steps" -- "$DUEL" train --out "$WORK/nosteps" "${TINY[@]}" --set train.steps=0 --set train.epochs=0
[ ! -e "$WORK/nosteps" ] || fail "a run with no steps left a folder behind"
expect_exit 2 "needs --out" -- "$DUEL" train "${T[@]}"
expect_exit 2 "run folder .*/nothing. does not exist" -- "$DUEL" train --resume "$WORK/nothing"
mkdir -p "$WORK/empty-folder"
expect_exit 2 "empty-folder. is not a run folder \(no checkpoints/\)" -- "$DUEL" train --resume "$WORK/empty-folder"
expect_exit 2 "^error: --threads: Value -3 not in range 0 to 1024" -- "$DUEL" train --threads -3 --out "$WORK/x"
expect_exit 2 "^error: unknown command .frobnicate." -- "$DUEL" frobnicate
# A checkpoint that is not one, and a corrupted one.
echo "hello" > "$WORK/fake.duel"
expect_exit 2 "not a duel checkpoint" -- "$DUEL" sample --checkpoint "$WORK/fake.duel" --out "$WORK/s.png"
finish
