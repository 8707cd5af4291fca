# duel eval --images: a folder written by `duel sample --each` scores exactly
# as `duel eval --checkpoint` scores the same samples; against a dataset and
# against another folder; bad input named.
source "$(dirname "$0")/lib.sh"
"$DUEL" train "${TINY[@]}" --set train.steps=4 --set eval.every=0 --out "$WORK/run" >/dev/null 2>&1 || fail "train"
"$DUEL" features train --dataset mnist --data-path "$FIXTURES/idx" --out "$WORK/f.duelfeat" --steps 3 --batch 32 --threads 1 \
  >/dev/null 2>&1 || fail "features"
F=(--features "$WORK/f.duelfeat" --n 40 --threads 1)
"$DUEL" sample -k "$WORK/run" --seed 0 --n 40 --batch 500 --each "$WORK/each" --threads 1 >/dev/null 2>&1 || fail "sample --each"
fid() { sed -n 's/^  FID *\([0-9.]*\).*/\1/p'; }
a=$("$DUEL" eval -k "$WORK/run" "${F[@]}" 2>&1 | fid)
b=$("$DUEL" eval --images "$WORK/each" --dataset mnist --data-path "$FIXTURES/idx" "${F[@]}" --out "$WORK/i.json" 2>&1 | fid)
[ -n "$a" ] && [ "$a" = "$b" ] || fail "FID of the checkpoint ($a) and of its samples as a folder ($b) differ"
grep -q '"images"' "$WORK/i.json" || fail "no JSON from --images --out"
# Against another folder (here the samples themselves: two disjoint halves score as real).
out=$("$DUEL" eval --images "$WORK/each" --real "$WORK/each" --features "$WORK/f.duelfeat" --n 10 --threads 1 2>&1) || fail "--real: $out"
grep -q "scored: images of $WORK/each (first 10)" <<<"$out" || fail "--real output: $out"
expect_exit 2 "'$WORK/each' holds 40 images, fewer than --n 50" -- "$DUEL" eval --images "$WORK/each" --dataset mnist \
  --data-path "$FIXTURES/idx" --features "$WORK/f.duelfeat" --n 50
expect_exit 2 "image folder '$WORK/none' does not exist" -- "$DUEL" eval --images "$WORK/none" --dataset mnist --data-path "$FIXTURES/idx" "${F[@]}"
expect_exit 2 "--checkpoint excludes --images" -- "$DUEL" eval -k "$WORK/run" --images "$WORK/each"
expect_exit 2 "needs --checkpoint or --images" -- "$DUEL" eval
expect_exit 2 "--real requires --images" -- "$DUEL" eval -k "$WORK/run" --real "$WORK/each"
finish
