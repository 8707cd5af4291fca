# SIGINT during training: the step finishes, a checkpoint and the grids are
# written, the exit code is 130, and the run resumes from where it stopped.
source "$(dirname "$0")/lib.sh"
R="$WORK/run"
"$DUEL" train --out "$R" "${TINY[@]}" --set train.steps=1000000 --set train.checkpoint_every=0 >"$WORK/log" 2>&1 &
pid=$!
for _ in $(seq 300); do  # wait (at most 30 s) until training is under way
  [ "$(wc -l < "$R/metrics.csv" 2>/dev/null || echo 0)" -ge 3 ] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"; rc=$?
[ "$rc" = 130 ] || fail "exit code $rc, want 130: $(tail -3 "$WORK/log")"
grep -q "resume with:  duel train --resume $R" "$WORK/log" || fail "no resume hint"
[ -s "$R/checkpoints/latest.duel" ] && [ -s "$R/samples/final.png" ] || fail "no checkpoint or grid after SIGINT"
step=$("$DUEL" info "$R/checkpoints/latest.duel" | awk '/^step:/ {print $2}')
[ "${step:-0}" -gt 0 ] || fail "checkpoint step '$step'"
"$DUEL" train --resume "$R" --set train.steps=$((step + 4)) --threads 1 >/dev/null 2>&1 || fail "resume after SIGINT"
"$DUEL" info "$R/checkpoints/latest.duel" | grep -q "^step: *$((step + 4)) " || fail "resumed run did not reach step $((step + 4))"
finish
