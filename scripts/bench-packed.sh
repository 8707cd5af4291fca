#!/usr/bin/env bash
# Training from a packed dataset larger than memory (docs/performance.md).
# Writes a synthetic packed set of 64 px RGB images of GB gigabytes (default
# 30, more than this machine's memory), then measures dcgan's training step
# with the loader reading batches from the file, against the same set's first
# 5 % copied into memory. Prints the write time, images/s and max RSS of
# both, and the ratio. The file is deleted at the end, whatever happens.
#
#   scripts/bench-packed.sh [--gb 30] [--steps 150] [--dir /var/tmp]
set -euo pipefail
GB=30; STEPS=150; DIR=/var/tmp; THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --gb) GB=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    *) echo "usage: $0 [--gb N] [--steps N] [--dir DIR]" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD=${BUILD:-$ROOT/build}
FILE="$DIR/duel-bench-packed.$$.dueldata"
trap 'rm -f "$FILE"' EXIT
export OPENBLAS_NUM_THREADS=1
N=$(( GB * 1000000000 / (64 * 64 * 3) ))
echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB; writing $N images of 3x64x64 ($GB GB) to $FILE"
"$BUILD/duel-bench-packed" "$FILE" "$N" 64 3
ls -l "$FILE"
run() {
  "$BUILD/duel-bench" --config "$ROOT/configs/dcgan28.toml" --set "data.dataset=packed:$FILE" \
    --set data.image_size=0 --set data.channels=0 --steps "$STEPS" --threads "$THREADS" "$@"
}
A=$(run); echo "from the file:      $A"
B=$(run --set data.limit=$(( N / 20 )) --set data.in_memory=true); echo "first 5 % in memory: $B"
/usr/bin/python3 - "$A" "$B" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"images/s: file {a['img_per_s']:.1f}, memory {b['img_per_s']:.1f}, ratio {a['img_per_s'] / b['img_per_s']:.3f}")
print(f"max RSS:  file {a['max_rss_mb']:.0f} MB, memory {b['max_rss_mb']:.0f} MB")
PY
