# duel data pack: an image folder and an IDX dataset packed into .dueldata
# files that decode to the same tensors (content digests), train, verify,
# and refuse damage and bad input without leaving files behind.
source "$(dirname "$0")/lib.sh"
D=$FIXTURES/folder-rgb
out=$("$DUEL" data pack "folder:$D" "$WORK/rgb.dueldata" --threads 2 2>&1) || fail "pack folder: $out"
grep -q "packed 36 images (3 channel(s), 32 px, 3 classes)" <<<"$out" || fail "pack summary: $out"
digest() { "$DUEL" data info "$@" 2>&1 | sed -n 's/^content: *sha256 //p'; }
[ "$(digest "folder:$D")" = "$(digest "packed:$WORK/rgb.dueldata")" ] || fail "packed folder decodes differently"
# Resized at pack time: the same as the folder read at 16 px.
"$DUEL" data pack "folder:$D" "$WORK/rgb16.dueldata" --size 16 >/dev/null 2>&1 || fail "pack --size 16"
[ "$(digest "folder:$D" --size 16)" = "$(digest "packed:$WORK/rgb16.dueldata")" ] || fail "packed 16 px differs"
"$DUEL" data pack mnist --data-path "$FIXTURES/idx" --split all "$WORK/idx.dueldata" >/dev/null 2>&1 || fail "pack idx"
[ "$(digest mnist --data-path "$FIXTURES/idx" --split all)" = "$(digest "packed:$WORK/idx.dueldata")" ] || fail "packed idx differs"
expect_exit 0 "ok: .*rgb.dueldata \(1 parts intact\)" -- "$DUEL" data verify "$WORK/rgb.dueldata"
# It trains like the folder does.
"$DUEL" train --set "data.dataset=packed:$WORK/rgb.dueldata" --set model.name=dcgan --set train.steps=3 --set train.batch_size=8 \
  --set model.g_width=8 --set model.d_width=8 --set eval.every=0 --out "$WORK/run" --threads 1 >"$WORK/train.log" 2>&1 ||
  fail "train on packed: $(tail -3 "$WORK/train.log")"
[ -s "$WORK/run/samples/final.png" ] || fail "no final grid from the packed run"
# Labels from a CSV, with a file left out: refused, then skipped.
( cd "$D" && find . -name '*.png' | sed 's|^\./||' | sort | head -35 | awk -F/ '{print $0","$1}' ) > "$WORK/labels.csv"
expect_exit 2 "found 3 classes, 1 files without a label" -- "$DUEL" data pack "folder:$D" "$WORK/csv.dueldata" --labels "$WORK/labels.csv"
[ -e "$WORK/csv.dueldata" ] && fail "a refused pack left its output"
expect_exit 0 "packed 35 images" -- "$DUEL" data pack "folder:$D" "$WORK/csv.dueldata" --labels "$WORK/labels.csv" --unlabelled skip
# Gray images sorted before colour ones, decoded on 2 threads: one choice (RGB) for all.
mkdir -p "$WORK/mix"
"$DUEL" data info mnist --data-path "$FIXTURES/idx" --sheet "$WORK/mix/a1.png" --sheet-n 4 >/dev/null 2>&1 || fail "gray sheet"
cp "$WORK/mix/a1.png" "$WORK/mix/a2.png" && cp "$WORK/mix/a1.png" "$WORK/mix/a3.png"
for i in 1 2 3; do cp "$D/circle/img$i.png" "$WORK/mix/z$i.png"; done
expect_exit 0 "packed 6 images \(3 channel\(s\), 16 px" -- "$DUEL" data pack "folder:$WORK/mix" "$WORK/mix.dueldata" --size 16 --threads 2
# Damage, truncation and bad input.
cp "$WORK/rgb.dueldata" "$WORK/bad.dueldata"
printf 'x' | dd of="$WORK/bad.dueldata" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_exit 2 "DAMAGED  records 0-35: CRC mismatch" -- "$DUEL" data verify "$WORK/bad.dueldata"
head -c 20000 "$WORK/rgb.dueldata" > "$WORK/cut.dueldata"
expect_exit 2 "'$WORK/cut.dueldata' is not a usable packed dataset: the file is 20000 bytes" -- \
  "$DUEL" train --set "data.dataset=packed:$WORK/cut.dueldata" --out "$WORK/r2" --threads 1
[ -e "$WORK/r2" ] && fail "a refused train made its run folder"
expect_exit 2 "data.image_size = 28 but '$WORK/rgb.dueldata' is packed at 32 px" -- \
  "$DUEL" data info "packed:$WORK/rgb.dueldata" --size 28
expect_exit 2 "OUT '$WORK/x.bin' must end in .dueldata" -- "$DUEL" data pack "folder:$D" "$WORK/x.bin"
expect_exit 2 "'$WORK/rgb.dueldata' exists" -- "$DUEL" data pack "folder:$D" "$WORK/rgb.dueldata"
expect_exit 2 "image folder '$WORK/none' does not exist" -- "$DUEL" data pack "folder:$WORK/none" "$WORK/n.dueldata"
[ -e "$WORK/n.dueldata" ] && fail "a failed pack left its output"
expect_exit 2 "is packed already" -- "$DUEL" data pack "packed:$WORK/rgb.dueldata" "$WORK/again.dueldata"
finish
