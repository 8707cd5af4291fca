# Mistyped commands, options, keys, models and values (issue #28, item 6):
# each is refused in duel's error:/hint: form with the nearest valid name, a
# flag of other tools (--steps) points at its config key, and a model name is
# checked before any data is read.
source "$(dirname "$0")/lib.sh"
expect_exit 2 "^error: unknown command 'trian'" -- "$DUEL" trian
expect_exit 2 "hint: did you mean 'train'\?" -- "$DUEL" trian
expect_exit 2 "did you mean 'sample'\?" -- "$DUEL" smaple -k x.duel
expect_exit 2 "unknown config key 'train.step' in --set" -- "$DUEL" train --out "$WORK/r" --set train.step=10
expect_exit 2 "hint: did you mean 'train.steps'\?" -- "$DUEL" train --out "$WORK/r" --set train.step=10
expect_exit 2 "hint: did you mean 'optim.g_lr'\?" -- "$DUEL" train --out "$WORK/r" --set optim.glr=0.1
expect_exit 2 "hint: did you mean 'hinge'\?" -- "$DUEL" train --out "$WORK/r" --set train.loss=hinje
# The model is checked before the data: no "data:" line, even with a dataset that is not there.
out=$("$DUEL" train --out "$WORK/r" --set model.name=dcgn --set data.path="$WORK/none" 2>&1); rc=$?
[ "$rc" = 2 ] || fail "model.name=dcgn: exit $rc"
grep -q "^error: unknown model 'dcgn'" <<<"$out" && grep -q "^hint: did you mean 'dcgan'?" <<<"$out" ||
  fail "model.name=dcgn: $out"
grep -q "^data:" <<<"$out" && fail "model.name=dcgn: the data was read before the model name was checked"
[ -e "$WORK/r" ] && fail "model.name=dcgn: a run folder was created"
# Flags of other tools: the config key to --set, with the value given.
expect_exit 2 "^error: duel train has no option --steps" -- "$DUEL" train --out "$WORK/r" --steps 10
expect_exit 2 "^hint: duel train takes settings as config keys: --set train.steps=10" -- "$DUEL" train --out "$WORK/r" --steps 10
expect_exit 2 "--set train.batch_size=32" -- "$DUEL" train --out "$WORK/r" --batch-size=32
expect_exit 2 "--set optim.g_lr=X --set optim.d_lr=X" -- "$DUEL" train --out "$WORK/r" --lr 0.001
expect_exit 2 "--set train.epochs=3" -- "$DUEL" train --out "$WORK/r" --epochs 3
# A mistyped option of any command: the nearest one.
expect_exit 2 "^hint: did you mean --nrow\?" -- "$DUEL" sample -k x.duel --out x.png --nrwo 4
# -out is not -o ut.
expect_exit 2 "^error: option '-out' has one dash" -- "$DUEL" sample -out x.png -k y.duel
expect_exit 2 "^hint: long options take two: --out" -- "$DUEL" sample -out x.png -k y.duel
# CLI11's own errors in duel's form.
expect_exit 2 "^error: --checkpoint is required" -- "$DUEL" sample --out x.png
expect_exit 2 "^hint: .duel sample --help. lists the options" -- "$DUEL" sample --out x.png
finish
