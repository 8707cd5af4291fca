# Outputs that must not be lost: `duel augment --out synth/` (a trailing
# slash, an empty folder made first, --force over an earlier set); `duel
# features train` writes runs/features/<dataset>.duelfeat by default and never
# overwrites a network without --force (the committed features/ file every
# documented FID depends on); a second `duel eval` of one step keeps the first.
source "$(dirname "$0")/lib.sh"
cd "$WORK" || exit 1
"$DUEL" train --out cg "${TINY[@]}" --set model.name=cgan --set train.steps=2 >/dev/null 2>&1 || fail "train cgan"
expect_exit 0 "wrote 20 images .* to synth/" -- "$DUEL" augment -k cg --per-class 2 --out synth/ --threads 1
[ "$(find synth -name '*.png' | wc -l)" = 20 ] || fail "synth/ holds $(find synth -name '*.png' | wc -l) images"
mkdir made
expect_exit 0 "wrote 10 images" -- "$DUEL" augment -k cg --per-class 1 --out made/ --threads 1
expect_exit 2 "^error: 'synth/' already exists" -- "$DUEL" augment -k cg --per-class 1 --out synth/ --threads 1
expect_exit 0 "wrote 10 images" -- "$DUEL" augment -k cg --per-class 1 --out synth/ --force --threads 1
[ "$(find synth -name '*.png' | wc -l)" = 10 ] || fail "--force did not replace synth/"
ls -a | grep -q '^\.synth' && fail "temporary folders left: $(ls -a)"
# Feature networks: a project root with its committed network is left alone.
mkdir -p features && printf 'committed' > features/mnist.duelfeat
FT=(features train --dataset mnist --data-path "$FIXTURES/idx" --steps 2 --batch 32 --threads 1)
expect_exit 0 "^feature network: runs/features/mnist.duelfeat" -- "$DUEL" "${FT[@]}"
[ "$(cat features/mnist.duelfeat)" = committed ] || fail "features train overwrote features/mnist.duelfeat"
expect_exit 2 "^error: feature network 'runs/features/mnist.duelfeat' already exists" -- "$DUEL" "${FT[@]}"
expect_exit 2 "^error: feature network 'features/mnist.duelfeat' already exists" -- "$DUEL" "${FT[@]}" --out features/mnist.duelfeat
[ "$(cat features/mnist.duelfeat)" = committed ] || fail "a refused features train changed the file"
expect_exit 0 "^feature network: runs/features/mnist.duelfeat" -- "$DUEL" "${FT[@]}" --force
# Two evaluations of one step: both kept, each with its own n.
"$DUEL" train --out r "${TINY[@]}" --set train.steps=2 >/dev/null 2>&1 || fail "train"
E=(eval -k r --features runs/features/mnist.duelfeat --no-floor --threads 1)
expect_exit 0 "wrote $WORK/r/eval/step-000002.json" -- "$DUEL" "${E[@]}" --n 32
expect_exit 0 "wrote $WORK/r/eval/step-000002.2.json" -- "$DUEL" "${E[@]}" --n 16
grep -q '"n": *32' r/eval/step-000002.json || fail "the first evaluation was overwritten: $(head -c 300 r/eval/step-000002.json)"
grep -q '"n": *16' r/eval/step-000002.2.json || fail "the second evaluation: $(head -c 300 r/eval/step-000002.2.json)"
finish
