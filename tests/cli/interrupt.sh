# SIGINT during training: the step finishes, a checkpoint and the grids are
# written, the exit code is 130, and the run resumes from where it stopped.
source "$(dirname "$0")/lib.sh"
R="$WORK/run"
"$DUEL" train --out "$R" "${TINY[@]}" --set train.steps=1000000 --set train.checkpoint_every=0 >"$WORK/log" 2>&1 &
pid=$!
# Wait for an event, not a time: two logged rows (training under way), polled every 0.1 s,
# up to a ceiling of 120 s that only a broken run reaches.
rows() { if [ -f "$R/metrics.csv" ]; then wc -l <"$R/metrics.csv"; else echo 0; fi; }
ceiling=120
deadline=$((SECONDS + ceiling))
until [ "$(rows)" -ge 3 ] || ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.1; done
if [ "$(rows)" -lt 3 ]; then
  fail "training was not under way within $ceiling s: $(tail -3 "$WORK/log")"
  kill -9 "$pid" 2>/dev/null; wait "$pid"; finish
fi
kill -INT "$pid"
# The run must stop by itself after SIGINT (the step finishes, then the checkpoint): same ceiling.
deadline=$((SECONDS + ceiling))
while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
kill -0 "$pid" 2>/dev/null && { fail "still running $ceiling s after SIGINT"; kill -9 "$pid"; }
wait "$pid"; rc=$?
[ "$rc" = 130 ] || fail "exit code $rc, want 130: $(tail -3 "$WORK/log")"
grep -q "resume with:  duel train --resume $R" "$WORK/log" || fail "no resume hint"
[ -s "$R/checkpoints/latest.duel" ] && [ -s "$R/samples/final.png" ] || fail "no checkpoint or grid after SIGINT"
step=$("$DUEL" info "$R/checkpoints/latest.duel" | awk '/^step:/ {print $2}')
[ "${step:-0}" -gt 0 ] || fail "checkpoint step '$step'"
"$DUEL" train --resume "$R" --set train.steps=$((step + 4)) --threads 1 >/dev/null 2>&1 || fail "resume after SIGINT"
"$DUEL" info "$R/checkpoints/latest.duel" | grep -q "^step: *$((step + 4)) " || fail "resumed run did not reach step $((step + 4))"
finish
