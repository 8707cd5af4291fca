# The tutorials' recipe options: train.d_warmup (D-only iterations first), optim.optimizer = sgd
# (momentum, Nesterov) and model.d_dropout in the convolutional discriminators.
source "$(dirname "$0")/lib.sh"
common=("${TINY[@]}" --set model.name=dcgan --set train.checkpoint_every=0 --set train.sample_every=0 --set train.log_every=1)
digest() { "$DUEL" info "$1/checkpoints/latest.duel" | awk -v n="$2" '$1 == "net" && $2 == n {print $NF}'; }
run() { local out=$1; shift; "$DUEL" train --out "$WORK/$out" "${common[@]}" "$@" >"$WORK/$out.log" 2>&1 || fail "$out: $(tail -3 "$WORK/$out.log")"; }

# d_warmup: during the first 3 iterations only D changes; G starts moving at iteration 4.
# (The mlp's G has no batch norm, whose running statistics a forward pass updates.)
mlp=(--set model.name=mlp --set model.mlp_hidden=16)
run w1 "${mlp[@]}" --set train.d_warmup=3 --set train.steps=1
run w3 "${mlp[@]}" --set train.d_warmup=3 --set train.steps=3
run w4 "${mlp[@]}" --set train.d_warmup=3 --set train.steps=4
run p1 "${mlp[@]}" --set train.steps=1
[ -n "$(digest "$WORK/w1" G)" ] || fail "no G digest"
[ "$(digest "$WORK/w1" G)" = "$(digest "$WORK/w3" G)" ] || fail "G changed during the warm-up"
[ "$(digest "$WORK/w1" D)" != "$(digest "$WORK/w3" D)" ] || fail "D did not train during the warm-up"
[ "$(digest "$WORK/w3" G)" != "$(digest "$WORK/w4" G)" ] || fail "G did not train after the warm-up"
[ "$(digest "$WORK/w1" G)" != "$(digest "$WORK/p1" G)" ] || fail "without warm-up G trains at the first step"
# G's loss is still logged in the warm-up, so the columns stay the same.
[ "$(head -1 "$WORK/w3/metrics.csv")" = "$(head -1 "$WORK/p1/metrics.csv")" ] || fail "warm-up changed the log's columns"
[ "$(wc -l <"$WORK/w3/metrics.csv")" = 4 ] || fail "warm-up rows: $(cat "$WORK/w3/metrics.csv")"
expect_exit 2 "train.d_warmup is not supported by model 'pix2pix'" -- "$DUEL" train --out "$WORK/wp" "${TINY[@]}" \
  --set model.name=pix2pix --set data.pair=classes --set data.class_a=0 --set data.class_b=1 --set train.d_warmup=2

# SGD with momentum trains, checkpoints its momentum and resumes bit for bit; plain SGD differs.
sgd=(--set optim.optimizer=sgd --set optim.g_lr=0.01 --set optim.d_lr=0.01 --set optim.momentum=0.9)
"$DUEL" train --out "$WORK/sgd" "${TINY[@]}" "${sgd[@]}" --set train.steps=8 --set train.checkpoint_every=4 \
  >"$WORK/sgd.log" 2>&1 || fail "sgd: $(tail -3 "$WORK/sgd.log")"
resume_matches sgd "$WORK/sgd"
run sgd0 "${sgd[@]}" --set optim.momentum=0 --set train.steps=8
run sgdm "${sgd[@]}" --set train.steps=8
[ "$(digest "$WORK/sgd0" G)" != "$(digest "$WORK/sgdm" G)" ] || fail "momentum had no effect"
run adam --set train.steps=8
[ "$(digest "$WORK/adam" G)" != "$(digest "$WORK/sgdm" G)" ] || fail "sgd trained like adam"
expect_exit 2 "optim.nesterov = true needs momentum, but optim.momentum is 0" -- "$DUEL" train --out "$WORK/nest" \
  "${TINY[@]}" "${sgd[@]}" --set optim.momentum=0 --set optim.nesterov=true
expect_exit 2 "optim.optimizer" -- "$DUEL" train --out "$WORK/sgx" "${TINY[@]}" --set optim.optimizer=sgdd

# Dropout in D: same parameters, other training path; cgan and infogan take it too.
run d0 --set train.steps=2
run d3 --set train.steps=2 --set model.d_dropout=0.3
[ "$(digest "$WORK/d0" D)" != "$(digest "$WORK/d3" D)" ] || fail "dropout changed nothing"
p0=$("$DUEL" info "$WORK/d0/checkpoints/latest.duel" | grep "^net D" | awk '{print $3}')
p3=$("$DUEL" info "$WORK/d3/checkpoints/latest.duel" | grep "^net D" | awk '{print $3}')
[ "$p0" = "$p3" ] || fail "dropout changed D's parameter count ($p0 vs $p3)"
run dc --set model.name=cgan --set train.steps=2 --set model.d_dropout=0.3
expect_exit 2 "model.d_dropout" -- "$DUEL" train --out "$WORK/dbad" "${TINY[@]}" --set model.d_dropout=1.5
finish
