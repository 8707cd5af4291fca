#!/usr/bin/env bash
# Trains presets on Fashion-MNIST and evaluates each with `duel eval`
# (n = 10,000, seed 0): the figures of docs/models.md.
#   scripts/train-presets.sh cgan28 wgan-gp28 ...   (configs/<name>.toml -> runs/<name>)
# Environment: BUILD (default build), THREADS (default 2).
set -euo pipefail
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
export OPENBLAS_NUM_THREADS=1
[ $# -gt 0 ] || { echo "usage: $0 PRESET..." >&2; exit 2; }
for preset in "$@"; do
  cfg=configs/$preset.toml
  [ -f "$cfg" ] || { echo "no preset $cfg" >&2; exit 2; }
  start=$(date +%s)
  "$BUILD/duel" train --config "$cfg" --out "runs/$preset" --threads "$THREADS" --force
  mid=$(date +%s)
  "$BUILD/duel" eval --checkpoint "runs/$preset/checkpoints/latest.duel" --n 10000 --threads "$THREADS"
  echo "$preset: train $((mid - start)) s, eval $(($(date +%s) - mid)) s"
done
