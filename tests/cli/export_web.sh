# duel export --web writes a static page that generates images in the
# browser: for an unconditional (dcgan) and a conditional (cgan) model,
# trained 3 steps at a large G learning rate so the images are not flat, the
# folder is served on 127.0.0.1 and opened in headless chromium
# (web/check_page.mjs): the first batch is drawn with no console error,
# exception or missing file, the canvas is not blank, and a latent slider,
# "New samples" and the class picker each change it. Screenshots stay in
# $WORK. Re-exporting replaces an earlier export; other folders are refused.
source "$(dirname "$0")/lib.sh"
CHECK="$SOURCE_DIR/web/check_page.mjs"
[ -d "$SOURCE_DIR/web/node_modules/puppeteer-core" ] ||
  { echo "web/ npm packages are not installed: run scripts/install-deps.sh" >&2; exit 1; }

common=("${TINY[@]}" --set train.checkpoint_every=0 --set train.sample_every=0 --set train.steps=3 --set optim.g_lr=0.05)
for name in dcgan cgan; do
  "$DUEL" train --out "$WORK/$name" "${common[@]}" --set model.name=$name >"$WORK/$name.log" 2>&1 ||
    { fail "$name: training failed"; tail -3 "$WORK/$name.log" >&2; continue; }
  ck="$WORK/$name/checkpoints/latest.duel"
  out=$("$DUEL" export -k "$ck" --web "$WORK/$name-web" --threads 1 2>&1) || { fail "$name: export --web failed: $out"; continue; }
  for f in index.html model.onnx ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
    [ -s "$WORK/$name-web/$f" ] || fail "$name: the page folder lacks $f"
  done
  out=$(node "$CHECK" "$WORK/$name-web" "$WORK/$name-page.png" 2>&1) || fail "$name: the page fails in chromium: $out"
  echo "$out"
  [ -s "$WORK/$name-page.png" ] || fail "$name: no screenshot"
done
grep -q '"classes": 10' "$WORK/cgan-web/index.html" || fail "the cgan page has no class picker data"
grep -q '"classes": 0' "$WORK/dcgan-web/index.html" || fail "the dcgan page claims classes"

# Re-exporting over an earlier export replaces it; a folder that is not an export is refused, untouched.
ck="$WORK/dcgan/checkpoints/latest.duel"
"$DUEL" export -k "$ck" --web "$WORK/dcgan-web/" >/dev/null 2>&1 || fail "re-export over an earlier export failed"
[ -s "$WORK/dcgan-web/index.html" ] && [ -s "$WORK/dcgan-web/model.onnx" ] || fail "the re-export lost files"
mkdir -p "$WORK/precious" && echo keep >"$WORK/precious/notes.txt"
expect_exit 2 "not an earlier duel export" -- "$DUEL" export -k "$ck" --web "$WORK/precious"
[ "$(cat "$WORK/precious/notes.txt")" = keep ] || fail "a refused export touched the folder"
# Without onnxruntime-web's files the page cannot be made: a clear error, no folder.
expect_exit 2 "ort.wasm.min.js is missing" -- env DUEL_WEB_ASSETS="$WORK/nowhere" "$DUEL" export -k "$ck" --web "$WORK/noassets"
[ -e "$WORK/noassets" ] && fail "a failed export left its folder"
ls -A "$WORK" | grep -qE '\.(tmp|old)-' && fail "temporary folders were left behind"
finish
