# A second Ctrl-C right after the first (issue #28, item 11): duel exits at
# once without writing a checkpoint, and says so, naming the step of the last
# checkpoint on disk.
source "$(dirname "$0")/lib.sh"
R="$WORK/run"
"$DUEL" train --out "$R" "${TINY[@]}" --set train.steps=1000000 --set train.checkpoint_every=2 >"$WORK/log" 2>&1 &
pid=$!
rows() { if [ -f "$R/metrics.csv" ]; then wc -l <"$R/metrics.csv"; else echo 0; fi; }
deadline=$((SECONDS + 120))
until [ "$(rows)" -ge 4 ] || ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.1; done
[ "$(rows)" -ge 4 ] || { fail "training was not under way: $(tail -3 "$WORK/log")"; kill -9 "$pid"; wait "$pid"; finish; }
# Two signals sent back to back can merge into one; 20 ms apart the first is being handled
# (the step, the final checkpoint, grids and report take longer) when the second comes.
kill -INT "$pid"; sleep 0.02; kill -INT "$pid" || fail "the run ended before the second signal"
wait "$pid"; rc=$?
[ "$rc" = 130 ] || fail "exit code $rc, want 130"
msg=$(grep "^second interrupt" "$WORK/log")
re='^second interrupt: exiting without a checkpoint; the last checkpoint is step ([0-9]+)( \(or step ([0-9]+), if its write had finished\))?$'
[[ "$msg" =~ $re ]] || fail "no second-interrupt message: $(tail -3 "$WORK/log")"
last=${BASH_REMATCH[1]:-x} writing=${BASH_REMATCH[3]:-}
[ "$last" != x ] && [ "$last" -ge 2 ] || fail "last checkpoint step '$last', want >= 2 (checkpoints every 2 steps)"
have=$("$DUEL" info "$R/checkpoints/latest.duel" | awk '/^step:/ {print $2}')
[ "$have" = "$last" ] || [ "$have" = "$writing" ] || fail "the message ($msg) does not name latest.duel's step $have"
grep -q "^resume with" "$WORK/log" && fail "the second interrupt still printed the summary"
finish
