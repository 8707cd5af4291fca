# duel eval's look inside the generator: the memorisation check (figures in
# the table and the JSON, the closest-pairs PNG beside the JSON, data.limit
# respected), the class balance, --no-memorisation, a split that holds the
# test images, the report's real images and memorisation section, and errors.
source "$(dirname "$0")/lib.sh"
F="$WORK/mnist.duelfeat"
"$DUEL" features train --dataset mnist --data-path "$FIXTURES/idx" --out "$F" --steps 3 --batch 32 --threads 1 >/dev/null 2>&1 \
  || fail "features train"
# Trained on the first 100 of the fixture's 256 training images: the check compares with those 100.
"$DUEL" train --out "$WORK/r" "${TINY[@]}" --set train.steps=4 --set data.limit=100 >/dev/null 2>&1 || fail "train"
CK="$WORK/r/checkpoints/latest.duel"
out=$("$DUEL" eval --checkpoint "$CK" --n 32 --features "$F" --threads 1 2>&1) || fail "eval: $out"
for want in "memorisation (nearest of 100 training images in feature space, against 32 held-out images)" \
            "samples closer to a training image than 99% of held-out images" "median distance to the nearest training image" \
            "exact copies (distance 0): samples 0.0000, held-out 0.0000" \
            "closest pairs (sample above its training image): $WORK/r/eval/step-000004-closest.png" \
            "class balance (share of images the feature network assigns to each class)" "total variation"; do
  grep -qF "$want" <<<"$out" || fail "eval output lacks '$want': $out"
done
J="$WORK/r/eval/step-000004.json" P="$WORK/r/eval/step-000004-closest.png"
[ -s "$P" ] || fail "no closest-pairs PNG at $P"
# Known values: with 32 held-out images the 1% quantile lies between the two smallest distances,
# so exactly one held-out image (1/32) is below it; the pairs come closest first, one per sample,
# each pointing into the 100 training images; the PNG holds 16 pairs as 4 rows of 8 cells, the
# 28x28 images enlarged twice (2-pixel padding: 8*58+2 by 4*58+2); the class shares are multiples
# of 1/32 that sum to 1.
python3 - "$J" "$P" <<'PY' || fail "memorisation JSON or PNG"
import json, struct, sys
j = json.load(open(sys.argv[1]))
m = j["memorisation"]
assert m["train"] == 100 and m["held_out"] == 32 and m["samples"] == 32, m
assert m["held_out_share"] == 1 / 32, m["held_out_share"]
assert 0 <= m["share"] <= 1 and m["quantile"] == 0.01 and m["warn_share"] == 0.05
assert m["warn"] == (m["share"] >= 0.05)
assert m["median_sample_distance"] > 0 and m["median_held_out_distance"] > 0 and m["threshold"] > 0
assert m["closest_png"] == "step-000004-closest.png"
pairs = m["closest_pairs"]
assert len(pairs) == 16 and len({p["sample"] for p in pairs}) == 16
d = [p["distance"] for p in pairs]
assert d == sorted(d) and all(0 <= p["train"] < 100 and 0 <= p["sample"] < 32 for p in pairs), pairs
assert d[0] <= m["median_sample_distance"]
png = open(sys.argv[2], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", png[16:24])
assert (w, h) == (8 * 58 + 2, 4 * 58 + 2), (w, h)
b = j["class_balance"]
assert len(b["classes"]) == 10 and len(b["generated"]) == 10 and len(b["reference"]) == 10
for shares in (b["generated"], b["reference"]):
    assert abs(sum(shares) - 1) < 1e-9 and all(abs(s * 32 - round(s * 32)) < 1e-9 for s in shares), shares
tv = 0.5 * sum(abs(g - r) for g, r in zip(b["generated"], b["reference"]))
assert abs(b["total_variation"] - tv) < 1e-12 and 0 <= b["floor_total_variation"] <= 1
PY
# The report shows real training images beside the samples and the memorisation figures with the pairs.
"$DUEL" report "$WORK/r" --threads 1 >/dev/null 2>&1 || fail "report"
grep -q 'id="real-grid"[^>]*src="data:image/png;base64,' "$WORK/r/report.html" || fail "report lacks the real images"
grep -q '<h4>Memorisation</h4>' "$WORK/r/report.html" || fail "report lacks the memorisation figures"
grep -q 'class="pixelated closest"[^>]*src="data:image/png;base64,' "$WORK/r/report.html" || fail "report lacks the closest pairs"
grep -q 'data-metric="class_balance"' "$WORK/r/report.html" || fail "report lacks the class balance"
# --no-memorisation: no check, no PNG, and the JSON says why.
out=$("$DUEL" eval --checkpoint "$CK" --n 32 --features "$F" --no-memorisation --out "$WORK/nomem.json" --threads 1 2>&1) \
  || fail "--no-memorisation: $out"
grep -q "^memorisation: left out (--no-memorisation)" <<<"$out" || fail "--no-memorisation not said: $out"
[ ! -e "$WORK/nomem-closest.png" ] || fail "--no-memorisation wrote the pairs"
python3 -c "import json; m = json.load(open('$WORK/nomem.json'))['memorisation']; assert 'share' not in m and 'skipped' in m, m" \
  || fail "--no-memorisation JSON"
# A model trained on split 'all' saw the test images: nothing is held out, so the check is skipped.
"$DUEL" train --out "$WORK/all" "${TINY[@]}" --set train.steps=2 --set data.split=all >/dev/null 2>&1 || fail "train all"
out=$("$DUEL" eval -k "$WORK/all" --n 32 --features "$F" --threads 1 2>&1) || fail "eval of split all: $out"
grep -q "^memorisation: skipped: the model trained on the all split, which holds the test images" <<<"$out" \
  || fail "split all not skipped: $out"
# Errors: the check needs a checkpoint (an image folder has no training set of its own).
expect_exit 2 "--images excludes --no-memorisation" -- "$DUEL" eval --images "$WORK" --dataset mnist --no-memorisation
finish
