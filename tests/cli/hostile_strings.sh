# Strings from the user's files reach report.html and the exported web page only as text.
# A labelled image folder whose folder names, file names and CSV class names are hostile
# HTML/JS (script tags, </script> inside JSON, event attributes, quotes of both kinds, a very
# long name, a non-UTF-8 name), a run folder named like a tag and a config value holding a
# payload are trained, reported and exported; both pages are opened in headless chromium
# (tests/report/check_hostile.mjs), which fails if any payload ran (each sets window.__pwned
# or opens a dialog), if an injected element exists, or if the strings are not shown as text.
source "$(dirname "$0")/lib.sh"
CHECK="$SOURCE_DIR/tests/report/check_hostile.mjs"
command -v node >/dev/null 2>&1 || { echo "FAIL: node is missing: run scripts/install-deps.sh" >&2; exit 1; }
[ -f "$SOURCE_DIR/web/node_modules/puppeteer-core/package.json" ] ||
  { echo "FAIL: puppeteer-core is missing from web/node_modules: run scripts/install-deps.sh" >&2; exit 1; }
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || { echo "FAIL: chromium is missing" >&2; exit 1; }

A='<img src=x onerror=window.__pwned=1;alert(1)>'
B="\"'><svg onload=window.__pwned=2>"
LONG="$(printf 'L%.0s' $(seq 1 200))<i>"
BAD=$'raw\xff\xfe<u>'
D="$WORK/data <b onmouseover=window.__pwned=6>"
for cls in "$A" "$B" "$LONG" "$BAD"; do
  mkdir -p "$D/$cls" || fail "mkdir $cls"
  for i in 0 1 2 3 4 5; do cp "$FIXTURES/folder-rgb/circle/img$i.png" "$D/$cls/$i <img src=y onerror=window.__pwned=5>.png"; done
done
# Class names from a CSV may hold anything, '/' and '</script>' included.
CSV="$WORK/labels.csv"
S1='</script><script>window.__pwned=4</script>'
S2="it's a \"quote\" & <b>bold</b>"
{
  echo "path,label"
  n=0
  for cls in "$A" "$B" "$LONG" "$BAD"; do
    for i in 0 1 2 3 4 5; do
      if [ $((n % 2)) = 0 ]; then echo "$cls/$i <img src=y onerror=window.__pwned=5>.png,$S1"; else echo "$cls/$i <img src=y onerror=window.__pwned=5>.png,$S2"; fi
      n=$((n + 1))
    done
  done
} >"$CSV"
R="$WORK/run <svg onload=window.__pwned=3>"
"$DUEL" train --out "$R" --set "data.dataset=folder:$D" --set "data.labels=$CSV" --set data.unlabelled=skip \
  --set data.image_size=16 --set data.channels=3 --set model.name=cgan --set model.g_width=8 --set model.d_width=8 \
  --set model.latent_dim=8 --set train.batch_size=8 --set train.steps=4 --set train.sample_every=2 --set sample.grid=16 \
  --set monitor.collapse_probe=false --threads 1 >"$WORK/train.log" 2>&1 || fail "train: $(tail -3 "$WORK/train.log")"
grep -q "2 classes" "$WORK/train.log" || fail "the CSV's two classes were not found: $(grep -m2 data "$WORK/train.log")"
"$DUEL" report "$R" >"$WORK/report.log" 2>&1 || fail "report: $(tail -3 "$WORK/report.log")"
"$DUEL" export -k "$R" --web "$WORK/site" >"$WORK/export.log" 2>&1 || fail "export: $(tail -3 "$WORK/export.log")"

# The report must show the run name and the data folder as text; the page, the strings in its data.
python3 - "$WORK/expect-report.json" "$WORK/expect-page.json" "$(basename "$R")" "$D" <<'EOF'
import json, sys
json.dump({"visible": [sys.argv[3], sys.argv[4]]}, open(sys.argv[1], "w"))
json.dump({"visible": [sys.argv[4]]}, open(sys.argv[2], "w"))
EOF
for page in report page; do
  if [ $page = report ]; then url="file://$R/report.html"; else url="file://$WORK/site/index.html"; fi
  out=$(node "$CHECK" "$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=":/"))' "$url")" \
        "$WORK/expect-$page.json" 2>&1) || fail "$page: $out"
  echo "$page: $(tr -d '\n' <<<"$out" | head -c 300)"
done
# The raw files hold no live payload either: every '<' of a user string is escaped.
for f in "$R/report.html" "$WORK/site/index.html"; do
  grep -aqF '<svg onload' "$f" && fail "$(basename "$f") holds '<svg onload' unescaped"
  grep -aqF '<img src=x' "$f" && fail "$(basename "$f") holds '<img src=x' unescaped"
  grep -aqF '</script><script>window' "$f" && fail "$(basename "$f") holds '</script><script>' unescaped"
done
finish
