# A local `duel train --nproc 2` opens no port reachable from outside the
# machine: while the ranks train, every listening TCP socket of the launcher
# and of the ranks (ss -ltnp) is bound to 127.0.0.1 or ::1.
source "$(dirname "$0")/lib.sh"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
"$DUEL" train --out "$WORK/run" --nproc 2 "${TINY[@]}" --set train.steps=100000 --set train.checkpoint_every=0 \
  --set train.sample_every=0 --set eval.every=0 >"$WORK/train.log" 2>&1 &
launcher=$!
# Wait until the ranks train (their first logged row), then look.
for _ in $(seq 1 600); do
  [ "$(wc -l <"$WORK/run/metrics.csv" 2>/dev/null || echo 0)" -ge 2 ] && break
  kill -0 $launcher 2>/dev/null || break
  sleep 0.1
done
[ "$(wc -l <"$WORK/run/metrics.csv" 2>/dev/null || echo 0)" -ge 2 ] || fail "the 2-rank run did not start: $(tail -3 "$WORK/train.log")"
pids=$(echo $launcher; pgrep -P $launcher)
[ "$(wc -w <<<"$pids")" = 3 ] || fail "expected a launcher and 2 ranks, found pids: $pids"
listening=$(ss -ltnpH | grep -E "pid=($(echo $pids | tr ' ' '|'))," || true)
echo "listening during --nproc 2: ${listening:-(no TCP socket at all)}"
exposed=$(awk '{print $4}' <<<"$listening" | grep -vE '^(127\.0\.0\.1|\[::1\]):[0-9]+$' | grep . || true)
[ -z "$exposed" ] || fail "listening beyond loopback during --nproc 2: $exposed (all: $listening)"
kill -TERM $launcher
wait $launcher 2>/dev/null
finish
