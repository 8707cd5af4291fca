# Real data (slow label): 400 steps of the dcgan28 preset on Fashion-MNIST
# must already produce garment-like samples, as the feature network sees
# them: FID below 80 (measured: 50.1 at n=2000) and under half that of a
# generator trained for one step (measured: 124.2).
source "$(dirname "$0")/lib.sh"
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "dataset-fashion-mnist not installed"; exit 1; }
R="$WORK/run"
"$DUEL" train --config "$SOURCE_DIR/configs/dcgan28.toml" --out "$R" --set train.steps=400 --threads 2 >/dev/null 2>&1 || fail "train"
"$DUEL" train --config "$SOURCE_DIR/configs/dcgan28.toml" --out "$WORK/untrained" --set train.steps=1 --threads 2 >/dev/null 2>&1 || fail "train 1 step"
fid() { "$DUEL" eval --checkpoint "$1/checkpoints/latest.duel" --n 2000 --no-floor --threads 2 \
          --features "$SOURCE_DIR/features/fashion-mnist.duelfeat" 2>&1 | awk '$1 == "FID" {print $2}'; }
trained=$(fid "$R"); untrained=$(fid "$WORK/untrained")
echo "FID after 400 steps: $trained; after 1 step: $untrained"
awk -v t="$trained" -v u="$untrained" 'BEGIN { exit !(t > 0 && t < 80 && u > 2 * t) }' || fail "FID $trained (untrained $untrained)"
finish
