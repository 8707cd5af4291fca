# Real data (slow, ~4 minutes on 2 cores): the default feature network reaches
# at least 92% test accuracy on Fashion-MNIST, and evaluating 10,000
# generated + 10,000 real images (plus the 10,000-image floor) of a dcgan28
# checkpoint takes under a minute.
source "$(dirname "$0")/lib.sh"
DATA=/usr/share/datasets/fashion-mnist
[ -s "$DATA/t10k-images-idx3-ubyte.gz" ] || skip "$DATA missing (install dataset-fashion-mnist)"
F="$WORK/fashion-mnist.duelfeat"
out=$("$DUEL" features train --dataset fashion-mnist --out "$F" 2>&1) || fail "features train: $out"
acc=$(sed -n 's/^test accuracy: *\([0-9.]*\) on 10000 images/\1/p' <<<"$out")
echo "feature network test accuracy: $acc"
python3 -c "import sys; sys.exit(0 if float('$acc') >= 0.92 else 1)" || fail "accuracy $acc < 0.92"
# A short dcgan28 run is enough to time the evaluation (its scores are not checked).
"$DUEL" train --config "$SOURCE_DIR/configs/dcgan28.toml" --out "$WORK/r" --set train.steps=50 >/dev/null 2>&1 || fail "train"
start=$(date +%s.%N)
out=$("$DUEL" eval --checkpoint "$WORK/r/checkpoints/latest.duel" --features "$F" --n 10000 2>&1) || fail "eval: $out"
secs=$(python3 -c "import time; print(round($(date +%s.%N) - $start, 1))")
echo "$out" | tail -16
echo "eval of 10000 + 10000 (+ 10000 floor) images: $secs s"
python3 -c "import sys; sys.exit(0 if $secs < 60 else 1)" || fail "evaluation took $secs s (limit 60 s)"
finish
