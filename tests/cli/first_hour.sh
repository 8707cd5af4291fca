# docs/quickstart.md, "Your own images": every `duel` line of its command
# block, run in order as written, with tiny settings appended (a few steps,
# narrow nets, one thread) on a small colour image folder. A line added to
# the page runs here too; `make run` (step 1) is left to the README's own use.
source "$(dirname "$0")/lib.sh"
cd "$WORK" || exit 1
mkdir -p my-images/a my-images/b
cp "$FIXTURES"/folder-rgb/circle/*.png my-images/a/ && cp "$FIXTURES"/folder-rgb/square/*.png my-images/b/
cp -r "$SOURCE_DIR/configs" configs
lines=$(awk '/^## 2\./{on=1} on && /^```sh/{inblock=1; next} inblock && /^```/{exit} inblock && /^duel /' "$SOURCE_DIR/docs/quickstart.md")
[ "$(wc -l <<<"$lines")" -ge 6 ] || fail "found only these commands in docs/quickstart.md: $lines"
SMALL=(--set train.batch_size=8 --set model.g_width=8 --set model.d_width=8 --set model.latent_dim=8 --set sample.grid=16
       --set train.log_every=2 --set train.sample_every=2 --set train.checkpoint_every=2 --threads 1)
while read -r line; do
  read -ra cmd <<<"${line#duel }"
  case "${cmd[0]} ${cmd[1]:-}" in
    "train --resume") extra=(--set train.steps=6 --threads 1) ;;
    train\ *) extra=("${SMALL[@]}" --set train.steps=4) ;;
    "features train") extra=(--steps 2 --batch 8 --threads 1) ;;
    eval\ *) cmd=("${cmd[@]/2000/12}"); extra=(--threads 1) ;;
    sample\ *) extra=(--threads 1) ;;
    *) extra=() ;;
  esac
  out=$("$DUEL" "${cmd[@]}" "${extra[@]}" 2>&1) || { fail "'$line' failed: $(tail -3 <<<"$out")"; continue; }
  echo "\$ $line" && tail -2 <<<"$out"
done <<<"$lines"
[ -s mine.png ] || fail "no mine.png"
[ -s runs/features/folder_my-images.duelfeat ] || fail "no runs/features/folder_my-images.duelfeat"
ls runs/mine/eval/step-*.json >/dev/null 2>&1 || fail "no evaluation in runs/mine/eval/"
[ -s runs/mine/report.html ] || fail "no report"
"$DUEL" info runs/mine | grep -q "^step: *6 " || fail "the resume did not reach step 6"
finish
