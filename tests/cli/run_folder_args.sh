# A run folder wherever a checkpoint is asked for (sample, info, info
# --compare, --resume of a checkpoint file): the run's newest good checkpoint,
# named on stderr; a missing path says it does not exist; resuming a finished
# run says so and how to extend it, and changes nothing.
source "$(dirname "$0")/lib.sh"
R="$WORK/x"
"$DUEL" train --out "$R" "${TINY[@]}" --set train.steps=4 --set train.checkpoint_every=2 >/dev/null 2>&1 || fail "train"
# latest.duel when it is the newest: the trainer never deletes it (old numbered ones it does).
expect_exit 0 "^checkpoint: $R/checkpoints/latest.duel \(the newest good checkpoint of run folder '$R'\)" \
  -- "$DUEL" sample -k "$R" --out "$WORK/s.png" --threads 1
[ -s "$WORK/s.png" ] || fail "sample from a run folder wrote no grid"
out=$("$DUEL" info "$R/checkpoints/" 2>/dev/null) || fail "info of checkpoints/: $out"
grep -q "^checkpoint: *$R/checkpoints/latest.duel$" <<<"$out" || fail "info names the file it read: $out"
grep -q "^step: *4 " <<<"$out" || fail "info step: $out"
expect_exit 0 "^checkpoint: $R/checkpoints/latest.duel" -- "$DUEL" info "$R/checkpoints/latest.duel" --compare "$R"
expect_exit 2 "^error: cannot open checkpoint '$WORK/nope': it does not exist" -- "$DUEL" sample -k "$WORK/nope" --out "$WORK/n.png"
mkdir -p "$WORK/plain"
expect_exit 2 "^error: '$WORK/plain' is a folder but not a run folder \(no checkpoints/ in it\)" -- "$DUEL" info "$WORK/plain"
# A finished run: an error that says so, and nothing in the folder changes.
before=$(cat "$R/events.jsonl" "$R/metrics.csv" | md5sum)
out=$("$DUEL" train --resume "$R" --threads 1 2>&1); rc=$?
[ "$rc" = 2 ] || fail "resume of a finished run exits $rc: $out"
grep -q "^error: run '$R' has finished: its newest checkpoint is at step 4 and the run has 4 steps" <<<"$out" || fail "finished: $out"
grep -q "^hint: .*duel train --resume $R --set train.steps=N. (N > 4)" <<<"$out" || fail "finished hint: $out"
[ "$(cat "$R/events.jsonl" "$R/metrics.csv" | md5sum)" = "$before" ] || fail "a refused resume changed the logs"
# --resume of a checkpoint file resumes its run (two levels up).
out=$("$DUEL" train --resume "$R/checkpoints/latest.duel" --set train.steps=6 --threads 1 2>&1) || fail "resume of a file: $out"
grep -q "resuming from $R/checkpoints/step-000004.duel at step 4" <<<"$out" || fail "resume of a file: $out"
grep -q "^run folder: *$R$" <<<"$out" || fail "resume of a file: run folder: $out"
# The newest checkpoint damaged: the one before it, with a warning.
printf 'garbage' > "$R/checkpoints/step-000006.duel"
out=$("$DUEL" sample -k "$R" --out "$WORK/s2.png" --threads 1 2>&1) || fail "sample past a damaged checkpoint: $out"
grep -q "^warning: skipping unusable checkpoint: .*step-000006.duel" <<<"$out" || fail "no warning: $out"
grep -q "^checkpoint: $R/checkpoints/step-000004.duel" <<<"$out" || fail "not the one before: $out"
expect_exit 2 "run folder '$WORK/gone' does not exist" -- "$DUEL" train --resume "$WORK/gone"
finish
