# model.name = scripted: G and D written in Python (tests/cli/scripted_reference.py),
# saved with torch.jit.script, trained by duel. The first 10 steps' losses equal a plain
# PyTorch loop's on the same nets, weights, batch and noise; the run resumes bit for bit,
# samples, evaluates and reports; the checkpoint carries the networks' files; ONNX export
# and contract violations are refused with messages naming the file and the mismatch.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c "import torch" 2>/dev/null || skip "/usr/bin/python3 has no torch (apt install python3-torch)"
REF="$(cd "$(dirname "$0")" && pwd)/scripted_reference.py"
IDX=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
[ -f "$IDX" ] || skip "Fashion-MNIST is not installed (apt install dataset-fashion-mnist)"
cd "$WORK" || exit 1
$PY "$REF" nets . || fail "writing the networks"
S=(--set model.name=scripted --set model.generator=G.pt --set model.discriminator=D.pt --set model.latent_dim=16
   --set data.limit=64 --set train.batch_size=64 --set run.seed=7 --set sample.grid=16 --threads 1)

# 1. The first 10 steps agree with the PyTorch loop (label smoothing 0.1 exercises the targets).
$PY "$REF" reference . "$IDX" 10 7 16 0.1 >ref.csv || fail "reference loop"
"$DUEL" train --out eq "${S[@]}" --set train.steps=10 --set train.log_every=1 --set train.label_smoothing=0.1 \
  --set train.smoothing_mode=fixed >eq.log 2>&1 || fail "duel train: $(tail -3 eq.log)"
$PY - ref.csv eq/metrics.csv <<'PY' || fail "losses differ from the PyTorch loop"
import csv, sys
ref = list(csv.DictReader(open(sys.argv[1])))
duel = list(csv.DictReader(open(sys.argv[2])))
assert len(ref) == 10 and len(duel) == 10, (len(ref), len(duel))
worst = 0.0
for r, d in zip(ref, duel):
    for k in ("loss_d", "loss_g"):
        a, b = float(r[k]), float(d[k])
        worst = max(worst, abs(a - b) / max(abs(a), 1e-6))
print(f"largest relative difference over 10 steps: {worst:.2e}")
assert worst < 1e-4, worst
# The nets learn: D's loss falls over the 10 steps.
assert float(duel[-1]["loss_d"]) < float(duel[0]["loss_d"]) - 0.05, (duel[0]["loss_d"], duel[-1]["loss_d"])
PY
# The check can fail: other noise (another seed) gives other losses.
$PY "$REF" reference . "$IDX" 10 8 16 0.1 >ref8.csv || fail "reference loop, seed 8"
cmp -s <(cut -d, -f2 ref8.csv | cut -c1-6) <(cut -d, -f3 eq/metrics.csv | cut -c1-6) && fail "seed 8 matches seed 7"

# 2. Stabilisers, EMA and d_steps train; the run resumes bit for bit.
X=(--set train.ema=0.99 --set train.d_steps=2 --set train.r1_weight=1 --set train.checkpoint_every=4
   --set train.sample_every=0 --set train.label_flip=0.1 --set model.d_dropout=0)
"$DUEL" train --out a "${S[@]}" "${X[@]}" --set train.steps=8 >a.log 2>&1 || fail "stabilised run: $(tail -3 a.log)"
resume_matches scripted "$WORK/a"

# 3. The checkpoint carries the networks: sample, eval and report work with the files gone.
mkdir -p keep && mv G.pt D.pt keep/
"$DUEL" sample --checkpoint a --n 8 --out s.png --threads 1 >s.log 2>&1 || fail "sample without G.pt: $(tail -3 s.log)"
[ -s s.png ] || fail "no sample grid"
"$DUEL" eval --checkpoint a --n 64 --no-floor --threads 1 >e.log 2>&1 || fail "eval: $(tail -3 e.log)"
grep -qi "fid" e.log || fail "eval printed no FID: $(tail -3 e.log)"
"$DUEL" report a >r.log 2>&1 || fail "report: $(tail -3 r.log)"
"$DUEL" train --resume a --set train.steps=10 --threads 1 >ra.log 2>&1 || fail "resume without G.pt: $(tail -3 ra.log)"
mv keep/G.pt keep/D.pt .

# 4. ONNX export is refused with the way to do it from Python.
expect_exit 2 "its generator is a TorchScript program \(model.generator" -- "$DUEL" export --checkpoint a --out a.onnx
[ -e a.onnx ] && fail "a refused export left a.onnx"

# 5. Conditional networks take the labels; the preview has one class per row.
"$DUEL" train --out c "${S[@]}" --set model.generator=cG.pt --set model.discriminator=cD.pt \
  --set train.steps=4 >c.log 2>&1 || fail "conditional: $(tail -3 c.log)"
"$DUEL" sample --checkpoint c --class 3 --n 4 --out c3.png --threads 1 >/dev/null 2>&1 || fail "sample --class"

# 6. The contract, checked before anything is written.
bad() { "$DUEL" train --out "bad_$1" "${S[@]}" --set train.steps=2 "${@:3}"; }
expect_exit 2 "model.generator 'bad_range.pt' returns values outside \[-1, 1\] \(largest" -- bad range x --set model.generator=bad_range.pt
expect_exit 2 "returns \[2, 784\] for z \[2, 16\]; the data needs images \[2, 1, 28, 28\]" -- bad shape x --set model.generator=bad_shape.pt
expect_exit 2 "model.discriminator 'bad_flatten.pt' fails on images \[2, 1, 28, 28\]: RuntimeError: mat1 and mat2" -- bad flat x --set model.discriminator=bad_flatten.pt
expect_exit 2 "fails on z \[2, 10\] \(model.latent_dim = 10\)" -- bad latent x --set model.latent_dim=10
expect_exit 2 "'not_torchscript.pt' is not a TorchScript file" -- bad ts x --set model.generator=not_torchscript.pt
expect_exit 2 "cannot open model.discriminator 'nope.pt'" -- bad missing x --set model.discriminator=nope.pt
expect_exit 2 "needs model.generator and model.discriminator" -- "$DUEL" train --out bad_unset --set model.name=scripted --threads 1
expect_exit 2 "takes 1 input\(s\) but model.generator 'cG.pt' takes 2" -- bad mixed x --set model.generator=cG.pt
for d in bad_range bad_shape bad_flat bad_latent bad_ts bad_missing bad_unset bad_mixed; do
  [ -e "$d" ] && fail "a refused start left $d behind"
done
finish
