# What a resume reproduces in metrics.csv (docs/training.md, "Checkpoints and
# resuming"): on the log cadence every row matches a straight run's; off it
# (a first leg of 6 steps with train.log_every = 4) the first leg's row at
# step 6 stays and the resumed row at step 8 averages steps 7-8 only, while
# the weights stay exact. elapsed_s restarts with the resumed process.
source "$(dirname "$0")/lib.sh"
common=("${TINY[@]}" --set train.log_every=4 --set train.checkpoint_every=0 --set train.sample_every=0)
"$DUEL" train --out "$WORK/straight" "${common[@]}" --set train.steps=8 >/dev/null 2>&1 || fail "straight run"
"$DUEL" train --out "$WORK/legs" "${common[@]}" --set train.steps=6 >/dev/null 2>&1 || fail "first leg"
"$DUEL" train --resume "$WORK/legs" --set train.steps=8 --threads 1 >/dev/null 2>&1 || fail "resume"
steps() { cut -d, -f1 "$1" | tr '\n' ' '; }
[ "$(steps "$WORK/straight/metrics.csv")" = "step 4 8 " ] || fail "straight rows: $(steps "$WORK/straight/metrics.csv")"
[ "$(steps "$WORK/legs/metrics.csv")" = "step 4 6 8 " ] || fail "resumed rows: $(steps "$WORK/legs/metrics.csv")"
row() { grep "^$2," "$1" | cut -d, -f1-6; }
[ "$(row "$WORK/straight/metrics.csv" 4)" = "$(row "$WORK/legs/metrics.csv" 4)" ] || fail "rows before the resume differ"
[ "$(row "$WORK/straight/metrics.csv" 8)" != "$(row "$WORK/legs/metrics.csv" 8)" ] ||
  fail "the step-8 rows match: the docs say the resumed one averages steps 7-8 only; update docs/training.md"
digests() { "$DUEL" info "$1" | grep -E "^net |^step"; }
cmp <(digests "$WORK/straight/checkpoints/latest.duel") <(digests "$WORK/legs/checkpoints/latest.duel") ||
  fail "weights differ"
finish
