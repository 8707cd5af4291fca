# duel sample and duel info on a checkpoint of a short run.
source "$(dirname "$0")/lib.sh"
"$DUEL" train --out "$WORK/r" "${TINY[@]}" --set train.steps=4 >/dev/null 2>&1 || fail "train"
CK="$WORK/r/checkpoints/latest.duel"
"$DUEL" sample --checkpoint "$CK" --n 10 --out "$WORK/g.png" --threads 1 >/dev/null || fail "sample grid"
python3 -c "
import struct
b=open('$WORK/g.png','rb').read(); w,h=struct.unpack('>II',b[16:24])
assert (w,h)==(122,92),(w,h)   # 10 images, 4 per row -> 3 rows
" || fail "grid size"
"$DUEL" sample --checkpoint "$CK" --n 10 --out "$WORK/g2.png" --threads 1 >/dev/null || fail "sample again"
cmp -s "$WORK/g.png" "$WORK/g2.png" || fail "same seed gave different samples"
# Control: another seed draws other samples (its command must succeed for the comparison to mean anything).
if "$DUEL" sample --checkpoint "$CK" --n 10 --seed 3 --out "$WORK/g3.png" --threads 1 >/dev/null && [ -s "$WORK/g3.png" ]; then
  cmp -s "$WORK/g.png" "$WORK/g3.png" && fail "another seed gave the same samples"
else
  fail "control: sample --seed 3 failed or wrote no grid"
fi
"$DUEL" sample --checkpoint "$CK" --n 5 --each "$WORK/each" --threads 1 >/dev/null || fail "sample --each"
[ "$(ls "$WORK/each" | wc -l)" = 5 ] && [ -s "$WORK/each/sample-000004.png" ] || fail "--each wrote $(ls "$WORK/each")"
info=$("$DUEL" info "$CK") || fail "info"
for want in "model: +dcgan" "step: +4" "net G " "net D " "checksum ok" "28x28 px"; do
  grep -qE "$want" <<<"$info" || fail "info lacks '$want': $info"
done
# sample --out creates a missing folder (help_and_sizes.sh); one under a file cannot be.
expect_exit 2 "the folder of --out .* does not exist" -- "$DUEL" sample --checkpoint "$CK" --out "$CK/x.png"
expect_exit 2 "must end in .png" -- "$DUEL" sample --checkpoint "$CK" --out "$WORK/x.jpg"
expect_exit 2 "cannot open checkpoint" -- "$DUEL" info "$WORK/none.duel"
finish
