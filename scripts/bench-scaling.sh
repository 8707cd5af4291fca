#!/usr/bin/env bash
# Images/s and peak memory of the dcgan training step against batch size and
# resolution, as a markdown table (docs/performance.md).
#
#   scripts/bench-scaling.sh [--threads N] [--device cpu|cuda] [--batches "16 64 256"] [--sizes "28 32 64"]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=$(nproc) DEVICE=cpu BATCHES="16 64 256" SIZES="28 32 64"
BENCH=${DUEL_BENCH:-build/duel-bench}
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --batches) BATCHES=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    *) echo "usage: $0 [--threads N] [--device cpu|cuda] [--batches LIST] [--sizes LIST]" >&2; exit 2 ;;
  esac
done
[ -x "$BENCH" ] || { echo "error: $BENCH not built; run 'make build' first" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1
echo "| batch | size | img/s | ms/step | max RSS (MiB) | GPU peak (MiB) |"
echo "|---|---|---|---|---|---|"
for b in $BATCHES; do
  for s in $SIZES; do
    # About 4 s of work per point on 2 cores: fewer steps for bigger work.
    steps=$(( 12000 / (b * (s / 28 + 1) * (s / 28 + 1)) )); [ "$steps" -lt 3 ] && steps=3
    [ "$DEVICE" = cuda ] && steps=200
    j=$("$BENCH" --config configs/dcgan28.toml --synthetic --steps "$steps" --warmup 2 --threads "$THREADS" \
          --set "run.device=$DEVICE" --set "train.batch_size=$b" --set "data.image_size=$s")
    ips=$(sed -E 's/.*"img_per_s": ([0-9.]+).*/\1/' <<<"$j")
    rss=$(sed -E 's/.*"max_rss_mb": ([0-9.]+).*/\1/' <<<"$j")
    gpu=$(sed -E 's/.*"gpu_peak_mb": ([0-9.]+).*/\1/' <<<"$j")
    ms=$(awk -v i="$ips" -v b="$b" 'BEGIN {printf "%.1f", 1000 * b / i}')
    echo "| $b | $s | $ips | $ms | $rss | $gpu |"
  done
done
