# duel translate and duel upscale: the errors every checkpoint can trigger
# (a model that does not translate, missing inputs, bad output paths), and a
# tiny pix2pix / srgan run (both must be registered: a missing one fails) whose
# checkpoints translate a folder and upscale images of any size.
source "$(dirname "$0")/lib.sh"
# PNG helpers (8-bit gray/RGB, every filter type): size, max pixel difference, a patterned gray image.
cat >"$WORK/png.py" <<'PY'
import struct, sys, zlib
def read(p):
    b = open(p, 'rb').read(); w, h = struct.unpack('>II', b[16:24]); ch = {0: 1, 2: 3}[b[25]]
    i, data = 8, b''
    while i < len(b):
        n, = struct.unpack('>I', b[i:i + 4])
        if b[i + 4:i + 8] == b'IDAT': data += b[i + 8:i + 8 + n]
        i += 12 + n
    raw, stride, rows, prev = zlib.decompress(data), w * ch, [], bytearray(w * ch)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0; up = prev[x]; c = prev[x - ch] if x >= ch else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + up) & 255
            elif f == 3: line[x] = (line[x] + (a + up) // 2) & 255
            elif f == 4:
                p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        rows.append(bytes(line)); prev = line
    return w, h, ch, rows
def write(p, w, h):
    raw = b''.join(b'\0' + bytes((x * 7 + y * 13 + (x * y) % 5 * 20) % 256 for x in range(w)) for y in range(h))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    open(p, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)) +
                        chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
if sys.argv[1] == 'size': print(*read(sys.argv[2])[:2])
elif sys.argv[1] == 'write': write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
elif sys.argv[1] == 'maxdiff':
    a, b = read(sys.argv[2]), read(sys.argv[3])
    print(max(abs(p - q) for ra, rb in zip(a[3], b[3]) for p, q in zip(ra, rb)) if a[:3] == b[:3] else 'shape')
PY
png() { python3 "$WORK/png.py" "$@"; }

# Input images: a nested folder of 28x28 PNGs (and a JPEG) cut from the fixture data, one odd-sized image.
"$DUEL" train --out "$WORK/dc" "${TINY[@]}" --set train.steps=2 >/dev/null 2>&1 || fail "dcgan train"
DC="$WORK/dc/checkpoints/latest.duel"
mkdir -p "$WORK/in/sub" "$WORK/empty/deeper"
"$DUEL" sample -k "$DC" --n 3 --each "$WORK/in" --threads 1 >/dev/null || fail "sample inputs"
cp "$WORK/in/sample-000000.png" "$WORK/in/sub/nested.png"
echo "not an image" >"$WORK/in/notes.txt"

# A model that does not translate is named, with the models that do.
expect_exit 2 "model 'dcgan' .*does not translate images" -- \
  "$DUEL" translate -k "$DC" --in "$WORK/in" --out "$WORK/out-dc" --threads 1
expect_exit 2 "pix2pix and cyclegan translate, srgan upscales" -- \
  "$DUEL" upscale -k "$DC" "$WORK/in/sample-000000.png" "$WORK/up-dc.png" --threads 1
[ -e "$WORK/out-dc" ] && fail "a refused translate created its --out folder"
[ -e "$WORK/up-dc.png" ] && fail "a refused upscale wrote its output"
expect_exit 2 "--in '.*/none' does not exist" -- "$DUEL" translate -k "$DC" --in "$WORK/none" --out "$WORK/o" --threads 1
expect_exit 2 "must end in .png" -- "$DUEL" upscale -k "$DC" "$WORK/in/sample-000000.png" "$WORK/up.jpg"
expect_exit 2 "folder of output .* does not exist" -- \
  "$DUEL" upscale -k "$DC" "$WORK/in/sample-000000.png" "$WORK/nodir/up.png"
expect_exit 2 "cannot open checkpoint" -- "$DUEL" translate -k "$WORK/none.duel" --in "$WORK/in" --out "$WORK/o"

# The models this test expects must be registered: a missing one fails the test, it is not skipped.
models=$("$DUEL" train --list-models 2>&1) || fail "duel train --list-models: $models"
for m in pix2pix srgan; do
  grep -qE "^$m " <<<"$models" || fail "model '$m' is not registered; duel train --list-models: $(cut -d' ' -f1 <<<"$models" | tr '\n' ' ')"
done
# pix2pix with a depth-3 U-Net on Sobel pairs at 32 px: inputs must be multiples of 8.
"$DUEL" train --out "$WORK/p2p" "${TINY[@]}" --set model.name=pix2pix --set data.pair=sobel \
  --set data.image_size=32 --set model.unet_depth=3 --set train.steps=2 >/dev/null 2>&1 || fail "pix2pix train"
P2P="$WORK/p2p/checkpoints/latest.duel"
expect_exit 2 "image '.*sample-000000.png' is 28x28: model 'pix2pix' needs sides that are multiples of 8" -- \
  "$DUEL" translate -k "$P2P" --in "$WORK/in" --out "$WORK/t28" --threads 1
expect_exit 2 "pass --size S with S a multiple of 8 \(e.g. --size 32\)" -- \
  "$DUEL" translate -k "$P2P" --in "$WORK/in" --out "$WORK/t28" --threads 1
[ -e "$WORK/t28" ] && fail "a refused translate wrote into --out"
out=$("$DUEL" translate -k "$P2P" --in "$WORK/in/" --out "$WORK/t32" --size 32 --batch 2 --threads 1 2>&1) ||
  fail "translate --size 32: $out"
grep -q "translated 4 images AtoB with pix2pix" <<<"$out" || fail "translate reported: $out"
got=$(cd "$WORK/t32" && find . -type f | sort | tr '\n' ' ')
[ "$got" = "./sample-000000.png ./sample-000001.png ./sample-000002.png ./sub/nested.png " ] ||
  fail "translate wrote: $got"
[ "$(png size "$WORK/t32/sub/nested.png")" = "32 32" ] || fail "nested output is $(png size "$WORK/t32/sub/nested.png")"
# The same image gives the same output wherever it lies and however it is batched.
[ "$(png maxdiff "$WORK/t32/sample-000000.png" "$WORK/t32/sub/nested.png")" = 0 ] || fail "a copy translated differently"
"$DUEL" translate -k "$P2P" --in "$WORK/in/sample-000000.png" --out "$WORK/t1" --size 32 --threads 1 >/dev/null 2>&1 ||
  fail "translate one file"
cmp -s "$WORK/t1/sample-000000.png" "$WORK/t32/sample-000000.png" || fail "one file translated differently"
expect_exit 2 "^error: --size 30 is not a multiple of 8, which model 'pix2pix' needs" -- \
  "$DUEL" translate -k "$P2P" --in "$WORK/in" --out "$WORK/t30" --size 30 --threads 1
expect_exit 2 "^hint: use --size 32" -- \
  "$DUEL" translate -k "$P2P" --in "$WORK/in" --out "$WORK/t30" --size 30 --threads 1
expect_exit 2 "^error: model 'pix2pix' cannot translate in direction 'BtoA'" -- \
  "$DUEL" translate -k "$P2P" --in "$WORK/in" --out "$WORK/tba" --size 32 --direction BtoA --threads 1
expect_exit 2 "^hint: its directions: AtoB" -- \
  "$DUEL" translate -k "$P2P" --in "$WORK/in" --out "$WORK/tba" --size 32 --direction BtoA --threads 1
expect_exit 2 "--in folder '.*empty' holds no PNG, JPEG or BMP images" -- \
  "$DUEL" translate -k "$P2P" --in "$WORK/empty" --out "$WORK/te" --threads 1
# An unreadable image fails the whole command before anything is written.
mkdir -p "$WORK/bad"
cp "$WORK/in/sample-000000.png" "$WORK/bad/a.png"
head -c 60 "$WORK/in/sample-000001.png" >"$WORK/bad/b.png"  # a truncated PNG
cp "$WORK/in/sample-000002.png" "$WORK/bad/c.png"
expect_exit 2 "cannot read image '.*bad/b.png'" -- \
  "$DUEL" translate -k "$P2P" --in "$WORK/bad" --out "$WORK/tbad" --size 32 --threads 1
[ -e "$WORK/tbad" ] && fail "translate wrote outputs before finding the bad input"
# Two inputs that would become the same .png are refused.
mkdir -p "$WORK/clash" && cp "$WORK/in/sample-000000.png" "$WORK/clash/x.png" && cp "$WORK/in/sample-000000.png" "$WORK/clash/x.PNG"
expect_exit 2 "would both be written to" -- "$DUEL" translate -k "$P2P" --in "$WORK/clash" --out "$WORK/tc" --size 32 --threads 1
expect_exit 2 "model 'pix2pix' is not a super-resolution model" -- \
  "$DUEL" upscale -k "$P2P" "$WORK/in/sample-000000.png" "$WORK/up-p2p.png" --threads 1

# srgan x2 (one residual block, no feature loss): any input size, in tiles or whole.
"$DUEL" train --out "$WORK/sr" "${TINY[@]}" --set model.name=srgan --set model.sr_scale=2 --set model.sr_blocks=1 \
  --set model.sr_pretrain_steps=1 --set model.sr_feature_weight=0 --set train.steps=2 >/dev/null 2>&1 || fail "srgan train"
SR="$WORK/sr/checkpoints/latest.duel"
png write "$WORK/odd.png" 45 19
out=$("$DUEL" upscale -k "$SR" "$WORK/odd.png" "$WORK/odd-whole.png" --threads 1 2>&1) || fail "upscale: $out"
grep -q "(45x19) x2 with srgan .*(90x38)" <<<"$out" || fail "upscale reported: $out"
[ "$(png size "$WORK/odd-whole.png")" = "90 38" ] || fail "upscaled size $(png size "$WORK/odd-whole.png")"
# Tiles of 16 px with 8 px of context each side reproduce the whole-image output;
# with 4 px of context (less than the generator sees) at most a gray level differs.
"$DUEL" upscale -k "$SR" "$WORK/odd.png" "$WORK/odd-t8.png" --tile 24 --overlap 8 --threads 1 >/dev/null 2>&1 || fail "upscale tiles"
[ "$(png maxdiff "$WORK/odd-whole.png" "$WORK/odd-t8.png")" = 0 ] || fail "tiled (overlap 8) differs: $(png maxdiff "$WORK/odd-whole.png" "$WORK/odd-t8.png")"
"$DUEL" upscale -k "$SR" "$WORK/odd.png" "$WORK/odd-t4.png" --tile 16 --overlap 4 --batch 3 --threads 1 >/dev/null 2>&1 || fail "upscale tiles 4"
d=$(png maxdiff "$WORK/odd-whole.png" "$WORK/odd-t4.png")
[ "$d" != shape ] && [ "$d" -le 2 ] || fail "tiled (overlap 4) differs by $d"
expect_exit 2 "leaves no room between overlaps" -- \
  "$DUEL" upscale -k "$SR" "$WORK/odd.png" "$WORK/x.png" --tile 16 --overlap 8 --threads 1
expect_exit 2 "input '.*none.png' does not exist" -- "$DUEL" upscale -k "$SR" "$WORK/none.png" "$WORK/x.png"
[ -e "$WORK/x.png" ] && fail "a refused upscale wrote its output"
# duel translate takes srgan too: 28 px in, 56 px out.
"$DUEL" translate -k "$SR" --in "$WORK/in" --out "$WORK/tsr" --threads 1 >/dev/null 2>&1 || fail "translate with srgan"
[ "$(png size "$WORK/tsr/sample-000001.png")" = "56 56" ] || fail "srgan translate size $(png size "$WORK/tsr/sample-000001.png")"
finish
