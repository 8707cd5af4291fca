# duel eval on a tiny checkpoint with a tiny feature network: the table, the
# JSON in <run>/eval/, the .npy files, the floor, and the errors.
source "$(dirname "$0")/lib.sh"
F="$WORK/mnist.duelfeat"
"$DUEL" features train --dataset mnist --data-path "$FIXTURES/idx" --out "$F" --steps 3 --batch 32 --threads 1 >/dev/null 2>&1 \
  || fail "features train"
"$DUEL" train --out "$WORK/r" "${TINY[@]}" --set train.steps=4 >/dev/null 2>&1 || fail "train"
CK="$WORK/r/checkpoints/latest.duel"
out=$("$DUEL" eval --checkpoint "$CK" --n 32 --features "$F" --save-features "$WORK/feat" --threads 1 2>&1) || fail "eval: $out"
for want in "FID" "KID x 1000" "Inception Score" "precision" "recall" "density" "coverage" "SWD pixels" "SWD features" \
            "real floor" "wrote $WORK/r/eval/step-000004.json"; do
  grep -qF "$want" <<<"$out" || fail "table lacks '$want': $out"
done
# The columns line up on screen: the ± (two bytes, one column) does not shift the KID row.
python3 -c '
import sys
rows = {l.split("  ")[1]: l for l in sys.stdin.read().splitlines() if l.startswith("  FID ") or l.startswith("  KID x 1000 ")}
cols = {k: l.index("lower is better") for k, l in rows.items()}
assert len(cols) == 2 and len(set(cols.values())) == 1, cols
' <<<"$out" || fail "the eval table columns do not line up: $(grep -E '^  (FID|KID)' <<<"$out")"
J="$WORK/r/eval/step-000004.json"
hash=$("$DUEL" features info "$F" | sed -n 's/^hash: *//p')
python3 - "$J" "$hash" <<'PY' || fail "eval JSON"
import json, sys, math
j = json.load(open(sys.argv[1]))
assert j["step"] == 4 and j["n"] == 32 and j["model"] == "dcgan", j
assert j["feature_hash"] == sys.argv[2] == j["feature_network"]["hash"], (j["feature_hash"], sys.argv[2])
assert j["feature_network"]["dataset"] == "mnist"
for part in ("metrics", "floor"):
    m = j[part]
    for k in ("fid", "precision", "recall", "density", "coverage", "swd_pixels", "swd_features"):
        assert isinstance(m[k], float) and math.isfinite(m[k]), (part, k, m.get(k))
    assert m["fid"] >= 0 and 0 <= m["precision"] <= 1 and 0 <= m["recall"] <= 1
    assert set(m["kid"]) == {"mean", "std"} and set(m["inception_score"]) == {"mean", "std"}
assert 1.0 <= j["metrics"]["inception_score"]["mean"] <= 10.0
assert "class_accuracy" not in j["metrics"]          # unconditional model
assert 0 <= j["floor"]["class_accuracy"] <= 1        # the net's accuracy on the reference
assert j["settings"]["kid_subset_size"] == 32 and j["settings"]["k"] == 3
assert "test (first 32)" in j["sets"]["reference"] and "train" in j["sets"]["floor"]
PY
for f in real_features generated_features floor_features real_probs generated_probs floor_probs; do
  [ -s "$WORK/feat/$f.npy" ] || fail "missing $f.npy"
done
# numpy (python3-numpy, from install-deps.sh) reads the .npy files back. Without it the other
# checks still run, and a run that passes them ends as skipped (under CI=true: failed), not passed.
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  /usr/bin/python3 -c "
import numpy as np
f = np.load('$WORK/feat/generated_features.npy'); p = np.load('$WORK/feat/generated_probs.npy')
assert f.dtype == np.float32 and f.shape == (32, 128), f.shape
assert p.shape == (32, 10) and abs(p.sum(1) - 1).max() < 1e-4
" || fail "numpy cannot read the .npy files"
else
  trap '[ "$FAILS" -gt 0 ] || skip "/usr/bin/python3 has no numpy (apt install python3-numpy): the .npy files were not read back"' EXIT
fi
# The same checkpoint scores the same (seeded noise, subsets and directions).
"$DUEL" eval --checkpoint "$CK" --n 32 --features "$F" --out "$WORK/again.json" --threads 1 >/dev/null 2>&1 || fail "eval again"
python3 -c "
import json; a=json.load(open('$J')); b=json.load(open('$WORK/again.json'))
assert a['metrics']==b['metrics'] and a['floor']==b['floor']
" || fail "two evaluations of one checkpoint differ"
# Known values, not ranges: the floor is real-vs-real, so its FID is the FID of the saved floor and
# reference features (recomputed here); its class accuracy is the share of the first 32 fixture test
# images whose label the net's argmax gives (labels read from the IDX file); and the 4-step generator,
# whose samples are far from the data, scores far above that floor (measured: 72.4 vs 0.28).
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  /usr/bin/python3 - "$J" "$WORK/feat" "$FIXTURES/idx-raw/t10k-labels-idx1-ubyte" <<'PY' || fail "eval figures differ from their known values"
import json, sys
import numpy as np
j, d = json.load(open(sys.argv[1])), sys.argv[2]
real = np.load(d + "/real_features.npy").astype(np.float64)
floor = np.load(d + "/floor_features.npy").astype(np.float64)
labels = np.frombuffer(open(sys.argv[3], "rb").read()[8:], np.uint8)[:32]
def fid(a, b):
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r1 @ s2 @ r1
    tr = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr
want = fid(real, floor)
print("floor FID %.9g, numpy %.9g; generated FID %.6g" % (j["floor"]["fid"], want, j["metrics"]["fid"]))
# 32 samples of 128-d features: rank-deficient covariances, hence 1e-5 rather than 1e-6
assert abs(j["floor"]["fid"] - want) <= 1e-5 * want, (j["floor"]["fid"], want)
acc = (np.load(d + "/real_probs.npy").argmax(1) == labels).mean()
assert j["floor"]["class_accuracy"] == acc, (j["floor"]["class_accuracy"], acc)
assert j["metrics"]["fid"] > 5 * j["floor"]["fid"], (j["metrics"]["fid"], j["floor"]["fid"])
PY
fi
# --no-floor skips the floor.
"$DUEL" eval --checkpoint "$CK" --n 32 --features "$F" --no-floor --out "$WORK/nofloor.json" --threads 1 >/dev/null 2>&1 \
  || fail "--no-floor"
python3 -c "import json; assert 'floor' not in json.load(open('$WORK/nofloor.json'))" || fail "--no-floor wrote a floor"
# Errors: too few samples, more than the test split holds, missing or mismatched feature networks.
expect_exit 2 "error: --n: Value 5 not in range 10 to" -- "$DUEL" eval --checkpoint "$CK" --n 5 --features "$F"
expect_exit 2 "holds 64 images, fewer than n=100" -- "$DUEL" eval --checkpoint "$CK" --n 100 --features "$F"
expect_exit 2 "does not exist" -- "$DUEL" eval --checkpoint "$CK" --n 32 --features "$WORK/none.duelfeat"
# (a copy of the binary, so that the search beside it, <bin>/../features/, finds none either)
mkdir -p "$WORK/bin" && cp "$DUEL" "$WORK/bin/duel"
out=$(cd "$WORK" && DUEL_FEATURES_DIR="$WORK/empty" "$WORK/bin/duel" eval --checkpoint "$CK" --n 32 2>&1); rc=$?
[ "$rc" = 2 ] || fail "missing default feature network: exit $rc"
grep -q "no feature network for dataset 'mnist'" <<<"$out" && grep -q "hint: run \`duel features train --dataset mnist" <<<"$out" \
  || fail "missing feature network message: $out"
"$DUEL" features train --dataset "folder:$FIXTURES/folder-rgb" --out "$WORK/rgb.duelfeat" --steps 1 --batch 8 --threads 1 >/dev/null 2>&1
expect_exit 2 "takes 3x32x32 images, got 1x28x28" -- "$DUEL" eval --checkpoint "$CK" --n 32 --features "$WORK/rgb.duelfeat"
expect_exit 2 "cannot open checkpoint|does not exist" -- "$DUEL" eval --checkpoint "$WORK/none.duel" --features "$F"
finish
