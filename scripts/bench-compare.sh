#!/usr/bin/env bash
# Times duel's dcgan training step and the PyTorch eager reference
# (../shared/bench/dcgan_ref.py) side by side on the same cores, alternating
# the two REPS times, and prints both medians and their ratio. --size,
# --channels and --width pick the same DCGAN family in both (28 px gray is
# the dcgan28 preset on Fashion-MNIST; other sizes use synthetic data, as the
# reference does). --gemm also measures the machine's float32 GEMM peak and
# prints the share of it each side reaches (FLOPs per image from
# scripts/dcgan_flops.py).
#
#   scripts/bench-compare.sh [--reps 5] [--steps 100] [--threads 2] [--synthetic] [--device cpu|cuda]
#                            [--size 28] [--channels 1] [--width 64] [--gemm] [--amp none|bf16]
#                            [--set KEY=VALUE ...]
#
# --amp bf16 runs duel with perf.amp = bf16 (bfloat16 convolutions; the
# reference stays in float32, as written): a different arithmetic, so its
# ratio is reported beside the float32 one, never instead of it. --set passes
# a config key to duel only (e.g. --set perf.winograd=false to time duel
# without a lever, against the same reference in the same run).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=5 STEPS=100 THREADS=$(nproc) SYNTH="" DEVICE=cpu SIZE=28 CHANNELS=1 WIDTH=64 GEMM="" AMP=none EXTRA=()
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
    --size) SIZE=$2; shift 2 ;;
    --channels) CHANNELS=$2; shift 2 ;;
    --width) WIDTH=$2; shift 2 ;;
    --gemm) GEMM=1; shift ;;
    --amp) AMP=$2; shift 2 ;;
    --set) [[ "${2:-}" == *=* ]] || { echo "error: --set needs KEY=VALUE, got '${2:-}'" >&2; exit 2; }
           EXTRA+=(--set "$2"); shift 2 ;;
    *) echo "usage: $0 [--reps N] [--steps N] [--threads N] [--synthetic] [--device cpu|cuda] [--size N] [--channels 1|3] [--width N] [--gemm] [--amp none|bf16] [--set KEY=VALUE]" >&2; exit 2 ;;
  esac
done
[ -x "$BENCH" ] || { echo "error: $BENCH not built; run 'make build' first" >&2; exit 2; }
[ -f "$REF" ] || { echo "error: reference $REF not found (expected beside the project in ../shared)" >&2; exit 2; }
case "$CHANNELS" in 1|3) ;; *) echo "error: --channels must be 1 or 3" >&2; exit 2 ;; esac
case "$SIZE" in 28|16|32|64|128|256) ;; *) echo "error: --size must be 28 or a power of two from 16 to 256" >&2; exit 2 ;; esac
# Other sizes and channels than the preset's Fashion-MNIST: synthetic data on both sides.
if [ "$SIZE" != 28 ] || [ "$CHANNELS" != 1 ]; then SYNTH=--synthetic; fi
SETS=(--set "run.device=$DEVICE" --set "data.image_size=$SIZE" --set "data.channels=$CHANNELS"
      --set "model.g_width=$WIDTH" --set "model.d_width=$WIDTH" --set "perf.amp=$AMP" "${EXTRA[@]}")
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$THREADS
ours=() theirs=()
for i in $(seq "$REPS"); do
  r=$("$PYTHON" "$REF" --steps "$STEPS" --threads "$THREADS" --device "$DEVICE" --size "$SIZE" --channels "$CHANNELS" \
      --width "$WIDTH" $SYNTH)
  d=$("$BENCH" --config configs/dcgan28.toml --steps "$STEPS" --threads "$THREADS" "${SETS[@]}" $SYNTH)
  echo "rep $i  reference: $r" >&2
  echo "rep $i  duel:      $d" >&2
  theirs+=("$(sed -E 's/.*"img_per_s": ([0-9.]+).*/\1/' <<<"$r")")
  ours+=("$(sed -E 's/.*"img_per_s": ([0-9.]+).*/\1/' <<<"$d")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m_ref=$(median "${theirs[@]}") m_duel=$(median "${ours[@]}")
ratio=$(awk -v a="$m_duel" -v b="$m_ref" 'BEGIN {printf "%.2f", a / b}')
echo "dcgan training step, ${SIZE} px, $CHANNELS channel(s), width $WIDTH, batch 64, $THREADS thread(s), device $DEVICE, duel perf.amp=$AMP${EXTRA[*]:+ ${EXTRA[*]}}, $REPS reps x $STEPS steps"
echo "pytorch-eager median img/s: $m_ref"
echo "duel median img/s:          $m_duel"
echo "ratio (duel / reference):   $ratio"
if [ -n "$GEMM" ]; then
  # The machine's float32 peak as the best of a 2048^3 matrix product (OpenBLAS, given the threads for
  # this measurement only) and a 3x3 convolution on oneDNN: whichever library reaches more.
  peak=$(OPENBLAS_NUM_THREADS=$THREADS "$PYTHON" - "$THREADS" <<'PY'
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
def rate(f, flops):
    for _ in range(2): f()
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(5): f()
        best = max(best, 5 * flops / (time.perf_counter() - t) / 1e9)
    return best
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
x, w = torch.randn(64, 256, 16, 16), torch.randn(256, 256, 3, 3)
mm = rate(lambda: a @ b, 2 * 2048 ** 3)
conv = rate(lambda: torch.nn.functional.conv2d(x, w, padding=1), 2 * 64 * 16 * 16 * 256 * 256 * 9)
print(f"{max(mm, conv):.1f} {mm:.1f} {conv:.1f}")
PY
)
  flops=$("$PYTHON" scripts/dcgan_flops.py --size "$SIZE" --channels "$CHANNELS" --width "$WIDTH")
  read -r peak mm conv <<<"$peak"
  awk -v p="$peak" -v mm="$mm" -v cv="$conv" -v f="$flops" -v r="$m_ref" -v d="$m_duel" 'BEGIN {
    printf "float32 peak, %s threads: %.1f GFLOP/s (matrix product 2048^3: %.1f; oneDNN 3x3 convolution: %.1f)\n", ENVIRON["OMP_NUM_THREADS"], p, mm, cv
    printf "training FLOPs per image (estimate):  %.3f GFLOP\n", f / 1e9
    printf "pytorch-eager: %.1f GFLOP/s = %.0f%% of peak\n", r * f / 1e9, 100 * r * f / 1e9 / p
    printf "duel:          %.1f GFLOP/s = %.0f%% of peak (the reference step'"'"'s work per second, counted at direct-convolution cost: duel'"'"'s Winograd layers need fewer multiplications and its G update skips D'"'"'s weight gradients, so this can pass 100%%)\n", d * f / 1e9, 100 * d * f / 1e9 / p }'
fi
