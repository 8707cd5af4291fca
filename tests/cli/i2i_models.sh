# pix2pix, cyclegan, srgan and srresnet train through the CLI on a tiny RGB
# image folder at 64 px (the colour path), resume bit for bit from a
# mid-run checkpoint (cyclegan's image pools included: with 3-image pools and
# batches of 4 the pools swap images from step 2 on, so a pool lost on resume
# would change D's updates), are scored by
# duel eval, refuse duel sample, and refuse data they cannot use.
source "$(dirname "$0")/lib.sh"
# A and B: the fixture's RGB images under the same names (pairs of equal images).
rgb="$FIXTURES/folder-rgb"
mkdir -p "$WORK/A/train" "$WORK/B/train"
i=0
for f in $(find "$rgb" -name '*.png' | sort); do
  i=$((i + 1))
  cp "$f" "$WORK/A/train/im$i.png"
  cp "$f" "$WORK/B/train/im$i.png"
done
[ "$i" -ge 8 ] || fail "fixture folder-rgb has only $i images"
common=(--set data.image_size=64 --set data.channels=3 --set train.batch_size=4 --set model.g_width=4
        --set model.d_width=4 --set train.log_every=2 --set train.sample_every=0 --set train.checkpoint_every=4
        --set sample.grid=4 --threads 1)
declare -A extra=(
  [pix2pix]="--set model.name=pix2pix --set data.pair=paired-folders --set data.path=$WORK/A --set data.path_b=$WORK/B --set data.flip=true"
  [cyclegan]="--set model.name=cyclegan --set data.pair=unpaired-folders --set data.path=$WORK/A --set data.path_b=$WORK/B --set model.resnet_blocks=1 --set model.pool_size=3"
  [srgan]="--set model.name=srgan --set data.dataset=folder:$rgb --set model.sr_blocks=1 --set model.sr_pretrain_steps=3 --set model.sr_feature_weight=0"
  [srresnet]="--set model.name=srresnet --set data.dataset=folder:$rgb --set model.sr_blocks=1 --set model.sr_scale=2"
)
for name in "${!extra[@]}"; do
  read -ra x <<<"${extra[$name]}"
  "$DUEL" train --out "$WORK/$name-a" "${common[@]}" "${x[@]}" --set train.steps=8 >"$WORK/$name.log" 2>&1 ||
    { fail "$name: training failed"; tail -3 "$WORK/$name.log" >&2; continue; }
  grep -q "3x64x64" "$WORK/$name.log" || fail "$name: data not RGB at 64 px: $(grep '^data' "$WORK/$name.log")"
  [ -s "$WORK/$name-a/samples/final.png" ] || fail "$name: no preview grid"
  resume_matches "$name" "$WORK/$name-a"
  ck="$WORK/$name-a/checkpoints/latest.duel"
  expect_exit 2 "draws nothing from noise" -- "$DUEL" sample -k "$ck" --out "$WORK/x.png"
  out=$("$DUEL" eval -k "$ck" --threads 1 2>&1) || fail "$name: eval failed: $out"
  case $name in
    pix2pix) grep -qE "^  identity +[0-9.]+ +[0-9.]+ +[0-9.]+" <<<"$out" || fail "pix2pix eval lacks the identity row" ;;
    srgan|srresnet) grep -qE "^  bicubic +[0-9.]+ +[0-9.]+ +[0-9.]+" <<<"$out" || fail "$name eval lacks the bicubic row" ;;
    cyclegan) grep -qE "cycle L1: A -> B -> A [0-9.]+" <<<"$out" || fail "cyclegan eval lacks the cycle error" ;;
  esac
  grep -q '"psnr_db"\|"cycle_l1"' "$WORK/$name-a/eval/step-000008.json" || fail "$name: eval JSON lacks its scores"
done
# With a feature network for the data, srgan's eval adds the feature distance to the targets (and bicubic's).
"$DUEL" features train --dataset "folder:$rgb" --method contrastive --size 64 --channels 3 --steps 2 --batch 8 \
  --out "$WORK/rgb64.duelfeat" --threads 1 >/dev/null 2>&1 || fail "contrastive features at 64 px"
out=$("$DUEL" eval -k "$WORK/srgan-a/checkpoints/latest.duel" --features "$WORK/rgb64.duelfeat" --threads 1 2>&1) ||
  fail "srgan eval with --features: $out"
grep -qE "feature distance to the target .*: output [0-9.]+, bicubic [0-9.]+" <<<"$out" || fail "srgan eval lacks the feature distance: $out"
# duel info names the B images of translators.
"$DUEL" info "$WORK/cyclegan-a/checkpoints/latest.duel" | grep -qE "B images: +3 channel\(s\), unpaired" ||
  fail "duel info lacks cyclegan's B images"

# duel judge: cyclegan with one domain's discriminator (A and B hold the same
# files, so real and "fake" score alike: AUROC 0.5 exactly), srgan with its D;
# srresnet and pix2pix have no single-image discriminator.
cy="$WORK/cyclegan-a/checkpoints/latest.duel" sr="$WORK/srgan-a/checkpoints/latest.duel"
out=$("$DUEL" judge -k "$cy" --domain B --real "$WORK/B/train" --fake "$WORK/A/train" --threads 1 2>&1) ||
  fail "judge cyclegan: $out"
grep -q "^AUROC real vs fake: 0.5000" <<<"$out" || fail "judge cyclegan: equal images should give AUROC 0.5: $out"
out=$("$DUEL" judge -k "$sr" --in "$WORK/A/train" --out "$WORK/sr.csv" --threads 1 2>&1) || fail "judge srgan: $out"
grep -qE "^in +$i images" <<<"$out" || fail "judge srgan: $out"
[ "$(wc -l <"$WORK/sr.csv")" -eq $((i + 1)) ] || fail "judge srgan CSV rows"
expect_exit 2 "'cyclegan' has a discriminator per domain \(A, B\)" -- "$DUEL" judge -k "$cy" --in "$WORK/A/train"
expect_exit 2 "--domain 'C' is not one of cyclegan's" -- "$DUEL" judge -k "$cy" --domain C --in "$WORK/A/train"
expect_exit 2 "--real-test reads the dataset's test images" -- \
  "$DUEL" judge -k "$cy" --domain A --real-test 4 --fake "$WORK/A/train"
expect_exit 2 "--domain is for models with a discriminator per domain" -- "$DUEL" judge -k "$sr" --domain A --in "$WORK/A/train"
expect_exit 2 "draws nothing from noise" -- "$DUEL" judge -k "$sr" --real "$WORK/A/train" --fake-samples 4
expect_exit 2 "srresnet has no discriminator" -- \
  "$DUEL" judge -k "$WORK/srresnet-a/checkpoints/latest.duel" --in "$WORK/A/train"
expect_exit 2 "'pix2pix' has no discriminator that judges single images" -- \
  "$DUEL" judge -k "$WORK/pix2pix-a/checkpoints/latest.duel" --in "$WORK/A/train"

# Data the models cannot use is refused before any work, and no run folder is left.
expect_exit 2 "pix2pix trains on paired images" -- "$DUEL" train --out "$WORK/bad1" "${TINY[@]}" \
  --set model.name=pix2pix --set train.steps=2
expect_exit 2 "multiple of 4" -- "$DUEL" train --out "$WORK/bad2" "${TINY[@]}" --set model.name=cyclegan \
  --set data.pair=unpaired-folders --set data.path="$WORK/A" --set data.path_b="$WORK/B" --set data.image_size=30 --set train.steps=2
expect_exit 2 "not a multiple of 4" -- "$DUEL" train --out "$WORK/bad3" "${TINY[@]}" --set model.name=srgan \
  --set data.image_size=30 --set train.steps=2
expect_exit 2 "eval.every" -- "$DUEL" train --out "$WORK/bad4" "${TINY[@]}" --set model.name=srresnet \
  --set eval.every=2 --set train.steps=2
for b in bad1 bad2 bad3 bad4; do [ -e "$WORK/$b" ] && fail "refused run $b left a folder"; done
finish
