# Runs across machines (--dist tcp://HOST:PORT): rank 0's rendezvous store listens on the
# --dist address only (never on every interface unless dist.listen_all), admits only ranks that
# prove DUEL_DIST_SECRET (read from the environment, never argv), and drops strangers (garbage,
# a wrong secret, silence) with a logged warning while the run goes on to the end. The ranks'
# Gloo connections bind to the interface that routes to rank 0 (loopback here).
source "$(dirname "$0")/lib.sh"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
run=("${TINY[@]}" --set train.steps=40 --set train.checkpoint_every=0 --set train.sample_every=0 --set dist.timeout_s=60)
export DUEL_DIST_SECRET=auth-test-secret-0123456789abcdef

# Without a secret, with a short one, or on the wildcard address: refused before anything starts.
p=$(port)
expect_exit 2 "needs a shared secret, and DUEL_DIST_SECRET is not set" -- env -u DUEL_DIST_SECRET "$DUEL" train \
  --out "$WORK/x" --dist "tcp://127.0.0.1:$p" --world-size 2 --rank 0 "${TINY[@]}"
expect_exit 2 "DUEL_DIST_SECRET is too short \(5 characters" -- env DUEL_DIST_SECRET=short "$DUEL" train \
  --out "$WORK/x" --dist "tcp://127.0.0.1:$p" --world-size 2 --rank 0 "${TINY[@]}"
expect_exit 2 "would listen on every interface of rank 0" -- "$DUEL" train --out "$WORK/x" --dist "tcp://0.0.0.0:$p" \
  --world-size 2 --rank 0 "${TINY[@]}"
expect_exit 2 "needs a shared secret" -- env -u DUEL_DIST_SECRET WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 \
  MASTER_PORT=$p "$DUEL" train --out "$WORK/x" "${TINY[@]}"
[ -e "$WORK/x" ] && fail "a refused start left a run folder"

# A 2-rank run with strangers knocking while it lasts.
p=$(port)
"$DUEL" train --out "$WORK/run" --dist "tcp://127.0.0.1:$p" --world-size 2 --rank 0 "${run[@]}" >"$WORK/rank0.log" 2>&1 &
r0=$!
for _ in $(seq 1 300); do ss -ltnH "sport = :$p" | grep -q . && break; sleep 0.1; done
listening=$(ss -ltnH "sport = :$p" | awk '{print $4}')
[ "$listening" = "127.0.0.1:$p" ] || fail "the store listens on '$listening', want only 127.0.0.1:$p"
python3 - "$p" <<'PY' || fail "the strangers' script"
import socket, sys, time
port = int(sys.argv[1])
def knock(payload, read_hello=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    if read_hello:
        hello = s.recv(40)
        assert hello[:8] == b"DUELSTR1", hello
    s.sendall(payload)
    rest = b""
    try:
        while chunk := s.recv(4096):  # until the store closes the connection
            rest += chunk
    except ConnectionResetError:
        pass
    # Nothing but the greeting (when it was not read first): never the admission 'K'.
    assert rest in (b"",) or (not read_hello and rest[:8] == b"DUELSTR1" and len(rest) == 40), rest
    s.close()
knock(b"GET / HTTP/1.0\r\n\r\n" * 4, read_hello=False)  # garbage before reading the greeting
knock(b"\x00" * 32)                                   # a wrong proof of the secret
knock(b"\xff" * 2000)                                 # an oversized wrong proof
silent = socket.create_connection(("127.0.0.1", port))  # connects and says nothing
time.sleep(0.5)
PY
"$DUEL" train --out "$WORK/run" --dist "tcp://127.0.0.1:$p" --world-size 2 --rank 1 "${run[@]}" >"$WORK/rank1.log" 2>&1 &
r1=$!
# The ranks' own sockets listen on loopback only (ss -ltnp of both PIDs).
for _ in $(seq 1 300); do [ -s "$WORK/run/metrics.csv" ] && break; sleep 0.1; done
socks=$(ss -ltnpH | grep -E "pid=($r0|$r1)," | awk '{print $4}')
exposed=$(grep -vE '^(127\.0\.0\.1|\[::1\]):[0-9]+$' <<<"$socks" | grep . || true)
[ -z "$exposed" ] || fail "a rank listens beyond loopback: $exposed"
wait $r0; rc0=$?
wait $r1; rc1=$?
[ "$rc0" = 0 ] && [ "$rc1" = 0 ] || fail "ranks exited $rc0 / $rc1: $(tail -3 "$WORK/rank0.log" "$WORK/rank1.log")"
[ "$(tail -1 "$WORK/run/metrics.csv" | cut -d, -f1)" = 40 ] || fail "the run did not reach step 40"
n=$(grep -c "rendezvous store: dropped a connection from 127.0.0.1" "$WORK/rank0.log")
[ "$n" -ge 3 ] || fail "rank 0 logged $n dropped connections, want 3 or more: $(grep -m5 dropped "$WORK/rank0.log")"
grep -q "wrong proof of the shared secret" "$WORK/rank0.log" || fail "no 'wrong proof' warning"

# A rank with another secret is refused with a clear message, and rank 0 waits for a real one.
p=$(port)
"$DUEL" train --out "$WORK/run2" --dist "tcp://127.0.0.1:$p" --world-size 2 --rank 0 "${run[@]}" \
  --set dist.timeout_s=8 >"$WORK/r2-rank0.log" 2>&1 &
r0=$!
expect_exit 2 "refused this rank's proof of the shared secret" -- env DUEL_DIST_SECRET=another-secret-0123456789 \
  "$DUEL" train --out "$WORK/run2" --dist "tcp://127.0.0.1:$p" --world-size 2 --rank 1 "${run[@]}"
wait $r0; rc=$?
[ "$rc" = 2 ] || fail "rank 0 without its peer exited $rc, want 2 after dist.timeout_s"
grep -q "wrong proof" "$WORK/r2-rank0.log" || fail "rank 0 did not log the refused rank"
finish
