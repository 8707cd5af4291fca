#!/usr/bin/env bash
# Times duel's dcgan28 training step and the PyTorch eager reference
# (../shared/bench/dcgan_ref.py) side by side on the same cores, alternating
# the two REPS times, and prints both medians and their ratio.
#
#   scripts/bench-compare.sh [--reps 5] [--steps 100] [--threads 2] [--synthetic] [--device cpu|cuda]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=5 STEPS=100 THREADS=$(nproc) SYNTH="" DEVICE=cpu
REF=${DUEL_REF:-../shared/bench/dcgan_ref.py}
BENCH=${DUEL_BENCH:-build/duel-bench}
PYTHON=${DUEL_PYTHON:-/usr/bin/python3}
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --synthetic) SYNTH=--synthetic; shift ;;
    --device) DEVICE=$2; shift 2 ;;
    *) echo "usage: $0 [--reps N] [--steps N] [--threads N] [--synthetic] [--device cpu|cuda]" >&2; exit 2 ;;
  esac
done
[ -x "$BENCH" ] || { echo "error: $BENCH not built; run 'make build' first" >&2; exit 2; }
[ -f "$REF" ] || { echo "error: reference $REF not found (expected beside the project in ../shared)" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$THREADS
ours=() theirs=()
for i in $(seq "$REPS"); do
  r=$("$PYTHON" "$REF" --steps "$STEPS" --threads "$THREADS" --device "$DEVICE" $SYNTH)
  d=$("$BENCH" --config configs/dcgan28.toml --steps "$STEPS" --threads "$THREADS" --set "run.device=$DEVICE" $SYNTH)
  echo "rep $i  reference: $r" >&2
  echo "rep $i  duel:      $d" >&2
  theirs+=("$(sed -E 's/.*"img_per_s": ([0-9.]+).*/\1/' <<<"$r")")
  ours+=("$(sed -E 's/.*"img_per_s": ([0-9.]+).*/\1/' <<<"$d")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m_ref=$(median "${theirs[@]}") m_duel=$(median "${ours[@]}")
ratio=$(awk -v a="$m_duel" -v b="$m_ref" 'BEGIN {printf "%.2f", a / b}')
echo "dcgan28 training step, batch 64, $THREADS thread(s), device $DEVICE, $REPS reps x $STEPS steps"
echo "pytorch-eager median img/s: $m_ref"
echo "duel median img/s:          $m_duel"
echo "ratio (duel / reference):   $ratio"
