# Text-to-image end to end on the IDX fixture: derived captions, training,
# exact resume, sampling from a prompt and between two prompts, the
# measurement command, and every bad input with its message.
source "$(dirname "$0")/lib.sh"
CAP="$WORK/cap.tsv"

# --- duel captions ---
"$DUEL" captions fashion-mnist --data-path "$FIXTURES/idx" --per-image 3 --out "$CAP" >/dev/null || fail "captions"
[ "$(wc -l < "$CAP")" = 768 ] || fail "captions: $(wc -l < "$CAP") lines, want 256 x 3"
head -1 "$CAP" | grep -qP '^0\t\S' || fail "captions: first line $(head -1 "$CAP")"
"$DUEL" captions fashion-mnist --data-path "$FIXTURES/idx" --per-image 3 --out "$WORK/cap2.tsv" >/dev/null || fail "captions again"
cmp -s "$CAP" "$WORK/cap2.tsv" || fail "captions are not deterministic for a seed"
"$DUEL" captions fashion-mnist --data-path "$FIXTURES/idx" --per-image 3 --seed 2 --out "$WORK/cap3.tsv" >/dev/null &&
  [ -s "$WORK/cap3.tsv" ] || fail "control: captions --seed 2 failed or wrote nothing"
[ -s "$WORK/cap3.tsv" ] && cmp -s "$CAP" "$WORK/cap3.tsv" && fail "another seed gave the same captions"
"$DUEL" captions fashion-mnist --data-path "$FIXTURES/idx" --split test --phrasings heldout --out "$WORK/held.tsv" >/dev/null ||
  fail "held-out captions"
[ "$(wc -l < "$WORK/held.tsv")" = 320 ] || fail "held-out captions: $(wc -l < "$WORK/held.tsv") lines, want 64 x 5"
expect_exit 2 "fashion-mnist only" -- "$DUEL" captions mnist --out "$WORK/x.tsv"
expect_exit 2 "must end in .tsv" -- "$DUEL" captions fashion-mnist --out "$WORK/x.txt"
expect_exit 2 "is not a split" -- "$DUEL" captions fashion-mnist --split dev --out "$WORK/x.tsv"
expect_exit 2 "is not a phrasing set" -- "$DUEL" captions fashion-mnist --phrasings odd --out "$WORK/x.tsv"
expect_exit 2 "no 'train-(images|labels)-idx" -- "$DUEL" captions fashion-mnist --data-path "$WORK/nowhere" --out "$WORK/x.tsv"
[ -e "$WORK/x.tsv" ] && fail "a failed captions command left a file"

# --- training and exact resume ---
T0=("${TINY[@]}" --set data.dataset=fashion-mnist --set "data.path=$FIXTURES/idx" --set model.name=text2img
    --set model.word_dim=8 --set model.text_dim=16 --set model.text_cond=8 --set train.label_smoothing=0.2)
T=("${T0[@]}" --set "data.captions=$CAP")
"$DUEL" train --out "$WORK/a" "${T[@]}" --set train.steps=8 --set train.checkpoint_every=4 --set train.sample_every=4 \
  >/dev/null 2>&1 || fail "train text2img"
head -1 "$WORK/a/metrics.csv" | grep -q "d_mismatch" || fail "metrics lack d_mismatch: $(head -1 "$WORK/a/metrics.csv")"
[ -s "$WORK/a/samples/final.png" ] || fail "no final grid"
# Fashion-MNIST has a feature network, so this run also has the collapse probe, which a
# resume builds after restoring the RNG state: the resume is still bit-exact.
grep -q "collapse_probe" "$WORK/a/events.jsonl" || fail "the run has no collapse probe"
resume_matches text2img "$WORK/a"
info=$("$DUEL" info "$WORK/a/checkpoints/latest.duel")
grep -q "^net E " <<<"$info" || fail "info lacks the text encoder: $info"
grep -qE "^captions: +[0-9]+ words, up to 16 per prompt" <<<"$info" || fail "info lacks the captions: $info"
grep -q "^vocabulary: .* pullover " <<<"$info" || fail "info lacks the vocabulary"

# --- sampling from the checkpoint alone ---
K="$WORK/a/checkpoints/latest.duel"
"$DUEL" sample -k "$K" --prompt "A dark, long pullover." --n 16 --out "$WORK/p.png" --threads 1 >/dev/null || fail "sample --prompt"
[ -s "$WORK/p.png" ] || fail "no prompt grid"
"$DUEL" sample -k "$K" --prompt "a dark coat" --prompt-to "a light coat" --rows 3 --steps 5 --out "$WORK/walk.png" \
  --threads 1 >/dev/null || fail "sample --prompt-to"
[ -s "$WORK/walk.png" ] || fail "no interpolation grid"
"$DUEL" sample -k "$K" --prompt "a bag" --interpolate --rows 2 --steps 3 --out "$WORK/z.png" --threads 1 >/dev/null ||
  fail "noise interpolation with a prompt"
expect_exit 2 "unknown word 'pulover' in the prompt; nearest known words: pullover" -- \
  "$DUEL" sample -k "$K" --prompt "a dark pulover" --out "$WORK/u.png"
expect_exit 2 "the prompt is empty" -- "$DUEL" sample -k "$K" --prompt " ... " --out "$WORK/u.png"
expect_exit 2 "draws images from text: --prompt is required" -- "$DUEL" sample -k "$K" --out "$WORK/u.png"
expect_exit 2 "reads at most 16" -- "$DUEL" sample -k "$K" --prompt "$(printf 'dark %.0s' $(seq 17))coat" --out "$WORK/u.png"
expect_exit 2 "--prompt-to needs --prompt" -- "$DUEL" sample -k "$K" --prompt-to "a coat" --out "$WORK/u.png"
[ -e "$WORK/u.png" ] && fail "a refused sample left a file"

# --- measurement command (tiny: 4 images per class) ---
"$DUEL" experiment text2img -k "$K" --n 4 --n-attribute 2 --out "$WORK/t2i.json" --threads 1 >/dev/null ||
  fail "experiment text2img"
python3 - "$WORK/t2i.json" <<'EOF' || fail "experiment JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["experiment"] == "text2img" and j["step"] == 8, j
assert len(j["classes"]) == 10 and len(j["attributes"]) == 40
for c in j["classes"]:  # FID is null for a class with fewer than 2 fixture test images
    assert 0 <= c["recognised_heldout"] <= 1 and 0 <= c["recognised_train"] <= 1, c
    assert (c["fid"] is None) == (c["fid_floor"] is None) and (c["fid"] is None or c["fid"] >= 0), c
assert sum(c["fid"] is not None for c in j["classes"]) >= 5
assert [s["classes"] for s in j["attribute_summary"]] == [10, 10, 10, 10]
assert 0 <= j["recognised_heldout_mean"] <= 1
EOF
# A known value instead of ranges: the measurement is seeded, so running it again gives exactly the
# same per-class FIDs, floors and recognition rates.
"$DUEL" experiment text2img -k "$K" --n 4 --n-attribute 2 --out "$WORK/t2i-again.json" --threads 1 >/dev/null ||
  fail "experiment text2img again"
python3 - "$WORK/t2i.json" "$WORK/t2i-again.json" <<'EOF' || fail "a rerun of experiment text2img gives other figures"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for k in ("classes", "attribute_summary", "recognised_heldout_mean"):
    assert a[k] == b[k], (k, a[k], b[k])
EOF
# --n 2, the smallest its range allows, once crashed (SIGSEGV): now a JSON with no FIDs (2 images per class).
out=$("$DUEL" experiment text2img -k "$K" --n 2 --out "$WORK/t2i-n2.json" --threads 1 2>&1); rc=$?
[ "$rc" = 0 ] || fail "experiment text2img --n 2: exit $rc: $(tail -3 <<<"$out")"
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert len(j['classes']) == 10, j" "$WORK/t2i-n2.json" ||
  fail "experiment text2img --n 2 wrote no JSON of 10 classes"
expect_exit 2 "cannot open checkpoint" -- "$DUEL" experiment text2img -k "$WORK/none.duel" --out "$WORK/e.json"
expect_exit 2 "must end in .json" -- "$DUEL" experiment text2img -k "$K" --out "$WORK/e.txt"

# --- bad captions files and settings ---
bad() {  # bad NAME PATTERN CAPTIONS-TEXT [more --set]
  local name=$1 pattern=$2 text=$3; shift 3
  printf "%b" "$text" > "$WORK/$name.tsv"
  expect_exit 2 "$pattern" -- "$DUEL" train --out "$WORK/bad-$name" "${T[@]}" --set "data.captions=$WORK/$name.tsv" \
    --set train.steps=2 "$@"
  [ -e "$WORK/bad-$name" ] && fail "$name: a refused run left its folder"
}
expect_exit 2 "cannot open the captions file '$WORK/missing.tsv'" -- \
  "$DUEL" train --out "$WORK/bad-missing" "${T[@]}" --set "data.captions=$WORK/missing.tsv" --set train.steps=2
bad malformed "line 3: no tab between the image id and the caption" "0\ta coat\n1\ta coat\n2 a coat\n"
bad range "line 2: image id '256' is out of range: the split has 256 images" "0\ta coat\n256\ta coat\n"
bad uncaptioned "leaves 255 of 256 images without a caption" "0\ta coat\n"
bad empty "line 1: the caption has no words" "0\t?!\n"
expect_exit 2 "needs captioned data \\(data.captions\\)" -- \
  "$DUEL" train --out "$WORK/bad-nocap" "${T0[@]}" --set train.steps=2
expect_exit 2 "set eval.every = 0" -- "$DUEL" train --out "$WORK/bad-eval" "${T[@]}" --set eval.every=2 --set train.steps=2
# A resume with other captions is refused.
awk -F'\t' '{print $1 "\tthe item"}' "$CAP" > "$WORK/other.tsv"
expect_exit 2 "do not match the checkpoint's" -- \
  "$DUEL" train --resume "$WORK/a" --set "data.captions=$WORK/other.tsv" --set train.steps=12 --threads 1
finish
