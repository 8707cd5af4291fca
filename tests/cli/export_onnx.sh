# duel export writes every registered model's generator as ONNX, and ONNX
# Runtime (onnxruntime-node, a real consumer, not duel's own reader) computes
# what LibTorch computes: for each model, trained 3 steps at a large G
# learning rate (cyclegan: its default, which already moves it; a large one
# saturates it) so weights and batch-norm statistics are far from their
# initial values and the outputs span a real range (std >= 0.05), `duel export
# --reference` dumps seeded inputs and LibTorch's output, and
# web/check_onnx.mjs runs the file on them as one batch and image by image
# (dynamic batch), requiring max |difference| <= 1e-4. Bad requests are
# refused with exit 2 and no file.
source "$(dirname "$0")/lib.sh"
CHECK="$SOURCE_DIR/web/check_onnx.mjs"
[ -d "$SOURCE_DIR/web/node_modules/onnxruntime-node" ] ||
  { echo "onnxruntime-node is not installed: run scripts/install-deps.sh" >&2; exit 1; }

noise=("${TINY[@]}" --set train.checkpoint_every=0 --set train.sample_every=0 --set train.steps=3 --set optim.g_lr=0.05)
rgb="$FIXTURES/folder-rgb"
mkdir -p "$WORK/A/train" "$WORK/B/train"
i=0
for f in $(find "$rgb" -name '*.png' | sort | head -8); do
  i=$((i + 1))
  cp "$f" "$WORK/A/train/im$i.png"
  cp "$f" "$WORK/B/train/im$i.png"
done
i2i=(--set data.image_size=32 --set data.channels=3 --set train.batch_size=4 --set model.g_width=4 --set model.d_width=4
     --set train.log_every=2 --set train.sample_every=0 --set train.checkpoint_every=0 --set sample.grid=4
     --set train.steps=3 --set optim.g_lr=0.05 --threads 1)
declare -A runs=(
  [mlp]="${noise[*]} --set model.name=mlp --set model.mlp_hidden=16"
  [dcgan]="${noise[*]} --set model.name=dcgan"
  [dcgan-ema]="${noise[*]} --set model.name=dcgan --set train.ema=0.5"
  [dcgan-rgb32]="${noise[*]} --set model.name=dcgan --set data.dataset=folder:$rgb --set data.image_size=32 --set data.channels=3"
  [cgan]="${noise[*]} --set model.name=cgan"
  [wgan]="${noise[*]} --set model.name=wgan"
  [wgan-gp]="${noise[*]} --set model.name=wgan-gp"
  [infogan]="${noise[*]} --set model.name=infogan"
  [aae]="${noise[*]} --set model.name=aae"
  [pix2pix]="${i2i[*]} --set model.name=pix2pix --set data.pair=paired-folders --set data.path=$WORK/A --set data.path_b=$WORK/B"
  [cyclegan]="${i2i[*]} --set model.name=cyclegan --set data.pair=unpaired-folders --set data.path=$WORK/A --set data.path_b=$WORK/B --set model.resnet_blocks=2 --set optim.g_lr=2e-4"
  [srgan]="${i2i[*]} --set model.name=srgan --set data.dataset=folder:$rgb --set model.sr_blocks=2 --set model.sr_pretrain_steps=2 --set model.sr_feature_weight=0 --set optim.g_lr=0.02"
  [srresnet]="${i2i[*]} --set model.name=srresnet --set data.dataset=folder:$rgb --set model.sr_blocks=2 --set model.sr_scale=2"
)
results="$WORK/results.jsonl"
: >"$results"
# check NAME CKPT [export options...]: export, dump a reference batch, compare in ONNX Runtime.
check() {
  local name=$1 ck=$2; shift 2
  local out
  out=$("$DUEL" export -k "$ck" --out "$WORK/$name.onnx" --reference "$WORK/ref-$name" --batch 3 --threads 1 "$@" 2>&1) ||
    { fail "$name: export failed: $(tail -3 <<<"$out")"; return; }
  grep -q "opset 17" <<<"$out" || fail "$name: export printed no summary"
  out=$(node "$CHECK" "$WORK/$name.onnx" "$WORK/ref-$name" --tol 1e-4 --min-std 0.05 2>&1) ||
    { fail "$name: ONNX Runtime disagrees with LibTorch: $out"; return; }
  echo "{\"case\": \"$name\", \"check\": $out}" >>"$results"
}
for name in "${!runs[@]}"; do
  read -ra x <<<"${runs[$name]}"
  "$DUEL" train --out "$WORK/$name" "${x[@]}" >"$WORK/$name.log" 2>&1 ||
    { fail "$name: training failed"; tail -3 "$WORK/$name.log" >&2; continue; }
  ck="$WORK/$name/checkpoints/latest.duel"
  case $name in
    cyclegan) check cyclegan-AtoB "$ck" --direction AtoB; check cyclegan-BtoA "$ck" --direction BtoA ;;
    pix2pix|srgan|srresnet)
      check "$name" "$ck"
      # the spatial size is dynamic too: a larger input than the training size
      check "$name-64" "$ck" --size 64 ;;
    *) check "$name" "$ck" ;;
  esac
done
cat "$results"
[ "$(wc -l <"$results")" -eq 17 ] || fail "expected 17 verified exports, got $(wc -l <"$results")"

# The EMA run samples from averaged weights that differ from its live weights
# (the dcgan run trained identically without EMA): the export carries the averages.
node "$CHECK" "$WORK/dcgan.onnx" "$WORK/ref-dcgan-ema" >/dev/null 2>&1 &&
  fail "the EMA run's samples equal the live weights' output: the EMA check proves nothing"
# A wrong reference is caught: the check can fail.
node "$CHECK" "$WORK/wgan.onnx" "$WORK/ref-dcgan" >/dev/null 2>&1 && fail "check_onnx accepted another model's output"

# The file says what it is: inputs, outputs, opset, metadata (strings a protobuf reader would show).
grep -qa "label" "$WORK/cgan.onnx" || fail "cgan.onnx has no label input"
grep -qa "latent_layout" "$WORK/infogan.onnx" || fail "infogan.onnx lacks its latent layout"
grep -qa "normal:8,onehot:10,uniform:2" "$WORK/infogan.onnx" || fail "infogan.onnx has the wrong latent layout"

# Bad requests: exit 2, a clear message, no file.
ck="$WORK/dcgan/checkpoints/latest.duel"
expect_exit 2 "must end in .onnx" -- "$DUEL" export -k "$ck" --out "$WORK/bad.txt"
expect_exit 2 "needs --out" -- "$DUEL" export -k "$ck"
expect_exit 2 "no direction" -- "$DUEL" export -k "$ck" --out "$WORK/bad1.onnx" --direction AtoB
expect_exit 2 "does not translate BtoA" -- "$DUEL" export -k "$WORK/pix2pix/checkpoints/latest.duel" \
  --out "$WORK/bad2.onnx" --direction BtoA
expect_exit 2 "translates images" -- "$DUEL" export -k "$WORK/pix2pix/checkpoints/latest.duel" --web "$WORK/bad-web"
expect_exit 2 "multiple of 32" -- "$DUEL" export -k "$WORK/pix2pix/checkpoints/latest.duel" --out "$WORK/bad3.onnx" \
  --reference "$WORK/bad-ref" --size 40
expect_exit 2 "folder of --out" -- "$DUEL" export -k "$ck" --out "$WORK/no/such/dir/g.onnx"
expect_exit 2 "No such file|cannot open|does not exist" -- "$DUEL" export -k "$WORK/missing.duel" --out "$WORK/bad4.onnx"
for f in bad.txt bad1.onnx bad2.onnx bad4.onnx bad-web; do [ -e "$WORK/$f" ] && fail "refused export left $f"; done
finish
