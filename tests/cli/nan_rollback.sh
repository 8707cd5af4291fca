# Non-finite values: a NaN injected into a weight (debug.inject_nan_step) is
# caught in the step that makes it; the run rolls back to its last good
# checkpoint (or its first state) with every learning rate halved and
# finishes; injected again and again, it stops after train.nan_rollbacks
# rollbacks with exit 2, and nothing non-finite is ever checkpointed.
source "$(dirname "$0")/lib.sh"
T=("${TINY[@]}" --set train.steps=12 --set train.checkpoint_every=4 --set train.sample_every=0)
events() { python3 - "$@" <<'PY'
import json, sys
run, want = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(run + "/events.jsonl")]
rb = [r for r in rows if r["event"] == "rollback"]
logs = [r["step"] for r in rows if r["event"] == "log"]
if want == "once":
    assert len(rb) == 1, rb
    r = rb[0]
    assert (r["step"], r["diverged_at"], r["rollback"], r["limit"]) == (4, 7, 1, 3), r
    assert r["lr"] == {"G": 1e-4, "D": 1e-4} and r["lr_scale"] == 0.5, r  # 2e-4 halved
    assert "loss_d=" in r["reason"] and "non-finite weights in G" in r["reason"], r
    assert logs == [2, 4, 6, 8, 10, 12], logs  # the rows after step 4 were rewritten, once each
    assert rows[-1]["event"] == "finish"
elif want == "start":
    assert len(rb) == 1 and rb[0]["step"] == 0 and rb[0]["from"] == "the start of the run", rb
elif want == "limit":
    assert [r["rollback"] for r in rb] == [1, 2, 3], rb
    assert [r["lr"]["G"] for r in rb] == [1e-4, 5e-5, 2.5e-5], rb
    assert rows[-1]["event"] == "diverged" and rows[-1]["rollbacks"] == 3, rows[-1]
elif want == "resumed":
    res = [r for r in rows if r["event"] == "resume"]
    assert res[-1]["rollbacks"] == 1 and res[-1]["lr_scale"] == 0.5, res
PY
}
# One NaN at step 7: one rollback to step 4, rates halved, the run finishes.
out=$("$DUEL" train --out "$WORK/once" "${T[@]}" --set debug.inject_nan_step=7 2>&1) || fail "run with one NaN: $out"
grep -q "warning: training diverged at step 7 (loss_d=.*nan.*): rolled back to step 4 .*learning rates halved (rollback 1 of at most 3)" <<<"$out" \
  || fail "no rollback warning: $out"
events "$WORK/once" once || fail "events of the run with one NaN"
awk -F, 'NR>1 { for (i=3;i<=6;i++) if ($i+0 != $i) exit 1 }' "$WORK/once/metrics.csv" || fail "a non-finite value in metrics.csv"
grep -q '"event":"checkpoint","path":"[^"]*step-000012.duel","step":12' "$WORK/once/events.jsonl" || fail "no final checkpoint"
# A resumed run keeps its halved rates.
"$DUEL" train --resume "$WORK/once" --set train.steps=14 --threads 1 >/dev/null 2>&1 || fail "resume after a rollback"
events "$WORK/once" resumed || fail "the resumed run lost its rollback state"
# A NaN before the first checkpoint: back to the run's first state.
"$DUEL" train --out "$WORK/start" "${T[@]}" --set debug.inject_nan_step=3 >/dev/null 2>&1 || fail "run with an early NaN"
events "$WORK/start" start || fail "events of the early rollback"
# The NaN comes back every time: three rollbacks, then exit 2 with what diverged.
expect_exit 2 "training diverged at step 7: loss_d=.*nan.*non-finite weights in G.*after 3 rollback\(s\).*train.nan_rollbacks = 3.*last checkpoint is intact" \
  -- "$DUEL" train --out "$WORK/limit" "${T[@]}" --set debug.inject_nan_step=7 --set debug.inject_nan_count=100
events "$WORK/limit" limit || fail "events of the run that hit the limit"
"$DUEL" info "$WORK/limit/checkpoints/latest.duel" | grep -q "^step: *4 " || fail "the last good checkpoint is not intact"
# train.nan_rollbacks = 0: stop at once.
expect_exit 2 "training diverged at step 3: .*train.nan_rollbacks = 0.*no checkpoint had been written" \
  -- "$DUEL" train --out "$WORK/zero" "${T[@]}" --set train.nan_rollbacks=0 --set debug.inject_nan_step=3
[ -s "$WORK/zero/events.jsonl" ] || fail "the run with nan_rollbacks=0 left no events.jsonl to check"
grep -q '"event":"rollback"' "$WORK/zero/events.jsonl" && fail "nan_rollbacks=0 rolled back"
finish
