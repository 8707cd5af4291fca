# A full disk, simulated by a file-size limit (ulimit -f; duel ignores
# SIGXFSZ, so a write past the limit fails with EFBIG like a write to a full
# disk): the run stops with exit 2 and a message naming the file and saying
# the disk may be full; the previous checkpoint is intact, no temporary file
# is left, and the run resumes once there is room.
source "$(dirname "$0")/lib.sh"
R="$WORK/run"
"$DUEL" train --out "$R" "${TINY[@]}" --set train.steps=4 --set train.checkpoint_every=2 >/dev/null 2>&1 || fail "first run"
size=$(stat -c %s "$R/checkpoints/latest.duel")
limit_kb=$((size / 1024 / 2))  # room for the logs, config and grids, not for a checkpoint
[ "$limit_kb" -gt 64 ] || fail "checkpoint of $size bytes is too small for this test"
out=$( (ulimit -f "$limit_kb"; exec "$DUEL" train --resume "$R" --set train.steps=8 --threads 1) 2>&1 ); rc=$?
[ "$rc" = 2 ] || fail "exit $rc under a file-size limit, want 2: $(tail -3 <<<"$out")"
grep -q "cannot write '$R/checkpoints/step-000006.duel' (write): File too large; the disk may be full" <<<"$out" || fail "message: $out"
grep -q "hint: the disk may be full .*the previous file is intact" <<<"$out" || fail "hint: $out"
"$DUEL" info "$R/checkpoints/latest.duel" | grep -q "^step: *4 " || fail "the previous checkpoint is not intact"
ls -a "$R/checkpoints" | grep -q '^\.[^.]' && fail "a temporary file was left: $(ls -a "$R/checkpoints")"
# metrics.csv kept its rows up to the failed step, whole.
[ "$(cut -d, -f1 "$R/metrics.csv" | tr '\n' ' ')" = "step 2 4 6 " ] || fail "metrics.csv: $(cat "$R/metrics.csv")"
# With room again, the run resumes from step 4 and finishes.
out=$("$DUEL" train --resume "$R" --set train.steps=8 --threads 1 2>&1) || fail "resume with room: $out"
grep -q "resuming from .* at step 4" <<<"$out" || fail "did not resume from step 4: $out"
"$DUEL" info "$R/checkpoints/latest.duel" | grep -q "^step: *8 " || fail "the resumed run did not finish"
# A limit too small even for the run's config: the first write fails, named.
out=$( (ulimit -f 1; exec "$DUEL" train --out "$WORK/tiny" "${TINY[@]}" --set train.steps=2) 2>&1 ); rc=$?
[ "$rc" = 2 ] || fail "exit $rc with a 1 KiB limit, want 2"
grep -q "cannot write '$WORK/tiny/config.toml' (write): File too large; the disk may be full" <<<"$out" || fail "message: $out"
ls -a "$WORK/tiny" | grep -v '^\.lock$' | grep -q '^\.[^.]' && fail "a temporary file was left in the run folder"
finish
