# N steps straight equal N/2 steps + resume + N/2 steps, bit for bit (CPU, 1 thread).
source "$(dirname "$0")/lib.sh"
# Label smoothing and flipping draw random numbers every step, so the RNG state is exercised.
# (Instance noise is left out: its strength anneals over train.steps, so a run planned
# for 10 steps and then extended differs from one planned for 20 by design.)
common=("${TINY[@]}" --set train.checkpoint_every=0 --set train.sample_every=0 --set train.label_smoothing=0.2
        --set train.label_flip=0.1)
"$DUEL" train --out "$WORK/straight" "${common[@]}" --set train.steps=20 >/dev/null 2>&1 || fail "straight run"
"$DUEL" train --out "$WORK/split" "${common[@]}" --set train.steps=10 >/dev/null 2>&1 || fail "first half"
out=$("$DUEL" train --resume "$WORK/split" --set train.steps=20 --threads 1 2>&1) || fail "resume: $out"
grep -q "resuming from .*step-000010.duel at step 10\|resuming from .*latest.duel at step 10" <<<"$out" || fail "resume message: $out"
digests() { "$DUEL" info "$1" | grep -E "^net |^step"; }
cmp <(digests "$WORK/straight/checkpoints/latest.duel") <(digests "$WORK/split/checkpoints/latest.duel") || fail "final weights differ"
cmp <(cut -d, -f1-6 "$WORK/straight/metrics.csv") <(cut -d, -f1-6 "$WORK/split/metrics.csv") || fail "loss curves differ"
cmp "$WORK/straight/samples/final.png" "$WORK/split/samples/final.png" || fail "final grids differ"
# Counters continue: the resumed run logged steps 12..20 after 2..10, once each.
[ "$(cut -d, -f1 "$WORK/split/metrics.csv" | tr '\n' ' ')" = "step 2 4 6 8 10 12 14 16 18 20 " ] || fail "step column: $(cut -d, -f1 "$WORK/split/metrics.csv" | tr '\n' ' ')"
# The mlp (with dropout, which draws random numbers) resumes exactly too.
m=(--set model.name=mlp --set model.mlp_hidden=16)
"$DUEL" train --out "$WORK/m1" "${common[@]}" "${m[@]}" --set train.steps=8 >/dev/null 2>&1 || fail "mlp straight"
"$DUEL" train --out "$WORK/m2" "${common[@]}" "${m[@]}" --set train.steps=4 >/dev/null 2>&1 || fail "mlp half"
"$DUEL" train --resume "$WORK/m2" --set train.steps=8 --threads 1 >/dev/null 2>&1 || fail "mlp resume"
cmp <(digests "$WORK/m1/checkpoints/latest.duel") <(digests "$WORK/m2/checkpoints/latest.duel") || fail "mlp weights differ"
# The check can fail: a run with other data order has other weights.
if "$DUEL" train --out "$WORK/m3" "${common[@]}" "${m[@]}" --set train.steps=8 --set run.seed=2 >"$WORK/m3.log" 2>&1 &&
   [ -s "$WORK/m3/checkpoints/latest.duel" ]; then
  cmp -s <(digests "$WORK/m1/checkpoints/latest.duel") <(digests "$WORK/m3/checkpoints/latest.duel") && fail "digests do not tell runs apart"
else
  fail "control run (seed 2) failed: $(tail -3 "$WORK/m3.log")"
fi
finish
