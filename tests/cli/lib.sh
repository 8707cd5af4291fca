# Helpers sourced by every CLI test script (not a test itself: see tests/CMakeLists.txt).
set -uo pipefail
: "${DUEL:?DUEL must point at the duel binary}" "${FIXTURES:?}" "${WORK:?}"
rm -rf "$WORK" && mkdir -p "$WORK"
export OPENBLAS_NUM_THREADS=1
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# expect_exit CODE PATTERN -- command...: runs it, checks the exit code and that stderr+stdout match PATTERN.
expect_exit() {
  local want=$1 pattern=$2; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" != "$want" ]; then fail "exit $rc (want $want): $*"; echo "$out" | tail -5 >&2; return; fi
  if ! grep -qE -- "$pattern" <<<"$out"; then fail "output of '$*' lacks /$pattern/"; echo "$out" | tail -5 >&2; fi
}
# Tiny fast training settings on the generated IDX fixture.
TINY=(--set data.dataset=mnist --set "data.path=$FIXTURES/idx" --set train.batch_size=16 --set model.g_width=8
      --set model.d_width=8 --set model.latent_dim=8 --set sample.grid=16 --set train.log_every=2 --threads 1)
# resume_matches NAME RUN_A: a copy of RUN_A (8 steps, checkpoints every 4) cut back to its
# step-4 checkpoint, as if killed there, must resume to the same weights and final grid.
resume_matches() {
  local name=$1 a=$2 b=$2-resumed out
  cp -r "$a" "$b"
  rm "$b/checkpoints/latest.duel" "$b/checkpoints/step-000008.duel"
  out=$("$DUEL" train --resume "$b" --threads 1 2>&1) || fail "$name: resume: $out"
  grep -q "at step 4" <<<"$out" || fail "$name: did not resume at step 4"
  cmp -s <("$DUEL" info "$a/checkpoints/latest.duel" | grep -E "^net |^step") \
         <("$DUEL" info "$b/checkpoints/latest.duel" | grep -E "^net |^step") ||
    fail "$name: resumed weights differ from the straight run"
  cmp -s "$a/samples/final.png" "$b/samples/final.png" || fail "$name: resumed final grid differs"
}
# skip REASON: a missing prerequisite. ctest shows the case as skipped (SKIP_RETURN_CODE 77,
# tests/CMakeLists.txt); under CI=true, where scripts/install-deps.sh has installed everything,
# it is a failure instead.
skip() {
  if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed before the skip: $*" >&2; exit 1; fi
  if [ "${CI:-}" = "true" ]; then echo "FAIL (CI=true, prerequisite missing): $*" >&2; exit 1; fi
  echo "skipped: $*" >&2; exit 77
}
finish() { if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed" >&2; exit 1; fi; echo "ok"; exit 0; }
