# Hints about feature networks lead somewhere (issue #28, item 3): each hint
# printed here is followed, and what it says to run works.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
# A missing eval.features file whose name is no dataset: no `--dataset nonexist`.
out=$("$DUEL" train --out "$WORK/a" "${TINY[@]}" --set train.steps=2 --set eval.every=2 \
  --set "eval.features=$WORK/nonexist.duelfeat" 2>&1); rc=$?
[ "$rc" = 2 ] || fail "missing eval.features: exit $rc"
grep -q "^error: feature network '$WORK/nonexist.duelfeat' does not exist" <<<"$out" || fail "missing eval.features: $out"
hint=$(grep "^hint:" <<<"$out")
grep -q -- "--dataset nonexist" <<<"$hint" && fail "the hint names a dataset 'nonexist': $hint"
cmd=$(grep -o '`duel features train [^`]*`' <<<"$hint" | tr -d '`')
[ "$cmd" = "duel features train --dataset fashion-mnist --out $WORK/nonexist.duelfeat" ] || fail "hint command: '$cmd' ($hint)"
# Followed (on the fixture, 2 steps), it writes the file and the run trains.
"$DUEL" ${cmd#duel } --data-path "$FIXTURES/idx" --steps 2 --batch 32 --threads 1 >/dev/null 2>&1 || fail "the hint's command failed"
"$DUEL" train --out "$WORK/a2" "${TINY[@]}" --set train.steps=2 --set eval.every=2 --set eval.n=32 \
  --set "eval.features=$WORK/nonexist.duelfeat" >/dev/null 2>&1 || fail "train after following the hint"
# A folder dataset has no feature network of its own: no features-train hint (mixed sizes, no labels),
# no srgan --features flag; the hint's --set eval.every=0 works.
D=("${TINY[@]}" --set "data.dataset=folder:$FIXTURES/folder-rgb" --set train.batch_size=8 --set train.steps=2)
out=$("$DUEL" train --out "$WORK/f" "${D[@]}" --set eval.every=2 2>&1); rc=$?
[ "$rc" = 2 ] || fail "folder without a feature network: exit $rc: $out"
hint=$(grep "^hint:" <<<"$out")
grep -q "no feature network for dataset 'folder:" <<<"$out" || fail "folder: $out"
grep -qE -- "features train --dataset folder|pass --features|--features FILE\)?$" <<<"$hint" && fail "folder hint: $hint"
grep -q -- "--set eval.every=0" <<<"$hint" || fail "folder hint lacks eval.every=0: $hint"
"$DUEL" train --out "$WORK/f2" "${D[@]}" --set eval.every=0 >/dev/null 2>&1 || fail "train with the hint's eval.every=0"
finish
