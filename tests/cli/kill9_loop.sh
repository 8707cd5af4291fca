# kill -9 at random moments, again and again (KILLS times, default 20): a
# checkpoint every step means many kills land inside a checkpoint write, and
# every 5th kill (kills 2, 7, 12, ...) is forced into one: that resume runs
# with debug.checkpoint_write_sleep_ms, which parks each checkpoint write with
# half of its temporary file written, and the kill comes once that file is seen
# (an event, not a timer). The run must then resume from the checkpoint before,
# and at least one kill must have landed inside a write.
# After every kill the run folder holds a loadable checkpoint, the rows of
# metrics.csv and events.jsonl up to that checkpoint are intact, and
# `duel train --resume` carries on; at the end the run finishes cleanly.
source "$(dirname "$0")/lib.sh"
R="$WORK/run"
KILLS=${KILLS:-20}
RANDOM=${KILL_SEED:-7}
common=(--set train.checkpoint_every=1 --set train.sample_every=0 --set train.keep_checkpoints=2 --set train.steps=1000000)

# Checks the run folder after a kill; prints "STEP TEMPFILES" (the newest good
# checkpoint's step, and how many temporary files the kill left behind).
check_run() {  # $1 = final: the run has finished (its last row may fall between log steps)
  python3 - "$R" "${1:-}" <<'PY'
import json, os, struct, sys, zlib
run = sys.argv[1]
ck = os.path.join(run, "checkpoints")
def good(path):
    b = open(path, "rb").read()
    if len(b) < 24 or b[:8] != b"DUELCKPT": return False
    version, crc, n = struct.unpack("<IIQ", b[8:24])
    return version == 1 and n == len(b) - 24 and zlib.crc32(b[24:]) == crc
names = os.listdir(ck)
steps = sorted((int(f[5:-5]) for f in names if f.startswith("step-") and f.endswith(".duel")), reverse=True)
assert os.path.exists(os.path.join(ck, "latest.duel")), "no latest.duel"
assert good(os.path.join(ck, "latest.duel")), "latest.duel is not a good checkpoint"
# The newest good numbered checkpoint is where --resume goes (latest.duel may
# still name the one before it when the kill fell between the two renames).
newest = next(s for s in steps if good(os.path.join(ck, "step-%06d.duel" % s)))
# metrics.csv: the header, then one whole row per 2 steps up to the checkpoint.
lines = open(os.path.join(run, "metrics.csv")).read().split("\n")
assert lines[0] == "step,epoch,loss_d,loss_g,d_real,d_fake,img_per_s,elapsed_s", lines[0]
rows = []
for line in lines[1:]:
    cells = line.split(",")
    if len(cells) != 8: break  # a torn row past the checkpoint
    try: rows.append([float(c) for c in cells])
    except ValueError: break
want = list(range(2, newest + 1, 2))
if sys.argv[2] == "final" and newest % 2: want.append(newest)
got = [int(r[0]) for r in rows if r[0] <= newest]
assert got == want, ("metrics.csv rows up to step %d" % newest, got[-5:], want[-5:])
# events.jsonl: every line up to the checkpoint parses.
for line in open(os.path.join(run, "events.jsonl")).read().split("\n"):
    try: e = json.loads(line)
    except ValueError: break
    assert "event" in e
temps = [f for f in names if f.startswith(".")]
print(newest, len(temps))
PY
}

start_run() {  # $1: log file, $2: debug.checkpoint_write_sleep_ms; the first call starts the run, later ones resume it
  if [ -e "$R/checkpoints" ]; then
    "$DUEL" train --resume "$R" --threads 1 --set "debug.checkpoint_write_sleep_ms=${2:-0}" >"$1" 2>&1 &
  else
    "$DUEL" train --out "$R" "${TINY[@]}" "${common[@]}" >"$1" 2>&1 &
  fi
  pid=$!
}

# Until the first checkpoint exists, nothing is promised: start and wait for it.
start_run "$WORK/log-0"
for _ in $(seq 600); do [ -e "$R/checkpoints/latest.duel" ] && break; sleep 0.05; done
mid_write=0 in_startup=0 forced=0 last=0 after_forced=0
for i in $(seq "$KILLS"); do
  if [ "$i" -gt 1 ] && [ $((i % 5)) = 2 ]; then  # forced into a checkpoint write
    start_run "$WORK/log-$i" 60000
    for _ in $(seq 3000); do  # up to ~60 s: start-up plus one step, then the parked write
      kill -0 "$pid" 2>/dev/null || break
      [ -n "$(find "$R/checkpoints" -name '.step-*.tmp.*' -size +0 2>/dev/null)" ] && break
      sleep 0.02
    done
    [ -n "$(find "$R/checkpoints" -name '.step-*.tmp.*' -size +0 2>/dev/null)" ] ||
      fail "kill $i: no partly written checkpoint appeared under debug.checkpoint_write_sleep_ms"
    before=$last
  elif [ "$i" -gt 1 ]; then
    start_run "$WORK/log-$i"
    kind=$((RANDOM % 4))
    [ "$after_forced" = 1 ] && kind=2  # wait for training to resume, so the log shows where it resumed
    if [ "$kind" = 0 ]; then  # anywhere in start-up (reading and checking the checkpoint, rewriting the logs)
      sleep "0.$((RANDOM % 10))"
      grep -q '"event":"resume"' <(tail -c 2000 "$R/events.jsonl") || in_startup=$((in_startup + 1))
    else  # once training is under way again: a new checkpoint event
      for _ in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || break
        tail -c 4000 "$R/events.jsonl" | grep -q "\"event\":\"checkpoint\",\"path\":\"[^\"]*\",\"step\":$((last + 1))}" && break
        sleep 0.02
      done
      if [ "$kind" = 1 ]; then  # the moment a checkpoint's temporary file appears: inside its write
        for _ in $(seq 20000); do compgen -G "$R/checkpoints/.step-*" >/dev/null && break; done
      else  # 0-299 ms later
        sleep "0.$(printf %03d $((RANDOM % 300)))"
      fi
    fi
  else
    sleep "0.$(printf %03d $((RANDOM % 300)))"
  fi
  if ! kill -0 "$pid" 2>/dev/null; then fail "kill $i: the run had stopped by itself: $(tail -3 "$WORK/log-$i" 2>/dev/null)"; break; fi
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  if ! out=$(check_run); then fail "kill $i: the run folder is not consistent"; break; fi
  read -r last temps <<<"$out"
  [ "$temps" -gt 0 ] && mid_write=$((mid_write + 1))
  if [ "$after_forced" = 1 ]; then
    grep -q "resuming from .* at step $before\$" "$WORK/log-$i" ||
      fail "kill $i: after the kill inside the write of step $((before + 1)), the run did not resume from step $before: $(grep resuming "$WORK/log-$i")"
    after_forced=0
  fi
  if [ "$i" -gt 1 ] && [ $((i % 5)) = 2 ]; then
    forced=$((forced + 1)) after_forced=1
    [ "$temps" -gt 0 ] || fail "kill $i: the forced kill left no temporary file (not inside a write)"
    [ "$last" = "$before" ] || fail "kill $i: newest good checkpoint is step $last, want the one before the write ($before)"
  fi
done
[ "$KILLS" -lt 2 ] || [ "$mid_write" -ge 1 ] || fail "no kill landed inside a checkpoint write (mid-checkpoint-write: $mid_write)"
[ "$KILLS" -lt 2 ] || [ "$forced" -ge 1 ] || fail "no forced kill inside a checkpoint write ran"
# A last resume runs to the end.
"$DUEL" train --resume "$R" --threads 1 --set debug.checkpoint_write_sleep_ms=0 --set train.steps=$((last + 4)) >"$WORK/log-end" 2>&1 || fail "final resume: $(tail -3 "$WORK/log-end")"
"$DUEL" info "$R/checkpoints/latest.duel" | grep -q "^step: *$((last + 4)) " || fail "the final checkpoint is not at step $((last + 4))"
ls -a "$R/checkpoints" | grep -q '^\.[^.]' && fail "temporary files left after a clean finish: $(ls -a "$R/checkpoints")"
check_run final >/dev/null || fail "the finished run folder is not consistent"
[ "$FAILS" = 0 ] && echo "kill -9 survived: $KILLS of $KILLS kills (mid-checkpoint-write: $mid_write, $forced of them forced, during start-up: $in_startup), final step $((last + 4))"
finish
