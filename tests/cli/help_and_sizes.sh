# Help texts, size limits and small output details (issue #28, items 10 and 11):
# `duel help` and -V, defaults and examples in --help, ranges printed as
# integers, one grid capped (with a pointer at --each), eval --n's range,
# plurals, --set with spaces, --each naming a file, sample --out creating its
# folder.
source "$(dirname "$0")/lib.sh"
expect_exit 0 "^ +train +train a GAN" -- "$DUEL" help
expect_exit 0 "^Examples:" -- "$DUEL" help sample
expect_exit 0 "^duel 0\.1\.0" -- "$DUEL" -V
expect_exit 2 "did you mean 'train'" -- "$DUEL" help trainn
help=$("$DUEL" sample --help)
grep -qE -- "--n INT:INT in \[1 - 10000000\]=64" <<<"$help" || fail "sample --help shows no default of --n: $(grep -- '--n ' <<<"$help")"
grep -qE -- "--batch INT:INT in \[1 - 65536\]=256" <<<"$help" || fail "sample --help shows no default of --batch"
grep -qE -- "--checkpoint TEXT REQUIRED" <<<"$help" || fail "sample --help does not mark --checkpoint required"
grep -q "^Exit codes: 0 success, 2 bad input" <<<"$help" || fail "sample --help lacks the exit codes"
grep -qE -- "--n INT:INT in \[10 - 10000000\]=10000" <<<"$("$DUEL" eval --help)" || fail "eval --help: --n range/default"
for c in train sample eval export; do
  [ "$("$DUEL" "$c" --help | sed -n '/^Examples:/,/^$/p' | grep -c "^  duel $c ")" -ge 1 ] || fail "$c --help has no example"
done
# eval's --n range says what eval needs.
expect_exit 2 "^error: --n: Value 1 not in range 10 to 10000000" -- "$DUEL" eval -k x.duel --n 1
# Ranges of config keys as integers.
expect_exit 2 "out of range \[1, 1000\] \(in --set\)" -- "$DUEL" train --out "$WORK/x" --set train.keep_checkpoints=0
R="$WORK/run"
out=$("$DUEL" train --out "$R" "${TINY[@]}" --set "train.steps = 2" 2>&1) || fail "--set with spaces: $out"
grep -q "^trained 2 steps" <<<"$out" || fail "--set 'train.steps = 2' did not set 2 steps: $out"
grep -q "(written 1 time," <<<"$out" || fail "report line: $(grep '^report:' <<<"$out" | head -1)"
CK="$R/checkpoints/latest.duel"
expect_exit 0 "^wrote 1 sample from" -- "$DUEL" sample -k "$CK" --n 1 --out "$WORK/new/dir/one.png" --threads 1
[ -s "$WORK/new/dir/one.png" ] || fail "sample --out did not create its folder"
expect_exit 0 "^wrote 2 samples from" -- "$DUEL" sample -k "$CK" --n 2 --out "$WORK/two.png" --threads 1
expect_exit 2 "^error: --each '$CK' is a file, not a folder" -- "$DUEL" sample -k "$CK" --n 2 --each "$CK"
# One grid is capped; --each is the way to many images.
# (timeout: without the cap the first would run for hours toward a gigapixel PNG)
expect_exit 2 "^error: --n 10000000 is too many images for one grid \(at most 4096\)" -- \
  timeout 60 "$DUEL" sample -k "$CK" --n 10000000 --out "$WORK/huge.png" --threads 1
expect_exit 2 "^hint: write one PNG per image with --each DIR" -- \
  timeout 60 "$DUEL" sample -k "$CK" --n 4097 --out "$WORK/huge.png" --threads 1
[ -e "$WORK/huge.png" ] && fail "a refused grid was written"
finish
