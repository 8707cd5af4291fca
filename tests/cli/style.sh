# progan and stylegan through the CLI on the tiny generated RGB folder (32 px):
# training through growth phases, a resume in the middle of a fade that
# continues bit for bit (with ADA's and lazy R1's state), truncation sweeps
# and style-mixing grids, and clear refusals of what does not fit.
source "$(dirname "$0")/lib.sh"
rgb=(--set "data.dataset=folder:$FIXTURES/folder-rgb" --set data.image_size=32 --set data.channels=3
     --set train.batch_size=4 --set model.g_width=4 --set model.d_width=4 --set model.max_width=8
     --set model.latent_dim=8 --set model.style_dim=8 --set sample.grid=4 --set train.log_every=1
     --set train.sample_every=0 --threads 1)
png_size() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print(*struct.unpack(">II", d[16:24]))' "$1"; }

# progan, 10 images per stretch, batch 4: steps 0-2 at 4 px, the 8 px fade from
# step 3 (alpha 0.2, 0.6), stable from step 5. The step-4 checkpoint is mid-fade.
"$DUEL" train --out "$WORK/progan-a" --set model.name=progan --set model.phase_images=10 "${rgb[@]}" \
  --set train.steps=8 --set train.checkpoint_every=4 >"$WORK/progan.log" 2>&1 ||
  { fail "progan: training failed"; tail -3 "$WORK/progan.log" >&2; }
col=$(head -1 "$WORK/progan-a/metrics.csv" | tr , '\n' | grep -nx resolution | cut -d: -f1)
acol=$(head -1 "$WORK/progan-a/metrics.csv" | tr , '\n' | grep -nx alpha | cut -d: -f1)
[ -n "$col" ] && [ -n "$acol" ] || fail "progan logs no resolution/alpha columns"
got=$(tail -n +2 "$WORK/progan-a/metrics.csv" | cut -d, -f"$col","$acol" | tr '\n' ' ')
[ "$got" = "4,1 4,1 4,1 8,0.2 8,0.6 8,1 8,1 8,1 " ] || fail "progan schedule: $got"
resume_matches progan "$WORK/progan-a"
info=$("$DUEL" info "$WORK/progan-a/checkpoints/step-000004.duel")
grep -qE "^state progan.alpha +0.6$" <<<"$info" && grep -qE "^state progan.resolution +8$" <<<"$info" ||
  fail "duel info does not show the mid-fade phase: $(grep ^state <<<"$info")"
[ "$(png_size "$WORK/progan-a/samples/final.png" | cut -d' ' -f1)" -gt 64 ] || fail "progan grid is not of 32 px images"

# stylegan with ADA's p starting at 0.5 and moving fast (D is unsure of the reals at first, so
# p falls by 16/100 every 4 updates) and R1 every 3rd update: both states must survive the resume.
"$DUEL" train --out "$WORK/stylegan-a" --set model.name=stylegan "${rgb[@]}" --set train.ada_target=0.6 \
  --set train.ada_p=0.5 --set train.ada_speed=100 --set train.r1_every=3 --set train.ema=0.9 --set train.steps=8 \
  --set train.checkpoint_every=4 >"$WORK/stylegan.log" 2>&1 ||
  { fail "stylegan: training failed"; tail -3 "$WORK/stylegan.log" >&2; }
pcol=$(head -1 "$WORK/stylegan-a/metrics.csv" | tr , '\n' | grep -nx ada_p | cut -d: -f1)
[ -n "$pcol" ] || fail "stylegan logs no ada_p"
p4=$(sed -n 6p "$WORK/stylegan-a/metrics.csv" | cut -d, -f"$pcol")
awk -v p="$p4" 'BEGIN { exit !(p > 0 && p < 0.5) }' || fail "ADA's p did not move from 0.5 (step 5: $p4)"
resume_matches stylegan "$WORK/stylegan-a"

k="$WORK/stylegan-a/checkpoints/latest.duel"
"$DUEL" sample -k "$k" --out "$WORK/t07.png" --n 4 --truncation 0.7 >/dev/null 2>&1 || fail "sample --truncation 0.7"
"$DUEL" sample -k "$k" --out "$WORK/sweep.png" --truncation 1,0.5,0 --rows 2 >/dev/null 2>&1 || fail "truncation sweep"
read -r w h < <(png_size "$WORK/sweep.png")
[ "$w" -gt "$h" ] || fail "sweep of 3 psi x 2 rows is ${w}x$h"
out=$("$DUEL" sample -k "$k" --out "$WORK/mix.png" --mix 1,2 --crossover 3 --rows 2 --steps 3 2>&1) ||
  fail "sample --mix: $out"
grep -q "style-mixing grid" <<<"$out" || fail "sample --mix says: $out"
"$DUEL" sample -k "$k" --out "$WORK/mix2.png" --mix 1,2 --crossover 3 --rows 2 --steps 3 >/dev/null 2>&1 || fail "sample --mix again"
cmp -s "$WORK/mix.png" "$WORK/mix2.png" || fail "the mixing grid is not reproducible"
read -r w h < <(png_size "$WORK/mix.png")
[ "$w" -gt "$h" ] || fail "mixing grid of 3 rows x 4 columns is ${w}x$h"
# Control: another crossover draws another grid (the control command itself must succeed).
if out=$("$DUEL" sample -k "$k" --out "$WORK/mix0.png" --mix 1,2 --crossover 0 --rows 2 --steps 3 2>&1) && [ -s "$WORK/mix0.png" ]; then
  cmp -s "$WORK/mix.png" "$WORK/mix0.png" && fail "crossover 0 and 3 drew the same grid"
else
  fail "control: sample --mix --crossover 0 failed: $(tail -3 <<<"$out")"
fi

pk="$WORK/progan-a/checkpoints/latest.duel"
expect_exit 2 "style-based generator.*progan" -- "$DUEL" sample -k "$pk" --out "$WORK/x.png" --truncation 0.7
expect_exit 2 "'1.5' is not a number in \[0, 1\]" -- "$DUEL" sample -k "$k" --out "$WORK/x.png" --truncation 1.5
expect_exit 2 "--truncation: 'abc' is not a number in \[0, 1\]" -- "$DUEL" sample -k "$k" --out "$WORK/x.png" --truncation 0.5,abc
expect_exit 2 "--mix '7' is not two seeds" -- "$DUEL" sample -k "$k" --out "$WORK/x.png" --mix 7
expect_exit 2 "--crossover 99 is out of range.*8 style layers" -- "$DUEL" sample -k "$k" --out "$WORK/x.png" --mix 1,2 --crossover 99
expect_exit 2 "--crossover needs --mix" -- "$DUEL" sample -k "$k" --out "$WORK/x.png" --crossover 2
expect_exit 2 "cannot be combined" -- "$DUEL" sample -k "$k" --out "$WORK/x.png" --mix 1,2 --interpolate
[ -e "$WORK/x.png" ] && fail "a refused command wrote its output"
expect_exit 2 "model 'stylegan' cannot be exported to ONNX" -- "$DUEL" export -k "$k" --out "$WORK/x.onnx"
expect_exit 2 "model 'progan' cannot be exported to ONNX" -- "$DUEL" export -k "$pk" --out "$WORK/x.onnx"
[ -e "$WORK/x.onnx" ] && fail "a refused export wrote a file"
expect_exit 2 "progressive models do not support image size 30" -- \
  "$DUEL" train --out "$WORK/bad" --set model.name=stylegan "${rgb[@]}" --set data.image_size=30 --set train.steps=1
[ -e "$WORK/bad" ] && fail "a refused run left its folder"
expect_exit 2 "train.ada_target" -- \
  "$DUEL" train --out "$WORK/bad" --set model.name=stylegan "${rgb[@]}" --set train.ada_target=1.5 --set train.steps=1
finish
