# duel features train/info on the tiny IDX fixture: a few steps, a file with
# its identity (dataset, accuracy, weights hash), and clear errors.
source "$(dirname "$0")/lib.sh"
F="$WORK/f/mnist.duelfeat"
out=$("$DUEL" features train --dataset mnist --data-path "$FIXTURES/idx" --out "$F" --steps 3 --batch 32 --threads 1 2>&1) \
  || fail "features train: $out"
[ -s "$F" ] || fail "no feature network written"
grep -qE "test accuracy: +0\.[0-9]{4} on 64 images" <<<"$out" || fail "no test accuracy: $out"
hash=$(sed -n 's/^hash: *//p' <<<"$out")
[[ "$hash" =~ ^[0-9a-f]{16}$ ]] || fail "hash '$hash'"
info=$("$DUEL" features info "$F") || fail "features info"
grep -q "hash: *$hash" <<<"$info" || fail "info hash differs: $info"
grep -q "dataset: *mnist" <<<"$info" || fail "info dataset: $info"
grep -q "input: *1x28x28" <<<"$info" || fail "info input: $info"
# An RGB folder of 32 px images gives a 3x32x32 network.
"$DUEL" features train --dataset "folder:$FIXTURES/folder-rgb" --out "$WORK/rgb.duelfeat" --steps 2 --batch 8 --threads 1 \
  >/dev/null 2>&1 || fail "features train on an image folder"
"$DUEL" features info "$WORK/rgb.duelfeat" | grep -q "input: *3x32x32" || fail "rgb input size"
expect_exit 2 "feature network '$WORK/none.duelfeat' does not exist" -- "$DUEL" features info "$WORK/none.duelfeat"
echo "not a network" > "$WORK/junk.duelfeat"
expect_exit 2 "cannot read feature network" -- "$DUEL" features info "$WORK/junk.duelfeat"
expect_exit 2 "no 't[a-z0-9]*-[a-z]*-idx[13]-ubyte" -- "$DUEL" features train --dataset mnist --data-path /nonexistent --out "$WORK/x.duelfeat" --steps 1
expect_exit 2 "^error: --epochs: Value 0 not in range 1 to" -- "$DUEL" features train --dataset mnist --data-path "$FIXTURES/idx" --out "$WORK/x.duelfeat" --epochs 0
[ -e "$WORK/x.duelfeat" ] && fail "a refused features train wrote its output"
expect_exit 2 "^error: A subcommand is required" -- "$DUEL" features
finish
