# One trainer per run folder (docs/reliability.md): while a run trains, a
# second --resume and a --force over it are refused at once with exit 2,
# naming the folder and the PID, and change nothing (a second --nproc launch
# too, before it starts its ranks); after kill -9 the lock
# is gone with the process and the run resumes.
source "$(dirname "$0")/lib.sh"
R="$WORK/run"
"$DUEL" train "${TINY[@]}" --set train.steps=1000000 --set train.checkpoint_every=2 --set eval.every=0 \
  --out "$R" >"$WORK/first.log" 2>&1 &
pid=$!
# The folder is listed, not globbed: checkpoints rotate every 2 steps, and `ls` of a
# globbed name pruned in between would fail though checkpoints exist.
has_checkpoint() { ls "$R/checkpoints" 2>/dev/null | grep -c '^step-[0-9]*\.duel$' >/dev/null; }  # -c reads all: no SIGPIPE under pipefail
for _ in $(seq 1 300); do
  has_checkpoint && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
kill -0 $pid 2>/dev/null || { fail "the first trainer is not running: $(tail -3 "$WORK/first.log")"; finish; }
has_checkpoint || fail "no checkpoint appeared"
# `timeout`: without the lock these would train beside the first one until killed.
expect_exit 2 "run folder '$R' is in use by another duel train \(PID $pid\)" -- timeout 30 "$DUEL" train --resume "$R" --threads 1
expect_exit 2 "run folder '$R' is in use by another duel train \(PID $pid\)" -- \
  timeout 30 "$DUEL" train "${TINY[@]}" --out "$R" --force
# A second --nproc launch is refused before it starts its ranks (not after their rendezvous times out).
t0=$SECONDS
expect_exit 2 "run folder '$R' is in use by another duel train \(PID $pid\)" -- \
  timeout 60 "$DUEL" train --resume "$R" --nproc 2 --threads 1
[ $((SECONDS - t0)) -le 10 ] || fail "the second --nproc launch took $((SECONDS - t0)) s to be refused"
[ -s "$R/config.toml" ] && [ -s "$R/metrics.csv" ] || fail "a refused --force changed the live run"
n=$(grep -c "\"event\": *\"resume\"" "$R/events.jsonl"); [ "$n" = 0 ] || fail "a refused resume wrote an event ($n)"
kill -9 $pid
wait $pid 2>/dev/null
step=$(ls "$R"/checkpoints/step-*.duel | sed 's/.*step-0*\([0-9][0-9]*\)\.duel/\1/' | sort -n | tail -1)
out=$(timeout 120 "$DUEL" train --resume "$R" --set train.steps=$((step + 2)) --threads 1 2>&1) ||
  fail "resume after kill -9 (the lock must not outlive its process): $out"
finish
