# Real data in the default suite: the dcgan28 preset trained STEPS steps on
# Fashion-MNIST must score a FID (duel eval, the committed feature network,
# n = EVAL_N) far below the same nets after 1 step (the same seed, so the same
# initial weights), both measured here. Budget: 60 s wall on 2 threads
# (at the 600+ img/s of docs/performance.md, 100 steps of batch 64 take ~10 s;
# each eval of 1000 generated + 1000 real images ~3 s, KID/SWD cut to one
# subset / 8 directions since only the FID is checked).
# Measured (n = 1000, seed 1 of the preset): FID 122.8 after 1 step, 102.0
# after 50, 93.6 after 100 (400 steps reach ~50, slow_train_fashion.sh).
# Required: after STEPS=100, FID < 0.85 x the 1-step FID (0.76 measured) and
# < 110 (93.6 measured). The 1-step and 100-step figures differ by ~29, far
# beyond the ~1-2 that another draw of 1000 samples moves a FID of ~100; a
# generator that did not learn (e.g. STEPS=1) fails both.
source "$(dirname "$0")/lib.sh"
DATA=/usr/share/datasets/fashion-mnist
[ -s "$DATA/train-images-idx3-ubyte.gz" ] || skip "$DATA missing (install dataset-fashion-mnist)"
NET="$SOURCE_DIR/features/fashion-mnist.duelfeat"
STEPS=${STEPS:-100} EVAL_N=${EVAL_N:-1000}
SECONDS=0
fid_after() {  # fid_after NAME STEPS: train the preset that long, print its FID
  local run="$WORK/$1"; shift
  "$DUEL" train --out "$run" --config "$SOURCE_DIR/configs/dcgan28.toml" --set train.steps="$1" \
    --set train.sample_every=0 --set train.checkpoint_every=0 --set train.log_every=50 --threads 2 \
    >"$run.log" 2>&1 || { fail "train $1 steps: $(tail -3 "$run.log")"; return; }
  "$DUEL" eval --checkpoint "$run/checkpoints/latest.duel" --n "$EVAL_N" --no-floor --features "$NET" \
    --kid-subsets 1 --swd-projections 8 --out "$run.json" --threads 2 >"$run-eval.log" 2>&1 || { fail "eval $1 steps: $(tail -3 "$run-eval.log")"; return; }
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['fid'])" "$run.json"
}
untrained=$(fid_after untrained 1)
trained=$(fid_after trained "$STEPS")
echo "FID after 1 step: $untrained; after $STEPS steps: $trained (n=$EVAL_N; ${SECONDS} s)"
python3 - "$untrained" "$trained" <<'PY' || fail "training on real data did not lower the FID enough"
import sys
untrained, trained = float(sys.argv[1]), float(sys.argv[2])
assert trained < 110, "FID after training %.1f >= 110" % trained
assert trained < 0.85 * untrained, "FID %.1f is not below 0.85 x %.1f" % (trained, untrained)
PY
finish
