# The speed-ups (transposed convolutions on oneDNN, channels-last, Winograd
# convolutions) leave the training statistics as they were: 50 steps of the
# real dcgan28 nets with and without them give the same mean losses and D
# outputs within TOL (1%). Why 1%: measured largest differences 0.22% (fast,
# channels-last) and 0.32% (fast, NCHW; d_fake 0.079006 vs 0.079260), the runs
# being deterministic for a given build; 1% leaves 3x margin for other
# BLAS/oneDNN builds while a real change of the training (e.g. a wrong gradient
# on one route) moves these means by far more. The largest difference is
# printed each run.
#
# Winograd is taken at 32 px (the layers of 64 channels and more; none of
# dcgan28's layers qualifies), against the same run without it. There the
# first STEPS_EXACT steps must agree within TOL_STEP (measured at most 4.7e-4,
# at step 3) and the 50-step means within TOL_WINO (2%): Winograd rounds four of
# the five layers differently, and 50 steps of a GAN amplify that. Measured:
# 1.21% (d_fake 0.108797 vs 0.110115); the same Winograd run on 1 thread
# against 2 (oneDNN sums in another order) differs by 1.2% too, direct runs on
# 1 and 2 threads by 0.22%. A wrong gradient shows at once: with the weight
# gradient's phases swapped the first 3 steps moved by 0.49 and the means by
# 26%; with a sign flipped in the input gradient, by 0.43 and 52%.
source "$(dirname "$0")/lib.sh"
common=(--config "$SOURCE_DIR/configs/dcgan28.toml" --set data.dataset=mnist --set "data.path=$FIXTURES/idx"
        --set train.batch_size=32 --set train.steps=50 --set train.log_every=1 --set train.sample_every=0
        --set train.checkpoint_every=0 --threads 2)
"$DUEL" train --out "$WORK/slow" "${common[@]}" --set perf.fast_convt=false --set perf.channels_last=false >/dev/null 2>&1 || fail "unoptimised run"
"$DUEL" train --out "$WORK/fast" "${common[@]}" --set perf.fast_convt=true --set perf.channels_last=true >/dev/null 2>&1 || fail "optimised run"
"$DUEL" train --out "$WORK/fast2" "${common[@]}" --set perf.fast_convt=true --set perf.channels_last=false >/dev/null 2>&1 || fail "optimised run (NCHW)"
"$DUEL" train --out "$WORK/fast2-direct" "${common[@]}" --set perf.fast_convt=true --set perf.channels_last=false --set perf.winograd=false >/dev/null 2>&1 || fail "optimised run without Winograd"
# No dcgan28 layer qualifies for Winograd, so turning it off must not change a bit of the 28 px run.
cmp -s <(cut -d, -f3-6 "$WORK/fast2/metrics.csv") <(cut -d, -f3-6 "$WORK/fast2-direct/metrics.csv") \
  || fail "perf.winograd changed the 28 px run, where no layer takes the Winograd route"
"$DUEL" train --out "$WORK/direct32" "${common[@]}" --set data.image_size=32 --set perf.winograd=false >/dev/null 2>&1 || fail "32 px run without Winograd"
"$DUEL" train --out "$WORK/winograd32" "${common[@]}" --set data.image_size=32 --set perf.winograd=true >/dev/null 2>&1 || fail "32 px run with Winograd"
TOL=${TOL:-0.01} TOL_WINO=${TOL_WINO:-0.02} TOL_STEP=${TOL_STEP:-0.002} STEPS_EXACT=3
REL='function rel(x, y,  d) { d = (x - y) / x; return d < 0 ? -d : d }'  # awk: |x - y| / |x|, x the reference
# The first steps, before training amplifies rounding: every statistic within TOL_STEP (relative).
awk -F, -v tol="$TOL_STEP" -v n="$STEPS_EXACT" "$REL"'
    FNR == 1 { next } FNR == NR { for (i=3;i<=6;i++) a[FNR,i] = $i; next }
    FNR <= n + 1 { for (i=3;i<=6;i++) { d = rel(a[FNR,i], $i); if (d > m) m = d } }
    END { printf "winograd32: largest relative difference in the first %d steps %.2e (limit %.0e)\n", n, m, tol; if (m > tol) exit 1 }' \
  "$WORK/direct32/metrics.csv" "$WORK/winograd32/metrics.csv" \
  || fail "winograd32: the first $STEPS_EXACT steps differ from the direct run by more than $TOL_STEP (relative)"
means() { awk -F, 'NR>1 { for (i=3;i<=6;i++) s[i]+=$i; n++ } END { for (i=3;i<=6;i++) printf "%.6f ", s[i]/n }' "$1/metrics.csv"; }
for run in fast fast2 winograd32; do
  base=slow; [ "$run" = winograd32 ] && base=direct32
  read -r a1 a2 a3 a4 <<<"$(means "$WORK/$base")"
  read -r b1 b2 b3 b4 <<<"$(means "$WORK/$run")"
  echo "$base: loss_d $a1 loss_g $a2 d_real $a3 d_fake $a4"
  echo "$run:        loss_d $b1 loss_g $b2 d_real $b3 d_fake $b4"
  tol=$TOL; [ "$run" = winograd32 ] && tol=$TOL_WINO
  awk -v a="$a1 $a2 $a3 $a4" -v b="$b1 $b2 $b3 $b4" -v tol="$tol" -v run="$run" "$REL"'
      BEGIN { split(a, x, " "); split(b, y, " ");
      m = 0; for (i=1;i<=4;i++) { d = rel(x[i], y[i]); if (d > m) m = d }
      printf "%s: largest relative difference of the means %.4f%% (limit %.2f%%)\n", run, 100 * m, 100 * tol
      if (m > tol) exit 1 }' \
    || fail "$run: mean statistics differ by more than $tol (relative)"
  # The curves are not bit-identical (other summation order), so they must differ somewhere:
  cmp -s <(cut -d, -f3 "$WORK/$base/metrics.csv") <(cut -d, -f3 "$WORK/$run/metrics.csv") && fail "$run: fast path not taken"
done
finish
