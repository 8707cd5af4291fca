# duel train's terminal output (issue #28, item 8): without a TTY a plain line
# every train.log_every steps; on a TTY the bar fits the terminal's width, so
# no redraw wraps into a stale line.
source "$(dirname "$0")/lib.sh"
out=$("$DUEL" train --out "$WORK/plain" "${TINY[@]}" --set train.steps=6 --set train.log_every=2 2>&1) || fail "plain: $out"
[ "$(grep -cE '^step [246]/6 epoch' <<<"$out")" = 3 ] || fail "plain lines are not every log_every=2 steps: $(grep '^step' <<<"$out")"
out=$("$DUEL" train --out "$WORK/plain3" "${TINY[@]}" --set train.steps=6 --set train.log_every=3 2>&1)
[ "$(grep -cE '^step [36]/6 epoch' <<<"$out")" = 2 ] || fail "plain lines with log_every=3: $(grep '^step' <<<"$out")"
command -v script >/dev/null || skip "script (util-linux) is not installed"
for cols in 80 50; do
  script -qec "stty cols $cols; '$DUEL' train --out '$WORK/tty$cols' $(printf "'%s' " "${TINY[@]}") --set train.steps=30" \
    /dev/null >"$WORK/tty$cols.log" 2>&1 || fail "tty $cols: $(tail -3 "$WORK/tty$cols.log")"
  bars=$(tr '\r' '\n' <"$WORK/tty$cols.log" | sed 's/\x1b\[K//g' | grep 'step [0-9]*/30')
  [ -n "$bars" ] || fail "no progress bar on a $cols-column terminal: $(head -c 300 "$WORK/tty$cols.log")"
  long=$(awk -v c="$cols" 'length($0) >= c' <<<"$bars" | head -1)
  [ -z "$long" ] || fail "a bar line of ${#long} characters on a $cols-column terminal: $long"
  grep -q "ETA" <<<"$bars" || fail "the $cols-column bar lost its ETA: $(tail -1 <<<"$bars")"
done
grep -q '\[#' "$WORK/tty80.log" || grep -q '\[\.' "$WORK/tty80.log" || fail "no bar drawn in 80 columns"
finish
