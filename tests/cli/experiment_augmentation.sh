# duel experiment augmentation runs end to end on the fixture IDX data
# (tiny settings): a results JSON with one run per seed and subset size,
# accuracies in [0, 1], mean ± std per size; bad settings are refused.
source "$(dirname "$0")/lib.sh"
args=(--dataset mnist --data-path "$FIXTURES/idx" --seeds 2 --synthetic-per-class 3 --gan-steps 2 --gan-width 4
      --classifier-steps 3 --threads 1)
expect_exit 0 "real \+ synthetic" -- "$DUEL" experiment augmentation --work "$WORK/exp" --per-class 2 --per-class 3 "${args[@]}"
json="$WORK/exp/results.json"
[ -s "$json" ] || fail "no results.json"
python3 - "$json" <<'PY' || fail "results.json is not what it should be"
import json, sys
r = json.load(open(sys.argv[1]))
runs = r["runs"]
assert [(x["per_class"], x["seed"]) for x in runs] == [(2, 1), (2, 2), (3, 1), (3, 2)], runs
for x in runs:
    assert 0.0 <= x["accuracy_real"] <= 1.0 and 0.0 <= x["accuracy_augmented"] <= 1.0, x
for s in r["summary"]:
    mine = [x["accuracy_real"] for x in runs if x["per_class"] == s["per_class"]]
    assert abs(s["real_mean"] - sum(mine) / len(mine)) < 1e-12, s
    assert s["runs"] == 2
PY
# A known value instead of a range: the experiment is seeded, so a second run of the per-class-2
# cases in another folder gives exactly the first run's accuracies, real-only and augmented.
"$DUEL" experiment augmentation --work "$WORK/exp-again" --per-class 2 "${args[@]}" >/dev/null 2>&1 || fail "second run"
python3 - "$json" "$WORK/exp-again/results.json" <<'PY' || fail "a rerun of the experiment gives other accuracies"
import json, sys
a, b = (json.load(open(p))["runs"] for p in sys.argv[1:])
key = lambda x: (x["per_class"], x["seed"], x["accuracy_real"], x["accuracy_augmented"])
first = [key(x) for x in a if x["per_class"] == 2]
again = [key(x) for x in b]
print("per-class 2 runs:", first)
assert first == again, (first, again)
PY
# The cgan saw only the subset: its data line names 2 images per class.
grep -q "subset" "$WORK/exp/n2-seed1/cgan/events.jsonl" || fail "the cgan did not train on the subset"
expect_exit 2 "fewer than the 100000 per class" -- "$DUEL" experiment augmentation --work "$WORK/exp2" \
  --per-class 100000 "${args[@]}"
expect_exit 2 "no class labels|holds no" -- "$DUEL" experiment augmentation --work "$WORK/exp3" \
  --dataset "folder:$FIXTURES/folder-empty" --per-class 2 --seeds 1
expect_exit 2 "must end in .json" -- "$DUEL" experiment augmentation --work "$WORK/exp4" --out "$WORK/r.txt" "${args[@]}"
finish
