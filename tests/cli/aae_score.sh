# The aae through the CLI: training with a held-out class, `duel score` (CSV,
# JSON summary, AUROC checked against a pair count of the CSV, reconstruction
# grid), sampling, bit-exact resume, and bad inputs (exit 2).
source "$(dirname "$0")/lib.sh"
A=("${TINY[@]}" --set model.name=aae --set model.aae_e_width=8 --set model.aae_d_hidden=16
   --set train.checkpoint_every=0 --set train.sample_every=0 --set train.label_smoothing=0.2)

# Train on every class but 3.
out=$("$DUEL" train --out "$WORK/a" "${A[@]}" --set data.exclude_class=3 --set train.steps=8 2>&1) || fail "train: $out"
grep -q "without class 3" <<<"$out" || fail "training data still holds class 3: $(grep 'data:' <<<"$out")"
CK="$WORK/a/checkpoints/latest.duel"
info=$("$DUEL" info "$CK") || fail "info"
for want in "model: +aae" "net E " "net G " "net D " "optimizer AE" "optimizer E "; do
  grep -qE "$want" <<<"$info" || fail "info lacks '$want'"
done
head -1 "$WORK/a/metrics.csv" | grep -q "loss_recon,loss_d,loss_e,d_real,d_fake" || fail "metrics header: $(head -1 "$WORK/a/metrics.csv")"

# Score the test split (64 images, every class): one CSV row per image, an AUROC that a pair count confirms.
out=$("$DUEL" score --checkpoint "$CK" --out "$WORK/s.csv" --anomaly-class 3 --recon-grid "$WORK/r.png" --threads 1 2>&1) \
  || fail "score: $out"
grep -qE "scored 64 images" <<<"$out" || fail "score count: $out"
grep -qE "AUROC of class 3 vs the rest: [01]\.[0-9]{4}" <<<"$out" || fail "no AUROC line: $out"
grep -q "^warning:" <<<"$out" && fail "a warning for the held-out class: $out"
# A class the model trained on is no anomaly test: said, with the held-out class to score instead.
out=$("$DUEL" score --checkpoint "$CK" --out "$WORK/s0.csv" --anomaly-class 0 --threads 1 2>&1) || fail "score class 0: $out"
grep -q "^warning: class 0 was in the training data (data.exclude_class=3), so its AUROC is no anomaly test$" <<<"$out" ||
  fail "no warning for a trained-on class: $out"
grep -q "^hint: score the held-out class: --anomaly-class 3$" <<<"$out" || fail "no hint for a trained-on class: $out"
python3 - "$WORK/s.csv" "$WORK/s.json" "$WORK/r.png" <<'EOF' || fail "score outputs"
import csv, json, struct, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 64, len(rows)
assert [int(r["index"]) for r in rows] == list(range(64))
labels = [int(r["label"]) for r in rows]; scores = [float(r["score"]) for r in rows]
assert all(0 <= l < 10 for l in labels) and 3 in labels
assert all(s >= 0 for s in scores)
pos = [s for s, l in zip(scores, labels) if l == 3]; neg = [s for s, l in zip(scores, labels) if l != 3]
auc = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg) / (len(pos) * len(neg))
js = json.load(open(sys.argv[2]))
assert abs(js["auroc"] - auc) < 1e-12, (js["auroc"], auc)
assert js["n_positive"] == len(pos) and js["n_negative"] == len(neg) and js["score"] == "combined"
assert abs(js["auroc_by_score"]["combined"] - auc) < 1e-12
b = open(sys.argv[3], "rb").read(); w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (16 * 30 + 2, 4 * 30 + 2), (w, h)   # 16 + 16 images in row pairs
EOF
# Another score kind changes the scores; without --anomaly-class no AUROC, and the summary goes where asked.
"$DUEL" score -k "$CK" --out "$WORK/l.csv" --score latent --summary "$WORK/l-summary.json" --threads 1 >"$WORK/l.out" 2>&1 || fail "score latent"
grep -q AUROC "$WORK/l.out" && fail "AUROC printed without --anomaly-class"
[ -s "$WORK/l-summary.json" ] || fail "no --summary file"
cmp -s <(cut -d, -f3 "$WORK/s.csv") <(cut -d, -f3 "$WORK/l.csv") && fail "--score latent gave the combined scores"
# --set data.limit and --split train.
"$DUEL" score -k "$CK" --out "$WORK/t.csv" --split train --set data.limit=20 --threads 1 >/dev/null 2>&1 || fail "score train split"
[ "$(wc -l <"$WORK/t.csv")" = 21 ] || fail "limit 20 gave $(wc -l <"$WORK/t.csv") lines"
# The decoder draws samples from the prior.
"$DUEL" sample --checkpoint "$CK" --n 8 --out "$WORK/g.png" --threads 1 >/dev/null || fail "sample"

# Resume: 8 steps straight equal 4 + resume + 4, bit for bit.
"$DUEL" train --out "$WORK/h" "${A[@]}" --set data.exclude_class=3 --set train.steps=4 >/dev/null 2>&1 || fail "first half"
"$DUEL" train --resume "$WORK/h" --set train.steps=8 --threads 1 >/dev/null 2>&1 || fail "resume"
digests() { "$DUEL" info "$1" | grep -E "^net |^step"; }
cmp <(digests "$CK") <(digests "$WORK/h/checkpoints/latest.duel") || fail "resumed weights differ"
cmp <(cut -d, -f1-8 "$WORK/a/metrics.csv") <(cut -d, -f1-8 "$WORK/h/metrics.csv") || fail "resumed loss curves differ"

# Bad inputs.
"$DUEL" train --out "$WORK/d" "${TINY[@]}" --set train.steps=2 --set train.checkpoint_every=0 >/dev/null 2>&1 || fail "dcgan train"
expect_exit 2 "hint: duel score needs an aae checkpoint" -- "$DUEL" score -k "$WORK/d/checkpoints/latest.duel" --out "$WORK/x.csv"
expect_exit 2 "cannot open checkpoint '$WORK/none.duel'" -- "$DUEL" score -k "$WORK/none.duel" --out "$WORK/x.csv"
expect_exit 2 "out of range.*10 classes" -- "$DUEL" score -k "$CK" --out "$WORK/x.csv" --anomaly-class 10
expect_exit 2 "must end in .csv" -- "$DUEL" score -k "$CK" --out "$WORK/x.txt"
expect_exit 2 "only data.\* keys" -- "$DUEL" score -k "$CK" --out "$WORK/x.csv" --set model.latent_dim=3
expect_exit 2 "does not match the checkpoint" -- "$DUEL" score -k "$CK" --out "$WORK/x.csv" --set data.image_size=32
expect_exit 2 "exclude_class = 12 is out of range" -- "$DUEL" train --out "$WORK/e" "${A[@]}" --set data.exclude_class=12 --set train.steps=2
finish
