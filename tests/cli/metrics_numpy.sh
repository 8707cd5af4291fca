# duel eval's figures against an independent implementation: the feature
# matrices `duel eval --save-features` writes are scored again by the numpy
# script below (written from the papers' definitions, docs/metrics.md; no
# scipy: the matrix square root from numpy's eigendecomposition), and every
# figure in the eval JSON must agree:
#   FID, Inception Score, precision, recall, density, coverage: 1e-6 relative;
#   KID: with --kid-subset-size >= n every subset is the whole set (a
#     permutation, which MMD does not see), so it must agree to float32
#     round-off of its kernel terms; with smaller subsets (duel's draw comes
#     from LibTorch's generator and cannot be repeated in numpy) numpy draws
#     its own subsets and the two means must agree within their subset noise.
# Real Fashion-MNIST, the committed feature network, and a dcgan trained for
# 2 steps (n = 300 per set: more than the 128 feature dimensions, so the
# covariances are full rank). Both the generated figures and the floor's
# (the 2-step generator's samples are all alike: its precision/recall/density/
# coverage are 0 and its IS ~1, so those are checked non-trivially on the
# floor, real train vs real test, and IS on the reference images).
# Measured: FID 123.309155484 (numpy 123.309155485), floor FID 3.04828187 (rel.
# diff 3e-8); floor P/R/D/C 0.91/0.91/0.9789/0.8767 equal; KID whole-set diff 2e-9.
source "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c "import numpy" 2>/dev/null || skip "python3-numpy missing"
DATA=/usr/share/datasets/fashion-mnist
[ -s "$DATA/t10k-images-idx3-ubyte.gz" ] || skip "$DATA missing (install dataset-fashion-mnist)"
NET="$SOURCE_DIR/features/fashion-mnist.duelfeat"
N=${N:-300}
"$DUEL" train --out "$WORK/r" --config "$SOURCE_DIR/configs/dcgan28.toml" --set train.steps=2 --set train.batch_size=16 \
  --set model.g_width=8 --set model.d_width=8 --set train.sample_every=0 --set train.log_every=1 --threads 1 \
  >"$WORK/train.log" 2>&1 || fail "train: $(tail -3 "$WORK/train.log")"
CK="$WORK/r/checkpoints/latest.duel"
"$DUEL" eval --checkpoint "$CK" --n "$N" --features "$NET" --kid-subset-size "$N" --kid-subsets 3 \
  --save-features "$WORK/feat" --out "$WORK/full.json" --threads 1 >"$WORK/eval-full.log" 2>&1 \
  || fail "eval (whole-set KID): $(tail -3 "$WORK/eval-full.log")"
"$DUEL" eval --checkpoint "$CK" --n "$N" --features "$NET" --kid-subset-size 100 --kid-subsets 50 \
  --out "$WORK/sub.json" --threads 1 >"$WORK/eval-sub.log" 2>&1 || fail "eval (KID subsets): $(tail -3 "$WORK/eval-sub.log")"
/usr/bin/python3 - "$WORK/feat" "$WORK/full.json" "$WORK/sub.json" <<'PY' || fail "duel eval disagrees with numpy"
import json, sys
import numpy as np

feat, full, sub = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
load = lambda name: np.load("%s/%s.npy" % (feat, name)).astype(np.float64)
real, gen, floor = load("real_features"), load("generated_features"), load("floor_features")
real_p, gen_p = load("real_probs"), load("generated_probs")
k = full["settings"]["k"]
splits = full["settings"]["is_splits"]
failures = []

def agree(what, got, want, rel):
    err = abs(got - want) / max(abs(want), 1e-12)
    print("%-28s duel %.12g  numpy %.12g  rel.diff %.2e (limit %.0e)" % (what, got, want, err, rel))
    if not err <= rel: failures.append(what)

def fid(a, b):
    # |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr (S1 S2)^(1/2), unbiased covariances (N - 1). The trace of the
    # square root: S1^1/2 = V diag(sqrt w) V^T from numpy's eigh, then the square roots of the eigenvalues
    # of S1^1/2 S2 S1^1/2 (similar to S1 S2, but symmetric). Also by the eigenvalues of S1 S2 itself
    # (np.linalg.eigvals, non-symmetric; less accurate: printed, not checked).
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r1 @ s2 @ r1
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    tr_sqrt_ns = np.sqrt(np.clip(np.linalg.eigvals(s1 @ s2).real, 0, None)).sum()
    base = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2))
    print("  (FID by the eigenvalues of S1 S2: %.12g)" % (base - 2 * tr_sqrt_ns))
    return base - 2 * tr_sqrt

def mmd2(x, y):  # unbiased MMD^2, kernel (x.y/d + 1)^3
    d = x.shape[1]
    kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean()), kxy.mean()

def inception(p):
    n, scores = len(p), []
    for s in range(splits):
        part = p[s * n // splits:(s + 1) * n // splits]
        marg = part.mean(0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marg)), 0.0).sum(1)
        scores.append(np.exp(kl.mean()))
    return np.mean(scores), np.std(scores)

def dist(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

def manifold(r, f):
    drr, dff, dfr = dist(r, r), dist(f, f), dist(f, r)  # dfr[j, i]: fake j to real i
    rr = np.sort(drr, 1)[:, k]  # k-th nearest other point (column 0 is the point itself)
    fr = np.sort(dff, 1)[:, k]
    precision = (dfr <= rr[None, :]).any(1).mean()
    recall = (dfr <= fr[:, None]).any(0).mean()
    density = (dfr < rr[None, :]).sum() / (k * len(f))
    coverage = (dfr.min(0) < rr).mean()
    # the closest call of each comparison, to show how far from a tie the set is
    margin = np.abs(dfr - rr[None, :]).min() / rr.mean()
    return dict(precision=precision, recall=recall, density=density, coverage=coverage), margin

for part, other in (("metrics", gen), ("floor", floor)):
    j = full[part]
    agree(part + " FID", j["fid"], fid(real, other), 1e-6)
    want, kxy = mmd2(real, other)
    # duel computes the kernel in float32 (docs/metrics.md): its error is float32 round-off of the
    # kernel terms (~1 in magnitude each), not of their much smaller difference
    err = abs(j["kid"]["mean"] - want)
    print("%-28s duel %.12g  numpy %.12g  abs.diff %.2e (limit %.1e = 1e-5 x mean kernel)"
          % (part + " KID, whole set", j["kid"]["mean"], want, err, 1e-5 * kxy))
    if not err <= 1e-5 * kxy or not j["kid"]["std"] <= 1e-5 * kxy: failures.append(part + " KID whole set")
    got, margin = manifold(real, other)
    for key in ("precision", "recall", "density", "coverage"):
        agree("%s %s" % (part, key), j[key], got[key], 1e-6)
    print("  (closest fake-to-real distance vs radius: %.1e of the mean radius)" % margin)
    # KID over random subsets: numpy's own draw; the means agree within the noise of both draws
    js = sub[part]["kid"]
    size, count = sub["settings"]["kid_subset_size"], sub["settings"]["kid_subsets"]
    rng = np.random.default_rng(1)
    vals = [mmd2(real[rng.choice(len(real), size, replace=False)], other[rng.choice(len(other), size, replace=False)])[0]
            for _ in range(count)]
    noise = 4 * np.sqrt((np.var(vals) + js["std"] ** 2) / count)
    print("%-28s duel %.6g +- %.2g  numpy %.6g +- %.2g  |diff| %.2g (limit 4 sigma = %.2g)"
          % (part + " KID, subsets", js["mean"], js["std"], np.mean(vals), np.std(vals), abs(js["mean"] - np.mean(vals)), noise))
    if not abs(js["mean"] - np.mean(vals)) <= noise: failures.append(part + " KID subsets")
    if not abs(js["std"] - np.std(vals)) <= 0.5 * max(js["std"], np.std(vals)): failures.append(part + " KID subset std")

agree("metrics IS mean", full["metrics"]["inception_score"]["mean"], inception(gen_p)[0], 1e-6)
agree("metrics IS std", full["metrics"]["inception_score"]["std"], inception(gen_p)[1], 1e-6)
agree("floor IS mean (reference)", full["floor"]["inception_score"]["mean"], inception(real_p)[0], 1e-6)
agree("floor IS std (reference)", full["floor"]["inception_score"]["std"], inception(real_p)[1], 1e-6)
assert full["n"] == len(real) == len(gen) == len(floor), (full["n"], len(real), len(gen), len(floor))
if failures:
    print("disagree:", ", ".join(failures)); sys.exit(1)
PY
finish
