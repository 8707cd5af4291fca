# duel report and log.report: the self-contained HTML run report, opened by
# its real consumer, a browser (headless chromium through web/browser.mjs and
# tests/report/check_report.mjs): no console error, every curve drawn, hover
# and zoom working, the grids and the interpolation decoded, the slider
# moving; the numbers it shows are the run folder's. The trainer refreshes
# the report at every grid; bad input exits 2 and writes nothing.
# Artifact: $WORK/report.png, a screenshot of the page.
source "$(dirname "$0")/lib.sh"
CHECK="$SOURCE_DIR/tests/report/check_report.mjs"
# The browser and its driver are required, not optional: install-deps.sh provides them.
command -v node >/dev/null 2>&1 || { echo "FAIL: node (Node.js) is missing: run scripts/install-deps.sh" >&2; exit 1; }
[ -f "$SOURCE_DIR/web/node_modules/puppeteer-core/package.json" ] ||
  { echo "FAIL: puppeteer-core is missing from web/node_modules: run scripts/install-deps.sh" >&2; exit 1; }
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] ||
  { echo "FAIL: chromium is missing: run scripts/install-deps.sh" >&2; exit 1; }

F="$WORK/mnist.duelfeat"
"$DUEL" features train --dataset mnist --data-path "$FIXTURES/idx" --out "$F" --steps 2 --batch 32 --threads 1 \
  >/dev/null 2>&1 || fail "features train"
R="$WORK/run"
out=$("$DUEL" train --config "$SOURCE_DIR/configs/dcgan28.toml" --out "$R" "${TINY[@]}" --set train.steps=8 \
      --set train.sample_every=2 --set eval.every=4 --set eval.n=32 --set "eval.features=$F" 2>&1) || fail "train: $out"
# Written at the grids of steps 2, 4 and 6 and once at the end.
grep -q "report: $R/report.html (written 4 times" <<<"$out" || fail "the trainer did not refresh the report 4 times: $out"
grep -q "^report: *$R/report.html" <<<"$out" || fail "the summary does not name the report: $out"
tail -c 8 "$R/report.html" | grep -q "</html>" || fail "the trainer's report is not a whole page"
grep -q "no-eval-table" "$R/report.html" || fail "the trainer's report should say that duel eval has not run yet"

"$DUEL" eval --checkpoint "$R/checkpoints/latest.duel" --n 32 --features "$F" --threads 1 >/dev/null 2>&1 || fail "eval"
out=$("$DUEL" report "$R" 2>&1) || fail "duel report: $out"
grep -q "wrote $R/report.html (.*4 log rows, 4 of 4 sample grids, interpolation at step 8, 1 eval table" <<<"$out" ||
  fail "duel report's summary: $out"

node "$CHECK" "$R/report.html" "$WORK/report.png" > "$WORK/seen.json" 2> "$WORK/node.err" ||
  fail "the browser check: $(cat "$WORK/seen.json" "$WORK/node.err" | head -c 3000)"
[ -s "$WORK/report.png" ] || fail "no screenshot"
python3 - "$WORK/seen.json" "$R" <<'EOF' || fail "the page does not show the run's values"
import json, sys
seen = json.load(open(sys.argv[1])); run = sys.argv[2]
g4 = lambda v: float("%.4g" % v)
titles = [c["title"] for c in seen["charts"]]
assert titles == ["Losses", "Discriminator outputs", "Throughput (images/s)", "FID (eval.every)", "KID (eval.every)"], titles
by = {c["title"]: c for c in seen["charts"]}
assert by["Losses"]["series"] == ["loss D", "loss G"] and by["Losses"]["points"] == 4, by["Losses"]
assert by["Discriminator outputs"]["series"] == ["D(x)", "D(G(z))"], by["Discriminator outputs"]
assert by["FID (eval.every)"]["points"] == 2, by["FID (eval.every)"]
events = [json.loads(l) for l in open(f"{run}/events.jsonl")]
logs = [e for e in events if e["event"] == "log"]; evals = [e for e in events if e["event"] == "eval"]
cards = dict(seen["cards"])
assert float(cards["loss D"]) == g4(logs[-1]["loss_d"]), (cards, logs[-1])
assert float(cards["D(G(z))"]) == g4(logs[-1]["d_fake"]), (cards, logs[-1])
assert float(cards["FID"]) == g4(evals[-1]["fid"]), (cards, evals[-1])
# The periodic evaluations, row by row.
assert [int(r[0]) for r in seen["periodic"]] == [4, 8], seen["periodic"]
for row, e in zip(seen["periodic"], evals):
    assert float(row[1]) == g4(e["fid"]), (row, e)
# duel eval's table: each metric beside its floor, as in eval/step-000008.json.
ev = json.load(open(f"{run}/eval/step-000008.json"))
rows = {r[0]: r[1:] for r in seen["evalRows"]}
for k in ["fid", "kid", "precision", "recall", "swd_pixels"]:
    assert k in rows, (k, rows)
assert float(rows["fid"][0]) == g4(ev["metrics"]["fid"]) and float(rows["fid"][1]) == g4(ev["floor"]["fid"]), rows["fid"]
assert float(rows["kid"][0].split()[0]) == g4(1000 * ev["metrics"]["kid"]["mean"]), rows["kid"]  # KID x 1000
# The slider: grids of steps 2, 4, 6, 8; it opens on the last and moves to the first.
sl = seen["slider"]
assert sl["first"]["max"] == "3" and sl["first"]["step"] == "8" and sl["moved"]["step"] == "2", sl
assert "step 2" in sl["moved"]["label"], sl
assert seen["config"] == open(f"{run}/config.toml").read(), "config text differs"
assert seen["run"]["status"] == "finished" and seen["run"]["step"] == 8, seen["run"]
EOF
# The screenshot is a real page: a PNG 1280 px wide and taller than the window.
python3 - "$WORK/report.png" <<'EOF' || fail "screenshot"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", b[16:24])
assert w == 1280 and h > 900, (w, h)
EOF

# The browser check is a real check: a page with a script error fails it.
sed 's|</body>|<script>document.body.dataset.broken = null.property;</script></body>|' "$R/report.html" > "$WORK/broken.html"
out=$(node "$CHECK" "$WORK/broken.html" "$WORK/broken.png" 2>&1) && fail "the browser check passed a broken page"
grep -q "browser: exception: .*null" <<<"$out" || fail "the browser check failed the broken page for another reason: $(head -c 2000 <<<"$out")"

# --out, --max-grids, --no-interpolation.
out=$("$DUEL" report "$R" --out "$WORK/two.html" --max-grids 2 --no-interpolation 2>&1) || fail "report --out: $out"
grep -q "2 of 4 sample grids, left out" <<<"$out" || fail "--max-grids/--no-interpolation: $out"
grep -q 'id="interp-missing"' "$WORK/two.html" || fail "--no-interpolation still drew one"

# Bad input: exit 2, a message naming the problem, nothing written.
expect_exit 2 "run folder '$WORK/nope' does not exist" -- "$DUEL" report "$WORK/nope"
mkdir -p "$WORK/empty"
expect_exit 2 "is not a run folder \(it has no config.toml\)" -- "$DUEL" report "$WORK/empty"
[ -e "$WORK/empty/report.html" ] && fail "a report was written into a folder that is not a run"
cp -r "$R" "$WORK/corrupt" && rm "$WORK/corrupt/report.html"
sed -i '3s/.*/{"event": "log", "step": 2, "loss_d": 1.0, BROKEN/' "$WORK/corrupt/events.jsonl"
expect_exit 2 "events.jsonl line 3 is not valid JSON" -- "$DUEL" report "$WORK/corrupt"
[ -e "$WORK/corrupt/report.html" ] && fail "a report was written from a corrupt event log"
ls -a "$WORK/corrupt" | grep -q '\.tmp' && fail "a temporary file was left behind"
# An event log that cannot be read. chmod 000 stops everyone but root, and CI runs as root:
# there the command runs as nobody (setpriv), or, where nobody cannot reach the binary or
# the folder, events.jsonl is replaced by a Unix socket, which open() refuses even to root.
cp "$WORK/corrupt/events.jsonl" "$WORK/events.keep"
chmod 000 "$WORK/corrupt/events.jsonl"
as_user=()
if [ "$(id -u)" = 0 ]; then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  if ! "${as_user[@]}" test -x "$DUEL" -a -r "$WORK/corrupt/config.toml" 2>/dev/null; then
    as_user=()
    rm "$WORK/corrupt/events.jsonl"
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$WORK/corrupt/events.jsonl" ||
      fail "cannot make an unreadable events.jsonl"
  fi
fi
expect_exit 2 "cannot read event log '$WORK/corrupt/events.jsonl'" -- "${as_user[@]}" "$DUEL" report "$WORK/corrupt"
rm -f "$WORK/corrupt/events.jsonl" && cp "$WORK/events.keep" "$WORK/corrupt/events.jsonl"
expect_exit 2 "must end in .html" -- "$DUEL" report "$R" --out "$WORK/report.txt"

# log.report = false: no report; a failing refresh only warns and training goes on.
"$DUEL" train --out "$WORK/off" "${TINY[@]}" --set train.steps=2 --set log.report=false >/dev/null 2>&1 || fail "log.report=false run"
[ -e "$WORK/off/report.html" ] && fail "log.report=false wrote a report"
mkdir -p "$WORK/blocked/report.html"  # a folder where the file should go
out=$("$DUEL" train --out "$WORK/blocked" "${TINY[@]}" --set train.steps=4 --set train.sample_every=2 2>&1) ||
  fail "a failing report stopped training: $out"
grep -q "warning: report.html not refreshed" <<<"$out" || fail "no warning for the failing report: $out"
[ -f "$WORK/blocked/checkpoints/latest.duel" ] || fail "training did not finish"
finish
