# Data-parallel training on c10d/Gloo over loopback (docs/distributed.md):
#  - 2 ranks x batch B follow 1 process x batch 2B (same data order, same
#    noise) to float tolerance: dcgan with synchronised batch norm, and
#    cyclegan (four nets, two optimizers); controls show the check can fail;
#  - a 2-rank run resumes bit for bit;
#  - a rank that dies or hangs makes the other fail with a message (within dist.timeout_s);
#  - bad distributed settings are refused with exit 2.
source "$(dirname "$0")/lib.sh"
# Runs with a TCP rendezvous (--dist, MASTER_ADDR) prove a shared secret from the environment.
export DUEL_DIST_SECRET=distributed-test-secret-0123456789
quiet=(--set train.checkpoint_every=0 --set train.sample_every=0)
# relative difference of net $3 between two checkpoints
reldiff() { "$DUEL" info "$1" --compare "$2" | awk -v n="$3" '$1 == "compare" && $2 == n { print $5 }' | tr -d ,; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 < b + 0) }'; }
# loss columns (3..6) of two metrics.csv files agree to 4 significant digits
same_losses() {
  paste -d, <(cut -d, -f3-6 "$1" | tail -n +2) <(cut -d, -f3-6 "$2" | tail -n +2) |
    awk -F, '{ for (i = 1; i <= 4; i++) { d = $i - $(i + 4); if (d < 0) d = -d; a = $i < 0 ? -$i : $i;
               if (d > 1e-4 * (a + 1e-3)) bad = 1 } } END { exit bad }'
}

# --- dcgan: 1 x 32 vs 2 x 16 (dist.sync_bn), 6 steps ---
"$DUEL" train --out "$WORK/one" "${TINY[@]}" "${quiet[@]}" --set train.batch_size=32 --set train.steps=6 >/dev/null 2>&1 ||
  fail "single-process dcgan"
out=$("$DUEL" train --out "$WORK/two" --nproc 2 "${TINY[@]}" "${quiet[@]}" --set train.batch_size=16 \
  --set dist.sync_bn=true --set train.steps=6 2>&1) || fail "2-rank dcgan: $out"
grep -q "distributed:  2 ranks" <<<"$out" || fail "no distributed summary: $out"
grep -q "^world_size = 2\|^\[dist\]" "$WORK/two/config.toml" || grep -q "world_size = 2" "$WORK/two/config.toml" ||
  fail "config.toml does not record the world size"
"$DUEL" info "$WORK/two/checkpoints/latest.duel" | grep -q "ranks: *2" || fail "checkpoint lacks the ranks' states"
for net in G D; do
  d=$(reldiff "$WORK/one/checkpoints/latest.duel" "$WORK/two/checkpoints/latest.duel" $net)
  below "$d" 5e-4 || fail "dcgan $net: 2 x 16 differs from 1 x 32 by $d (relative)"
done
same_losses "$WORK/one/metrics.csv" "$WORK/two/metrics.csv" || fail "dcgan loss curves differ"
# Control: without synchronised batch norm each rank normalises its own 16 images, which the check sees.
"$DUEL" train --out "$WORK/two-local-bn" --nproc 2 "${TINY[@]}" "${quiet[@]}" --set train.batch_size=16 \
  --set train.steps=6 >/dev/null 2>&1 || fail "2-rank dcgan without sync_bn"
d=$(reldiff "$WORK/one/checkpoints/latest.duel" "$WORK/two-local-bn/checkpoints/latest.duel" G)
[ -n "$d" ] || fail "control: no G difference for the per-rank batch norm run"
below "$d" 5e-4 && fail "per-rank batch norm passes the equivalence check ($d)"
# dist.global_batch: train.batch_size=32 split over 2 ranks is the same run.
"$DUEL" train --out "$WORK/two-global" --nproc 2 "${TINY[@]}" "${quiet[@]}" --set train.batch_size=32 \
  --set dist.global_batch=true --set dist.sync_bn=true --set train.steps=6 >/dev/null 2>&1 || fail "global batch"
cmp <("$DUEL" info "$WORK/two/checkpoints/latest.duel" | grep "^net") \
  <("$DUEL" info "$WORK/two-global/checkpoints/latest.duel" | grep "^net") || fail "dist.global_batch run differs"

# --- cyclegan (G_AB, G_BA, D_A, D_B): 1 x 8 vs 2 x 4 ---
mkdir -p "$WORK/A/train" "$WORK/B/train"
i=0
for f in $(find "$FIXTURES/folder-rgb" -name '*.png' | sort); do
  i=$((i + 1)); cp "$f" "$WORK/A/train/im$i.png"; cp "$f" "$WORK/B/train/im$i.png"
done
cyc=(--set model.name=cyclegan --set data.pair=unpaired-folders --set "data.path=$WORK/A" --set "data.path_b=$WORK/B"
     --set model.resnet_blocks=1 --set model.pool_size=0 --set data.image_size=32 --set data.channels=3
     --set model.g_width=4 --set model.d_width=4 --set train.log_every=2 --set sample.grid=4 --threads 1 "${quiet[@]}")
"$DUEL" train --out "$WORK/c1" "${cyc[@]}" --set train.batch_size=8 --set train.steps=4 >/dev/null 2>&1 || fail "cyclegan 1 x 8"
"$DUEL" train --out "$WORK/c2" --nproc 2 "${cyc[@]}" --set train.batch_size=4 --set train.steps=4 >/dev/null 2>&1 ||
  fail "cyclegan 2 x 4"
# Control: another seed must fail the check (and its run must succeed for that to mean anything).
"$DUEL" train --out "$WORK/c3" "${cyc[@]}" --set train.batch_size=8 --set train.steps=4 --set run.seed=2 >"$WORK/c3.log" 2>&1 &&
  [ -s "$WORK/c3/checkpoints/latest.duel" ] || fail "control: cyclegan with seed 2 failed: $(tail -3 "$WORK/c3.log")"
for net in G_AB G_BA D_A D_B; do
  d=$(reldiff "$WORK/c1/checkpoints/latest.duel" "$WORK/c2/checkpoints/latest.duel" $net)
  below "$d" 5e-3 || fail "cyclegan $net: 2 x 4 differs from 1 x 8 by $d (relative)"
  [ -s "$WORK/c3/checkpoints/latest.duel" ] || continue
  d=$(reldiff "$WORK/c1/checkpoints/latest.duel" "$WORK/c3/checkpoints/latest.duel" $net)
  [ -n "$d" ] || fail "control: no $net difference between seed 1 and seed 2"
  below "$d" 5e-3 && fail "cyclegan $net: another seed passes the check ($d)"
done
same_losses "$WORK/c1/metrics.csv" "$WORK/c2/metrics.csv" || fail "cyclegan loss curves differ"

# --- every registered model trains on 2 ranks; at each checkpoint the ranks
# compare their weight digests, which fails the run if any net's gradients
# were not averaged ---
# (progan grows mid-run; stylegan mixes styles, draws noise inputs and steers ADA by a sum over ranks.)
for m in mlp cgan wgan wgan-gp infogan aae progan stylegan; do
  extra=()
  case $m in
    progan) extra=(--set model.phase_images=8) ;;
    stylegan) extra=(--set train.ada_p=0.5 --set train.ada_target=0.6 --set train.ada_speed=100 --set train.r1_every=2) ;;
  esac
  out=$("$DUEL" train --out "$WORK/all-$m" --nproc 2 "${TINY[@]}" --set model.name=$m --set train.batch_size=8 \
    --set train.steps=4 --set train.checkpoint_every=2 --set train.sample_every=0 --set model.mlp_hidden=16 \
    "${extra[@]}" 2>&1) || fail "$m on 2 ranks: $(tail -3 <<<"$out")"
done
# The check can fail: gradients of D left unaveraged make the ranks' D drift apart.
expect_exit 2 "the ranks' weights of net D differ at step 2" -- "$DUEL" train --out "$WORK/skip" --nproc 2 "${TINY[@]}" \
  --set train.batch_size=8 --set train.steps=4 --set train.checkpoint_every=2 --set train.sample_every=0 \
  --set debug.dist_skip_average=D
[ -e "$WORK/skip/checkpoints/step-000002.duel" ] && fail "a checkpoint was written from drifted ranks"
"$DUEL" captions fashion-mnist --data-path "$FIXTURES/idx" --out "$WORK/cap.tsv" >/dev/null 2>&1 || fail "captions"
out=$("$DUEL" train --out "$WORK/all-text2img" --nproc 2 "${TINY[@]}" --set data.dataset=fashion-mnist \
  --set model.name=text2img --set model.word_dim=8 --set model.text_dim=16 --set model.text_cond=8 \
  --set "data.captions=$WORK/cap.tsv" --set train.batch_size=8 --set train.steps=4 --set train.checkpoint_every=2 \
  --set train.sample_every=0 2>&1) || fail "text2img on 2 ranks: $(tail -3 <<<"$out")"
rgb="$FIXTURES/folder-rgb"
i2i=(--set data.image_size=32 --set data.channels=3 --set train.batch_size=4 --set model.g_width=4 --set model.d_width=4
     --set train.steps=4 --set train.checkpoint_every=2 --set train.sample_every=0 --set sample.grid=4 --threads 1)
for m in pix2pix srgan srresnet; do
  case $m in
    pix2pix) extra=(--set data.pair=paired-folders --set "data.path=$WORK/A" --set "data.path_b=$WORK/B" --set data.flip=true) ;;
    srgan) extra=(--set "data.dataset=folder:$rgb" --set model.sr_blocks=1 --set model.sr_pretrain_steps=2 --set model.sr_feature_weight=0) ;;
    srresnet) extra=(--set "data.dataset=folder:$rgb" --set model.sr_blocks=1 --set model.sr_scale=2) ;;
  esac
  out=$("$DUEL" train --out "$WORK/all-$m" --nproc 2 --set model.name=$m "${i2i[@]}" "${extra[@]}" 2>&1) ||
    fail "$m on 2 ranks: $(tail -3 <<<"$out")"
done

# --- resume of a 2-rank run: 8 steps straight = 4 + resume to 8, bit for bit ---
res=("${TINY[@]}" --set train.sample_every=0 --set train.batch_size=8 --set train.label_flip=0.1
     --set train.label_smoothing=0.2 --set train.smoothing_mode=uniform --set train.checkpoint_every=0)
"$DUEL" train --out "$WORK/r8" --nproc 2 "${res[@]}" --set train.steps=8 >/dev/null 2>&1 || fail "2-rank 8 steps"
"$DUEL" train --out "$WORK/r4" --nproc 2 "${res[@]}" --set train.steps=4 >/dev/null 2>&1 || fail "2-rank 4 steps"
out=$("$DUEL" train --resume "$WORK/r4" --nproc 2 --set train.steps=8 --threads 1 2>&1) || fail "2-rank resume: $out"
digests() { "$DUEL" info "$1" | grep -E "^net |^step"; }
cmp <(digests "$WORK/r8/checkpoints/latest.duel") <(digests "$WORK/r4/checkpoints/latest.duel") ||
  fail "resumed 2-rank run differs"
cmp <(cut -d, -f1-6 "$WORK/r8/metrics.csv") <(cut -d, -f1-6 "$WORK/r4/metrics.csv") || fail "resumed loss curves differ"
expect_exit 2 "trained on 2 rank\(s\), this resume has 1" -- "$DUEL" train --resume "$WORK/r4" --set train.steps=12 --threads 1

# --- a rank that dies or hangs ---
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Every wait below is on an event (a file filling, a process exiting), polled every 0.2 s up to
# a generous ceiling, so a loaded machine only makes it slower. dist.timeout_s is long enough
# that a rank merely starved of CPU is not taken for a dead one.
long=("${TINY[@]}" "${quiet[@]}" --set train.batch_size=8 --set train.steps=100000 --set dist.timeout_s=15)
# wait_for SECONDS CONDITION...: polls CONDITION every 0.2 s until it holds (status 0) or SECONDS pass (status 1).
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.2; done
}
logged() { [ -s "$1/metrics.csv" ] && [ "$(wc -l <"$1/metrics.csv")" -ge 2 ]; }
exited() { ! kill -0 "$1" 2>/dev/null; }
for how in KILL STOP; do
  p=$(port)
  "$DUEL" train --out "$WORK/dead-$how" --dist "tcp://127.0.0.1:$p" --world-size 2 --rank 0 "${long[@]}" \
    >"$WORK/rank0-$how.log" 2>&1 &
  r0=$!
  "$DUEL" train --out "$WORK/dead-$how" --dist "tcp://127.0.0.1:$p" --world-size 2 --rank 1 "${long[@]}" \
    >"$WORK/rank1-$how.log" 2>&1 &
  r1=$!
  wait_for 120 logged "$WORK/dead-$how" ||
    fail "$how: the 2-rank run logged no step in 120 s: $(tail -2 "$WORK/rank0-$how.log" "$WORK/rank1-$how.log")"
  kill -$how $r1
  t0=$(date +%s)
  # rank 0 must notice within dist.timeout_s (15 s); 120 s is the ceiling for a loaded machine.
  if ! wait_for 120 exited $r0; then
    fail "$how: rank 0 still running 120 s after rank 1 was stopped"; kill -9 $r0
  fi
  wait $r0; rc=$?
  [ "$rc" = 2 ] || fail "$how: rank 0 exited $rc, want 2"
  grep -q "rank 0 of 2: .* failed" "$WORK/rank0-$how.log" || fail "$how: rank 0's message: $(tail -3 "$WORK/rank0-$how.log")"
  echo "$how: rank 0 stopped $(( $(date +%s) - t0 )) s after rank 1"
  kill -9 $r1 2>/dev/null; wait $r1 2>/dev/null
done
# --nproc: a rank killed from outside makes the launcher exit non-zero.
"$DUEL" train --out "$WORK/launch-kill" --nproc 2 "${long[@]}" >"$WORK/launch.log" 2>&1 &
launcher=$!
wait_for 120 logged "$WORK/launch-kill" || fail "the --nproc run logged no step in 120 s: $(tail -3 "$WORK/launch.log")"
child=$(pgrep -P $launcher | tail -1)
if [ -n "$child" ]; then kill -9 "$child"; else fail "the launcher has no rank processes to kill"; fi
wait_for 120 exited $launcher || { fail "launcher still running 120 s after a rank died"; kill -9 $launcher; }
wait $launcher; rc=$?
[ "$rc" != 0 ] || fail "launcher exited 0 after a rank was killed"
grep -q "rank [01] exited with status" "$WORK/launch.log" || fail "launcher message: $(tail -3 "$WORK/launch.log")"

# --nproc: a launcher killed with SIGKILL takes its ranks with it (PR_SET_PDEATHSIG), none keeps training.
"$DUEL" train --out "$WORK/launch-dies" --nproc 2 "${long[@]}" >"$WORK/launch-dies.log" 2>&1 &
launcher=$!
wait_for 120 logged "$WORK/launch-dies" || fail "the --nproc run logged no step in 120 s: $(tail -3 "$WORK/launch-dies.log")"
ranks=$(pgrep -P $launcher | tr '\n' ' ')
[ -n "$ranks" ] || fail "the launcher has no rank processes"
kill -9 $launcher; wait $launcher 2>/dev/null
ranks_gone() { for r in $ranks; do kill -0 "$r" 2>/dev/null && return 1; done; return 0; }
wait_for 120 ranks_gone || { fail "ranks $ranks still running 120 s after their launcher was killed"; kill -9 $ranks 2>/dev/null; }

# --- bad input ---
expect_exit 2 "not a tcp:// address" -- "$DUEL" train --out "$WORK/x" --dist http://h:1 --world-size 2 --rank 0 "${TINY[@]}"
expect_exit 2 "has no host or port" -- "$DUEL" train --out "$WORK/x" --dist tcp://hostonly --world-size 2 --rank 0 "${TINY[@]}"
expect_exit 2 "need --dist" -- "$DUEL" train --out "$WORK/x" --world-size 2 --rank 0 "${TINY[@]}"
expect_exit 2 "outside \[0, 2\)" -- "$DUEL" train --out "$WORK/x" --dist tcp://127.0.0.1:1 --world-size 2 --rank 2 "${TINY[@]}"
expect_exit 2 "MASTER_ADDR or MASTER_PORT is not set" -- env WORLD_SIZE=2 RANK=0 "$DUEL" train --out "$WORK/x" "${TINY[@]}"
expect_exit 2 "RANK = 'x'" -- env WORLD_SIZE=2 RANK=x MASTER_ADDR=127.0.0.1 MASTER_PORT=1 "$DUEL" train --out "$WORK/x" "${TINY[@]}"
expect_exit 2 "does not divide by the 2 ranks" -- "$DUEL" train --out "$WORK/x" --nproc 2 "${TINY[@]}" \
  --set dist.global_batch=true --set train.batch_size=15 --set dist.timeout_s=20
expect_exit 2 "needs data.drop_last = true" -- "$DUEL" train --out "$WORK/x" --nproc 2 "${TINY[@]}" \
  --set data.drop_last=false --set dist.timeout_s=20
[ -e "$WORK/x" ] && fail "a refused distributed run left a run folder"
finish
