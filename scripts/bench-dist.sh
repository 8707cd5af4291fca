#!/usr/bin/env bash
# Data-parallel throughput on this machine (docs/performance.md): dcgan28 on
# Fashion-MNIST, one LibTorch thread per process, alternating
#   1 process  x batch 64
#   2 processes x batch 32 (global 64: the same training run)
#   2 processes x batch 64 (global 128)
# and the communication of one step alone (duel-bench-allreduce, dcgan28's
# G and D gradients). Prints one line per run: img/s of the whole run and
# rank 0's share of time in collectives.
#
#   scripts/bench-dist.sh [--reps 2] [--steps 150] [--build build]
set -euo pipefail
REPS=2 STEPS=150 BUILD=build
while [ $# -gt 0 ]; do
  case $1 in
    --reps) REPS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    *) echo "unknown option $1 (--reps N, --steps N, --build DIR)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
DUEL=$BUILD/duel
[ -x "$DUEL" ] && [ -x "$BUILD/duel-bench-allreduce" ] || { echo "build first: make build" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(--config configs/dcgan28.toml --threads 1 --set train.steps=$STEPS --set train.sample_every=0
        --set train.checkpoint_every=0 --set eval.every=0 --set train.log_every=50 --set monitor.collapse_probe=false)
for rep in $(seq "$REPS"); do
  for v in 1x64 2x32 2x64; do
    case $v in
      1x64) args=(--set train.batch_size=64) ;;
      2x32) args=(--nproc 2 --set train.batch_size=32) ;;
      2x64) args=(--nproc 2 --set train.batch_size=64) ;;
    esac
    "$DUEL" train "${common[@]}" "${args[@]}" --out "$out/$v-$rep" >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
    ips=$(grep -oE "in [0-9ms ]+, [0-9]+ img/s" "$out/log" | grep -oE "[0-9]+ img/s")
    share=$(grep -oE "[0-9.]+% of rank 0's time in collectives" "$out/log" || echo "-")
    echo "rep $rep  $v  $ips  comm: $share  load $(cut -d' ' -f1 /proc/loadavg)"
  done
  "$BUILD/duel-bench-allreduce" --nproc 2 --reps 50
done
