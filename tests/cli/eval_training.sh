# eval.every: FID/KID while training, in metrics.csv and events.jsonl, and
# checkpoints/best.duel; the losses are the same as without evaluation.
source "$(dirname "$0")/lib.sh"
F="$WORK/mnist.duelfeat"
"$DUEL" features train --dataset mnist --data-path "$FIXTURES/idx" --out "$F" --steps 2 --batch 32 --threads 1 >/dev/null 2>&1 \
  || fail "features train"
E=(--set eval.every=2 --set eval.n=32 --set "eval.features=$F")
out=$("$DUEL" train --out "$WORK/r" "${TINY[@]}" --set train.steps=6 "${E[@]}" 2>&1) || fail "train with eval: $out"
grep -q "eval at step 2: FID" <<<"$out" || fail "no eval line: $out"
[ -s "$WORK/r/checkpoints/best.duel" ] || fail "no best.duel"
"$DUEL" info "$WORK/r/checkpoints/best.duel" >/dev/null || fail "best.duel does not load"
[ "$(head -1 "$WORK/r/metrics.csv")" = "step,epoch,loss_d,loss_g,d_real,d_fake,img_per_s,elapsed_s,fid,kid" ] \
  || fail "csv header: $(head -1 "$WORK/r/metrics.csv")"
python3 - "$WORK/r" <<'PY' || fail "eval rows"
import json, sys, csv
rows = [json.loads(l) for l in open(sys.argv[1] + "/events.jsonl")]
ev = [r for r in rows if r["event"] == "eval"]
assert [r["step"] for r in ev] == [2, 4, 6], ev
assert all(r["fid"] >= 0 and "kid" in r and "kid_std" in r for r in ev)
table = list(csv.DictReader(open(sys.argv[1] + "/metrics.csv")))
assert all(abs(float(t["fid"]) - e["fid"]) <= 1e-5 * max(1, e["fid"]) for t, e in zip(table, ev)) and len(table) == 3, (table, ev)
PY
# Evaluation draws its own noise: training is unchanged by it.
"$DUEL" train --out "$WORK/plain" "${TINY[@]}" --set train.steps=6 >/dev/null 2>&1 || fail "plain train"
cut -d, -f1-6 "$WORK/r/metrics.csv" > "$WORK/a.csv"; cut -d, -f1-6 "$WORK/plain/metrics.csv" > "$WORK/b.csv"
cmp -s "$WORK/a.csv" "$WORK/b.csv" || fail "evaluation changed the training losses"
expect_exit 2 "does not exist.*|duel features train" -- "$DUEL" train --out "$WORK/x" "${TINY[@]}" --set train.steps=2 \
  --set eval.every=1 --set "eval.features=$WORK/none.duelfeat"
finish
