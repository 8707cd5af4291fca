# Every model of the family trains a few steps through the CLI, resumes bit
# for bit (extra state included: EMA weights, spectral-norm vectors), and
# duel sample's --class / --interpolate / --traverse work or refuse clearly.
source "$(dirname "$0")/lib.sh"
common=("${TINY[@]}" --set train.checkpoint_every=0 --set train.sample_every=0)
declare -A extra=(
  [cgan]="--set model.name=cgan"
  [wgan]="--set model.name=wgan"
  [wgan-gp]="--set model.name=wgan-gp"
  [hinge-sn-ema]="--set train.loss=hinge --set model.spectral_norm=true --set model.d_norm=none --set train.ema=0.9"
  [lsgan-diffaug]="--set train.loss=least-squares --set train.diffaug=translation,cutout,color --set train.r1_weight=0.5"
  [cosine]="--set optim.schedule=cosine --set optim.warmup=2"
)
for name in "${!extra[@]}"; do
  read -ra x <<<"${extra[$name]}"
  "$DUEL" train --out "$WORK/$name-a" "${common[@]}" "${x[@]}" --set train.steps=8 --set train.checkpoint_every=4 \
    >"$WORK/$name.log" 2>&1 || { fail "$name: training failed"; tail -3 "$WORK/$name.log" >&2; continue; }
  [ -s "$WORK/$name-a/samples/final.png" ] || fail "$name: no final grid"
  resume_matches "$name" "$WORK/$name-a"
done
# The Wasserstein models log the critic's estimate; the registered defaults reach config.toml.
head -1 "$WORK/wgan-gp-a/metrics.csv" | grep -q "w_estimate" || fail "wgan-gp logs no w_estimate"
grep -q "^d_steps = 5" "$WORK/wgan-gp-a/config.toml" || fail "wgan-gp default d_steps not recorded"
grep -q "^gp_weight = 10" "$WORK/wgan-gp-a/config.toml" || fail "wgan-gp default gp_weight not recorded"

# On Fashion-MNIST (which has a committed feature network) every grid is read by the collapse probe.
"$DUEL" train --out "$WORK/probe" --set data.limit=256 --set train.batch_size=16 --set model.g_width=8 \
  --set model.d_width=8 --set train.steps=4 --set train.sample_every=2 --threads 1 >"$WORK/probe.log" 2>&1 ||
  fail "probe run failed: $(tail -2 "$WORK/probe.log")"
grep -q "collapse probe: .*fashion-mnist.duelfeat" "$WORK/probe.log" || fail "no collapse probe announced"
[ "$(grep -c '"event":"collapse_probe"' "$WORK/probe/events.jsonl")" -ge 2 ] || fail "no collapse_probe events"
grep '"event":"collapse_probe"' "$WORK/probe/events.jsonl" | head -1 | grep -q '"histogram":\[' || fail "probe event lacks the histogram"

ck="$WORK/cgan-a/checkpoints/latest.duel"
expect_exit 0 "wrote 20 samples" -- "$DUEL" sample -k "$ck" --class 7 --n 20 --out "$WORK/c7.png" --threads 1
expect_exit 0 "wrote 10 samples" -- "$DUEL" sample -k "$ck" --n 10 --each "$WORK/each" --threads 1
ls "$WORK/each" | grep -q "sample-000009-class" || fail "--each names lack the class"
expect_exit 2 "out of range.*10 classes" -- "$DUEL" sample -k "$ck" --class 10 --out "$WORK/x.png"
expect_exit 2 "not conditional" -- "$DUEL" sample -k "$WORK/wgan-a/checkpoints/latest.duel" --class 1 --out "$WORK/x.png"
expect_exit 0 "interpolations" -- "$DUEL" sample -k "$ck" --interpolate --rows 3 --steps 5 --out "$WORK/path.png" --threads 1
[ "$(head -c 6 "$WORK/path.gif")" = "GIF89a" ] || fail "no GIF next to the interpolation grid"
expect_exit 0 "interpolations" -- "$DUEL" sample -k "$ck" --interpolate --gif "$WORK/g.gif" --out "$WORK/p2.png" --threads 1
[ -s "$WORK/g.gif" ] || fail "--gif not written"
expect_exit 2 "must end in .gif" -- "$DUEL" sample -k "$ck" --interpolate --gif "$WORK/g.png" --out "$WORK/p3.png"
expect_exit 2 "needs --interpolate" -- "$DUEL" sample -k "$ck" --gif "$WORK/g.gif" --out "$WORK/p3.png"
expect_exit 2 "cannot be combined" -- "$DUEL" sample -k "$ck" --interpolate --traverse c1 --out "$WORK/p3.png"
expect_exit 2 "no latent codes" -- "$DUEL" sample -k "$ck" --traverse c1 --out "$WORK/p3.png"
[ -e "$WORK/p3.png" ] && fail "a refused sample command wrote its output"
# Bad family settings are refused before any work, naming the key.
expect_exit 2 "train.diffaug" -- "$DUEL" train --out "$WORK/bad1" "${common[@]}" --set train.diffaug=rotate --set train.steps=2
expect_exit 2 "train.loss=wasserstein" -- "$DUEL" train --out "$WORK/bad2" "${common[@]}" --set model.name=wgan --set train.loss=hinge --set train.steps=2
expect_exit 2 "train.loss" -- "$DUEL" train --out "$WORK/bad3" "${common[@]}" --set train.loss=lsgan
for d in bad1 bad2 bad3; do [ -e "$WORK/$d" ] && fail "refused run left $d behind"; done
finish
