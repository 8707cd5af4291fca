# Readers need no lock (docs/reliability.md): for a minute, `duel info`, `duel sample` and
# `duel report --out` loop on a live run whose trainer rewrites its checkpoints, grids,
# metrics and report every 2 steps. Every reader call must succeed and read whole files
# (a loadable checkpoint, a decodable PNG, a complete page), and the trainer's throughput
# with readers beside it is compared with a run without them (same settings, one thread
# each, so the readers use the other core). Prints the figures; slow (about 2.5 minutes).
source "$(dirname "$0")/lib.sh"
SECONDS_LOADED=${READERS_SECONDS:-60}
cfg=("${TINY[@]}" --set train.steps=100000000 --set train.checkpoint_every=2 --set train.sample_every=2
     --set train.keep_checkpoints=3 --set eval.every=0 --set monitor.collapse_probe=false)
# mean img/s of the metrics rows after the first 5 (start-up excluded)
rate() { awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "img_per_s") c = i; next }
                  NR > 6 { s += $c; n++ } END { if (n) printf "%.1f", s / n; else print 0 }' "$1/metrics.csv"; }
start_trainer() {  # start_trainer RUN: a trainer on RUN in the background (PID in $trainer), once it has a checkpoint
  "$DUEL" train --out "$1" "${cfg[@]}" >"$1.log" 2>&1 &
  trainer=$!
  for _ in $(seq 1 300); do [ -s "$1/checkpoints/latest.duel" ] && break; sleep 0.1; done
}

# Baseline: the trainer alone.
start_trainer "$WORK/base"
sleep ${BASE_SECONDS:-30}
kill -TERM "$trainer"; wait "$trainer" 2>/dev/null
base=$(rate "$WORK/base")

# Loaded: the same trainer with the readers looping on it.
start_trainer "$WORK/live"
pid=$trainer
[ -s "$WORK/live/checkpoints/latest.duel" ] || { fail "the trainer wrote no checkpoint: $(tail -3 "$WORK/live.log")"; finish; }
calls=0 bad=0
end=$((SECONDS + SECONDS_LOADED))
while [ $SECONDS -lt $end ]; do
  out=$("$DUEL" info "$WORK/live" 2>&1) && grep -q "checksum ok" <<<"$out" || { bad=$((bad + 1)); echo "info: $out" >&2; }
  "$DUEL" sample -k "$WORK/live" --n 4 --out "$WORK/s.png" >"$WORK/s.log" 2>&1 &&
    python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(d[:8] != b"\x89PNG\r\n\x1a\n" or d[-8:-4] != b"IEND")' "$WORK/s.png" ||
    { bad=$((bad + 1)); echo "sample: $(tail -2 "$WORK/s.log")" >&2; }
  "$DUEL" report "$WORK/live" --out "$WORK/r.html" --no-interpolation >"$WORK/r.log" 2>&1 &&
    tail -c 8 "$WORK/r.html" | grep -q "</html>" || { bad=$((bad + 1)); echo "report: $(tail -2 "$WORK/r.log")" >&2; }
  calls=$((calls + 3))
done
kill -TERM "$pid"; wait "$pid"; rc=$?
[ "$rc" = 143 ] || [ "$rc" = 0 ] || fail "the trainer exited $rc: $(tail -3 "$WORK/live.log")"
live=$(rate "$WORK/live")
echo "readers: $calls calls in ${SECONDS_LOADED} s, $bad failed; trainer $base img/s alone, $live img/s with readers"
[ "$bad" = 0 ] || fail "$bad of $calls reader calls failed"
[ "$calls" -ge 20 ] || fail "only $calls reader calls in ${SECONDS_LOADED} s"
awk -v a="$base" -v b="$live" 'BEGIN { exit !(a > 0 && b >= 0.8 * a) }' ||
  fail "the trainer slowed from $base to $live img/s with readers beside it (more than 20 %)"
finish
