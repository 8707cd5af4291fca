# Warnings of short runs (issue #28, items 7 and 12g): a smoke run raises no
# mode-collapse false alarm (the collapse probe waits 10 x monitor.window steps,
# as the pixel check does); a warning is one line and a hint; a learning rate
# far outside Adam's usual range is named.
source "$(dirname "$0")/lib.sh"
cd "$SOURCE_DIR"  # features/fashion-mnist.duelfeat: the collapse probe runs
FM=("${TINY[@]}" --set data.dataset=fashion-mnist)
out=$("$DUEL" train --out "$WORK/smoke" "${FM[@]}" --set train.steps=4 2>&1) || fail "smoke run: $out"
grep -q "^collapse probe: features/fashion-mnist.duelfeat" <<<"$out" || fail "the smoke run has no collapse probe: $out"
grep -q "^warning:" <<<"$out" && fail "a 4-step smoke run warns: $(grep '^warning:' <<<"$out")"
grep -q '"event":"collapse_probe"' "$WORK/smoke/events.jsonl" || fail "no probe reading in events.jsonl"
# Past the warm-up (monitor.window=5: step 50) the tiny generator's samples do warn: one line, then a hint.
out=$("$DUEL" train --out "$WORK/long" "${FM[@]}" --set train.steps=60 --set monitor.window=5 2>&1) || fail "60 steps: $out"
w=$(grep -A1 "^warning: step 60: possible mode collapse" <<<"$out")
[ -n "$w" ] || fail "no collapse warning at step 60: $(grep -A1 '^warning' <<<"$out")"
[ "$(head -1 <<<"$w" | wc -c)" -le 161 ] || fail "the warning is longer than a readable line: $(head -1 <<<"$w")"
grep -q "^hint: look at the latest grid" <<<"$(tail -1 <<<"$w")" || fail "the warning has no hint line: $w"
# Learning rates.
out=$("$DUEL" train --out "$WORK/lr" "${TINY[@]}" --set train.steps=2 --set optim.g_lr=2 2>&1) || fail "g_lr=2: $out"
grep -q "^warning: optim.g_lr=2 is far outside Adam's usual range (1e-6 to 0.01): training will likely diverge$" <<<"$out" ||
  fail "no warning for optim.g_lr=2: $out"
grep -q "^hint: GANs usually train with 1e-4 to 5e-4" <<<"$out" || fail "no hint for optim.g_lr=2"
grep -q "optim.d_lr" <<<"$out" && fail "a warning for the default optim.d_lr"
out=$("$DUEL" train --out "$WORK/lr2" "${TINY[@]}" --set train.steps=2 --set optim.d_lr=1e-8 2>&1) || fail "d_lr=1e-8: $out"
grep -q "^warning: optim.d_lr=1e-08 is far outside .*: training will likely stand still" <<<"$out" || fail "no warning for d_lr=1e-8: $out"
finish
