# duel augment writes a labelled synthetic dataset from a cgan checkpoint, as
# an image folder or IDX files that duel reads back, and refuses what it cannot do.
source "$(dirname "$0")/lib.sh"
"$DUEL" train --out "$WORK/cgan" "${TINY[@]}" --set model.name=cgan --set train.steps=2 >"$WORK/cgan.log" 2>&1 ||
  fail "cgan training failed: $(tail -2 "$WORK/cgan.log")"
ck="$WORK/cgan/checkpoints/latest.duel"
classes=$("$DUEL" info "$ck" | sed -n 's/.* \([0-9]*\) classes$/\1/p')
[ "${classes:-0}" -ge 2 ] || fail "the fixture cgan has no classes ($classes)"

expect_exit 0 "wrote $((3 * classes)) images \(3 per class, $classes classes, folder\)" -- \
  "$DUEL" augment -k "$ck" --per-class 3 --out "$WORK/synth" --threads 1
[ "$(find "$WORK/synth" -mindepth 1 -maxdepth 1 -type d | wc -l)" = "$classes" ] || fail "not one folder per class"
for d in "$WORK/synth"/*/; do
  [ "$(ls "$d" | wc -l)" = 3 ] || fail "class folder $d does not hold 3 images"
done
# duel reads the folder back as a labelled dataset: a conditional model trains on it.
expect_exit 0 "trained 1 steps" -- "$DUEL" train --out "$WORK/back" --set data.dataset="folder:$WORK/synth" \
  --set model.name=cgan --set train.batch_size=4 --set model.g_width=8 --set model.d_width=8 --set train.steps=1 \
  --set sample.grid=4 --threads 1
grep -q "$((3 * classes)) images" "$WORK/back/events.jsonl" || fail "the folder did not read back whole"

expect_exit 0 "wrote $((2 * classes)) images \(2 per class, $classes classes, idx\) to $WORK/synth-idx" -- "$DUEL" augment -k "$ck" --per-class 2 --out "$WORK/synth-idx" --format idx --threads 1
size=$(stat -c %s "$WORK/synth-idx/train-images-idx3-ubyte")
[ "$size" = $((16 + 2 * classes * 28 * 28)) ] || fail "IDX image file has $size bytes"
[ "$(stat -c %s "$WORK/synth-idx/train-labels-idx1-ubyte")" = $((8 + 2 * classes)) ] || fail "IDX label file size"
cp "$WORK/synth-idx/train-images-idx3-ubyte" "$WORK/synth-idx/t10k-images-idx3-ubyte"
cp "$WORK/synth-idx/train-labels-idx1-ubyte" "$WORK/synth-idx/t10k-labels-idx1-ubyte"
expect_exit 0 "trained 1 steps" -- "$DUEL" train --out "$WORK/back-idx" --set data.dataset=mnist \
  --set data.path="$WORK/synth-idx" --set model.name=cgan --set train.batch_size=4 --set model.g_width=8 \
  --set model.d_width=8 --set train.steps=1 --set sample.grid=4 --threads 1

# Refusals: nothing is written.
expect_exit 2 "already exists" -- "$DUEL" augment -k "$ck" --per-class 1 --out "$WORK/synth"
expect_exit 0 "wrote $classes images \(1 per class, $classes classes, folder\) to $WORK/synth" -- "$DUEL" augment -k "$ck" --per-class 1 --out "$WORK/synth" --force --threads 1
[ "$(find "$WORK/synth" -name '*.png' | wc -l)" = "$classes" ] || fail "--force did not replace the folder whole"
"$DUEL" train --out "$WORK/dc" "${TINY[@]}" --set train.steps=1 >/dev/null 2>&1 || fail "dcgan train"
expect_exit 2 "not conditional" -- "$DUEL" augment -k "$WORK/dc/checkpoints/latest.duel" --per-class 1 --out "$WORK/x"
expect_exit 2 "does not exist" -- "$DUEL" augment -k "$ck" --per-class 1 --out "$WORK/no/such/dir"
expect_exit 2 "cannot open checkpoint '$WORK/missing.duel'" -- "$DUEL" augment -k "$WORK/missing.duel" --per-class 1 --out "$WORK/y"
[ -e "$WORK/x" ] || [ -e "$WORK/y" ] && fail "a refused augment wrote its output"
ls -a "$WORK" | grep -q "partial" && fail "a temporary folder was left behind"
finish
