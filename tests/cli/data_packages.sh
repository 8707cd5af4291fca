# Datasets from Debian packages (`duel data get crawl-tiles|emoji|textures`)
# and self-supervised feature networks (`duel features train --method
# contrastive`, `duel features check`): real preparation where the packages
# are installed, and clear errors (exit 2, the file named, nothing left
# behind) for missing or damaged sources.
source "$(dirname "$0")/lib.sh"
D="$WORK/datasets"
# Missing and damaged sources.
expect_exit 2 "'/nonexistent/player.png', the source of dataset crawl-tiles, does not exist" -- \
  "$DUEL" data get crawl-tiles --from /nonexistent --root "$D"
expect_exit 2 "crawl-tiles-data" -- "$DUEL" data get crawl-tiles --from /nonexistent --root "$D"
echo "not a font" > "$WORK/junk.ttf"
expect_exit 2 "'$WORK/junk.ttf' is not a TrueType/OpenType font" -- "$DUEL" data get emoji --from "$WORK/junk.ttf" --root "$D"
echo "not a zip" > "$WORK/junk.pk3"
expect_exit 2 "'$WORK/junk.pk3' is not a zip archive" -- "$DUEL" data get textures --from "$WORK/junk.pk3" --root "$D"
expect_exit 2 "is made from the Debian package" -- "$DUEL" data get emoji --source npm --root "$D"
[ -e "$D/crawl-tiles" ] || [ -e "$D/emoji" ] || [ -e "$D/textures" ] && fail "a refused data get left a dataset folder"
ls -A "$D" 2>/dev/null | grep -q . && fail "a refused data get left files: $(ls -A "$D")"
expect_exit 2 "dataset emoji has no train split under '$WORK/none'" -- \
  "$DUEL" train --out "$WORK/r" --set data.dataset=emoji --set "data.path=$WORK/none" --set train.steps=1
expect_exit 2 "prepare it with .duel data get emoji." -- \
  "$DUEL" train --out "$WORK/r" --set data.dataset=emoji --set "data.path=$WORK/none" --set train.steps=1
[ -e "$WORK/r" ] && fail "a refused train left a run folder"

# Contrastive features on the RGB fixture folder, then their check.
F="$WORK/rgb.duelfeat"
out=$("$DUEL" features train --dataset "folder:$FIXTURES/folder-rgb" --method contrastive --out "$F" --steps 3 --batch 8 \
  --threads 1 2>&1) || fail "contrastive features train: $out"
grep -q "nt-xent" <<<"$out" || fail "no NT-Xent progress: $out"
info=$("$DUEL" features info "$F") || fail "features info"
grep -q "classes: *0" <<<"$info" || fail "a contrastive net has a classifier: $info"
grep -q "input: *3x32x32" <<<"$info" || fail "input: $info"
out=$("$DUEL" features check "$F" --dataset "folder:$FIXTURES/folder-rgb" --n 20 --markdown "$WORK/check.md" --threads 1 2>&1) \
  || fail "features check: $out"
for row in "none (floor)" "| noise |" "| blur |" "| shuffle |" "| drop-clusters |"; do
  grep -qF "$row" "$WORK/check.md" || fail "check table lacks '$row'"
done
grep -q "5-NN accuracy" "$WORK/check.md" || fail "a labelled folder gets no k-NN accuracy"
expect_exit 2 "feature network '$WORK/none.duelfeat' does not exist" -- \
  "$DUEL" features check "$WORK/none.duelfeat" --dataset "folder:$FIXTURES/folder-rgb"
expect_exit 2 "contrastive training needs a batch of >= 2 images" -- "$DUEL" features train --dataset "folder:$FIXTURES/folder-rgb" \
  --method contrastive --out "$WORK/x.duelfeat" --batch 60000 --steps 1
[ -e "$WORK/x.duelfeat" ] && fail "a refused features train wrote its output"
expect_exit 2 "use --method contrastive" -- "$DUEL" features train --dataset "folder:$FIXTURES/folder-rgb/circle" \
  --out "$WORK/y.duelfeat" --steps 1

# data.only_class keeps one class; out of range is refused by name.
out=$("$DUEL" train --out "$WORK/only" --set "data.dataset=folder:$FIXTURES/folder-rgb" --set data.only_class=1 \
  --set train.steps=1 --set train.batch_size=4 --set model.g_width=8 --set model.d_width=8 --set data.image_size=32 \
  --set data.channels=3 --threads 1 2>&1) || fail "train with data.only_class: $out"
grep -q "class 1 (square): 12 images" <<<"$out" || fail "data.only_class = 1 did not keep the 12 squares: $(head -3 <<<"$out")"
expect_exit 2 "data.only_class = 7 is out of range" -- "$DUEL" train --out "$WORK/only7" \
  --set "data.dataset=folder:$FIXTURES/folder-rgb" --set data.only_class=7 --set train.steps=1

# Real package files: crawl-tiles and emoji take seconds.
[ -d /usr/share/crawl/dat/tiles ] && [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] ||
  skip "crawl-tiles-data or fonts-noto-color-emoji is not installed (scripts/install-deps.sh installs them)"
out=$("$DUEL" data get crawl-tiles --root "$D" 2>&1) || fail "data get crawl-tiles: $out"
grep -qE "characters [0-9]{3} " <<<"$out" || fail "crawl-tiles: no characters count: $out"
out=$(DUEL_DATA="$D" "$DUEL" data info crawl-tiles --split test 2>&1) || fail "data info crawl-tiles: $out"
grep -q "3 channel(s), 32x32 px" <<<"$out" || fail "crawl-tiles is not 32 px RGB: $out"
grep -qE "classes: +5" <<<"$out" || fail "crawl-tiles classes: $out"
out=$("$DUEL" data get crawl-tiles --root "$D" 2>&1) || fail "second data get"
grep -q "already in" <<<"$out" || fail "a second data get prepared again: $out"
"$DUEL" data verify "$D/crawl-tiles" >/dev/null 2>&1 || fail "crawl-tiles does not verify"
out=$("$DUEL" data get emoji --root "$D" 2>&1) || fail "data get emoji: $out"
n_light=$(ls "$D/emoji/train/02-tone-light" | wc -l)
n_dark=$(ls "$D/emoji/train/06-tone-dark" | wc -l)
[ "$n_light" -gt 250 ] && [ "$n_light" = "$n_dark" ] || fail "emoji tones: light $n_light, dark $n_dark"
out=$(DUEL_DATA="$D" "$DUEL" data info emoji --sheet "$WORK/emoji.png" 2>&1) || fail "data info emoji: $out"
grep -q "3 channel(s), 64x64 px" <<<"$out" || fail "emoji is not 64 px RGB: $out"
finish
