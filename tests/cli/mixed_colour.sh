# An image folder whose first image is grayscale and the rest colour is read
# as RGB (the grayscale ones repeated over three channels), and the data line
# says so; an all-gray folder stays one channel; data.channels = 1 still
# reads everything as gray.
source "$(dirname "$0")/lib.sh"
M="$WORK/mixed"
mkdir -p "$M/a" "$M/b"
# A 32x32 grayscale PNG (colour type 0), sorted before every colour image.
python3 - "$M/a/000-gray.png" "$WORK/gray-only/000.png" "$WORK/gray-only/001.png" <<'PY' || fail "writing gray PNGs"
import os, struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
rows = b"".join(b"\0" + bytes((x * 8 + y) % 256 for x in range(32)) for y in range(32))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 0, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
for path in sys.argv[1:]:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(png)
PY
cp "$FIXTURES"/folder-rgb/circle/img1*.png "$M/a/"
cp "$FIXTURES"/folder-rgb/square/img1*.png "$M/b/"
n=$(find "$M" -name '*.png' | wc -l)
out=$("$DUEL" train --out "$WORK/r" "${TINY[@]}" --set "data.dataset=folder:$M" --set train.batch_size=4 --set train.steps=1 2>&1) \
  || fail "train on a mixed folder: $out"
grep -q "^data: folder $M (1 of $n images are grayscale, read as RGB because the others have colour .*) $n images 3x32x32" \
  <<<"$out" || fail "data line: $out"
"$DUEL" info "$WORK/r/checkpoints/latest.duel" | grep -q "3 channel(s), 32x32 px, 2 classes" || fail "info: not RGB"
out=$("$DUEL" train --out "$WORK/g" "${TINY[@]}" --set "data.dataset=folder:$WORK/gray-only" --set train.batch_size=2 \
      --set train.steps=1 2>&1) || fail "train on a gray folder: $out"
grep -q "^data: folder $WORK/gray-only 2 images 1x32x32" <<<"$out" || fail "gray folder: $out"
out=$("$DUEL" train --out "$WORK/c1" "${TINY[@]}" --set "data.dataset=folder:$M" --set data.channels=1 \
      --set train.batch_size=4 --set train.steps=1 2>&1) || fail "data.channels=1: $out"
grep -q "^data: folder $M $n images 1x32x32" <<<"$out" || fail "data.channels=1: $out"
finish
