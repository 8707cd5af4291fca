# Looking inside a trained GAN through the CLI: `duel project` (files, CSV,
# latents that decode back to the reconstruction), editing with `duel sample
# --latent / --interpolate-between` (cgan class change), `duel judge` (CSV,
# AUROC checked against a pair count) and `duel encode` (codes, labels,
# scatter plot), each with bad inputs (exit 2, a message naming the file or flag).
source "$(dirname "$0")/lib.sh"
Q=(--set train.checkpoint_every=0 --set train.sample_every=0 --set train.steps=6)
"$DUEL" train --out "$WORK/d" "${TINY[@]}" "${Q[@]}" --set model.name=dcgan >/dev/null 2>&1 || fail "train dcgan"
"$DUEL" train --out "$WORK/c" "${TINY[@]}" "${Q[@]}" --set model.name=cgan >/dev/null 2>&1 || fail "train cgan"
"$DUEL" train --out "$WORK/a" "${TINY[@]}" "${Q[@]}" --set model.name=aae --set model.aae_e_width=8 \
  --set model.aae_d_hidden=16 >/dev/null 2>&1 || fail "train aae"
D="$WORK/d/checkpoints/latest.duel" C="$WORK/c/checkpoints/latest.duel" A="$WORK/a/checkpoints/latest.duel"
P=(--steps 30 --starts 2 --threads 1)

# project: 3 test images -> per-image latent + pair PNG, CSV rows, summary.
out=$("$DUEL" project -k "$D" --from-test 3 --out "$WORK/p" "${P[@]}" --compare-train 2>&1) || fail "project: $out"
grep -qE "^projected 3 image\(s\) into z of dcgan" <<<"$out" || fail "project summary: $out"
grep -qE "^reconstruction: PSNR [0-9]+\.[0-9]{2} dB" <<<"$out" || fail "no PSNR line: $out"
grep -qE "^nearest training image: PSNR" <<<"$out" || fail "no nearest-train line: $out"
for f in test-000000.npy test-000002.png latents.npy projection.csv pairs.png; do
  [ -s "$WORK/p/$f" ] || fail "project did not write $f"
done
python3 - "$WORK/p" <<'EOF' || fail "projection.csv"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/projection.csv")))
assert [r["name"] for r in rows] == ["test-000000", "test-000001", "test-000002"], rows
assert all(float(r["psnr"]) > 0 for r in rows)
assert all(0 <= int(r["nearest_train"]) < 256 for r in rows)
EOF
# One image file by path; a folder of images.
"$DUEL" sample -k "$D" --n 2 --each "$WORK/imgs" --threads 1 >/dev/null 2>&1 || fail "sample --each"
out=$("$DUEL" project -k "$D" --in "$WORK/imgs/sample-000001.png" --out "$WORK/p1" "${P[@]}" 2>&1) || fail "project file: $out"
[ -s "$WORK/p1/sample-000001.npy" ] || fail "no latent for one file"
out=$("$DUEL" project -k "$D" --in "$WORK/imgs" --out "$WORK/p2" "${P[@]}" 2>&1) || fail "project dir: $out"
grep -q "^projected 2 image(s)" <<<"$out" || fail "project dir count: $out"

# Decoding a projected latent gives back its reconstruction (the right half of its pair PNG).
out=$("$DUEL" sample -k "$D" --latent "$WORK/p/test-000001.npy" --out "$WORK/dec.png" --threads 1 2>&1) || fail "--latent: $out"
grep -q "1 decoded latent" <<<"$out" || fail "--latent output: $out"
out=$("$DUEL" sample -k "$D" --interpolate-between "$WORK/p/test-000000.npy" "$WORK/p/test-000002.npy" --steps 6 \
  --out "$WORK/walk.png" --threads 1 2>&1) || fail "--interpolate-between: $out"
[ -s "$WORK/walk.png" ] && [ -s "$WORK/walk.gif" ] || fail "interpolation files missing"

# Bad inputs of project and sample --latent.
expect_exit 2 "'$WORK/nope.png' does not exist" -- "$DUEL" project -k "$D" --in "$WORK/nope.png" --out "$WORK/x" "${P[@]}"
expect_exit 2 "holds no PNG, JPEG or BMP" -- "$DUEL" project -k "$D" --in "$FIXTURES/folder-empty" --out "$WORK/x" "${P[@]}"
expect_exit 2 "no targets" -- "$DUEL" project -k "$D" --out "$WORK/x" "${P[@]}"
expect_exit 2 "--from-test 999 asks for more" -- "$DUEL" project -k "$D" --from-test 999 --out "$WORK/x" "${P[@]}"
expect_exit 2 "--starts 0 is out of range" -- "$DUEL" project -k "$D" --from-test 1 --out "$WORK/x" --starts 0
touch "$WORK/afile"
expect_exit 2 "exists and is not a folder" -- "$DUEL" project -k "$D" --from-test 1 --out "$WORK/afile" "${P[@]}"
expect_exit 2 "model 'aae' has no generator latent" -- "$DUEL" project -k "$A" --from-test 1 --out "$WORK/x" "${P[@]}"
python3 -c "import sys; open(sys.argv[1],'wb').write(b'\x93NUMPY\x01\x00' + bytes([70,0]) + b\"{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }\".ljust(69) + b'\n' + bytes(36))" "$WORK/z9.npy"
expect_exit 2 "z9.npy' holds a latent of shape \[9\]; model 'dcgan' takes z latents of shape \[8\]" -- \
  "$DUEL" sample -k "$D" --latent "$WORK/z9.npy" --out "$WORK/x.png"
echo "garbage" > "$WORK/g.npy"
expect_exit 2 "g.npy' is not an .npy file" -- "$DUEL" sample -k "$D" --latent "$WORK/g.npy" --out "$WORK/x.png"
expect_exit 2 "--interpolate-between takes two .npy files|At least 2 required" -- \
  "$DUEL" sample -k "$D" --interpolate-between "$WORK/p/test-000000.npy" --out "$WORK/x.png"
expect_exit 2 "--mix-seed needs --latent" -- "$DUEL" sample -k "$D" --mix-seed 3 --out "$WORK/x.png"
expect_exit 2 "no per-layer styles to mix" -- "$DUEL" sample -k "$D" --latent "$WORK/p/test-000000.npy" --mix-seed 3 --out "$WORK/x.png"

# cgan: project with a class; decode the latent with every class (a class change).
out=$("$DUEL" project -k "$C" --from-test 2 --class 4 --out "$WORK/pc" "${P[@]}" 2>&1) || fail "project cgan: $out"
python3 - "$WORK/pc/projection.csv" <<'EOF' || fail "cgan projection.csv classes"
import csv, sys
assert [r["class"] for r in csv.DictReader(open(sys.argv[1]))] == ["4", "4"]
EOF
out=$("$DUEL" sample -k "$C" --latent "$WORK/pc/test-000000.npy" --out "$WORK/cc.png" --threads 1 2>&1) || fail "class change: $out"
grep -q "1 latent(s) with every class" <<<"$out" || fail "class change output: $out"
expect_exit 2 "--class 12 is out of range" -- "$DUEL" project -k "$C" --from-test 1 --class 12 --out "$WORK/x" "${P[@]}"
expect_exit 2 "interpolates within one class" -- \
  "$DUEL" sample -k "$C" --interpolate-between "$WORK/pc/test-000000.npy" "$WORK/pc/test-000001.npy" --out "$WORK/x.png"

# judge: scores of a folder; AUROC of test images against the model's own samples, checked by a pair count.
out=$("$DUEL" judge -k "$D" --in "$WORK/imgs" --out "$WORK/j.csv" --threads 1 2>&1) || fail "judge --in: $out"
grep -qE "^in +2 images" <<<"$out" || fail "judge --in output: $out"
out=$("$DUEL" judge -k "$D" --real-test 20 --fake-samples 20 --out "$WORK/jj.csv" --threads 1 2>&1) || fail "judge auroc: $out"
auc=$(sed -nE 's/^AUROC real vs fake: ([0-9.]+).*/\1/p' <<<"$out")
[ -n "$auc" ] || fail "no AUROC: $out"
python3 - "$WORK/jj.csv" "$auc" <<'EOF' || fail "judge CSV / AUROC"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
real = [float(r["score"]) for r in rows if r["set"] == "real"]; fake = [float(r["score"]) for r in rows if r["set"] == "fake"]
assert len(real) == 20 and len(fake) == 20
auc = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in real for q in fake) / 400
assert abs(auc - float(sys.argv[2])) < 1e-4, (auc, sys.argv[2])
EOF
out=$("$DUEL" judge -k "$C" --in "$WORK/imgs" --out "$WORK/jc.csv" --threads 1 2>&1) || fail "judge cgan: $out"
python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert all(0<=int(x['class'])<10 for x in r)" "$WORK/jc.csv" \
  || fail "judge cgan classes"
expect_exit 2 "--real needs its counterpart" -- "$DUEL" judge -k "$D" --real "$WORK/imgs"
expect_exit 2 "--fake '$WORK/none' does not exist" -- "$DUEL" judge -k "$D" --real "$WORK/imgs" --fake "$WORK/none"
expect_exit 2 "nothing to judge" -- "$DUEL" judge -k "$D"
expect_exit 2 "model 'aae' has no discriminator" -- "$DUEL" judge -k "$A" --in "$WORK/imgs"
expect_exit 2 "--out '$WORK/j.txt' must end in .csv" -- "$DUEL" judge -k "$D" --in "$WORK/imgs" --out "$WORK/j.txt"

# encode: codes of the test split with their labels and a scatter plot (PCA of 8-D codes).
out=$("$DUEL" encode -k "$A" --from-test 40 --out "$WORK/codes.npy" --scatter "$WORK/codes.png" --threads 1 2>&1) ||
  fail "encode: $out"
grep -q "^encoded 40 image(s) with aae .* into 8-dimensional codes" <<<"$out" || fail "encode output: $out"
grep -qE "^scatter plot of principal components 1-2 of the codes \([0-9.]+ % of the variance\)" <<<"$out" || fail "scatter: $out"
/usr/bin/python3 - "$WORK" <<'EOF' || fail "codes files"
import numpy, sys
c = numpy.load(sys.argv[1] + "/codes.npy"); l = numpy.load(sys.argv[1] + "/codes-labels.npy")
assert c.shape == (40, 8) and c.dtype == numpy.float32, c.shape
assert l.shape == (40,) and l.min() >= 0 and l.max() < 10
EOF
out=$("$DUEL" encode -k "$A" --in "$FIXTURES/folder-rgb" --out "$WORK/rgb.npy" --threads 1 2>&1) || fail "encode folder: $out"
grep -q "their classes (3)" <<<"$out" || fail "class subfolders not read as labels: $out"
expect_exit 2 "model 'dcgan' has no encoder" -- "$DUEL" encode -k "$D" --from-test 4 --out "$WORK/x.npy"
expect_exit 2 "--out '$WORK/x.txt' must end in .npy" -- "$DUEL" encode -k "$A" --from-test 4 --out "$WORK/x.txt"
expect_exit 2 "holds no PNG, JPEG or BMP" -- "$DUEL" encode -k "$A" --in "$FIXTURES/folder-empty" --out "$WORK/x.npy"
finish
