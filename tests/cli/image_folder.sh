# An RGB image folder with class subfolders trains at 32 px (the colour path).
source "$(dirname "$0")/lib.sh"
out=$("$DUEL" train --out "$WORK/rgb" "${TINY[@]}" --set "data.dataset=folder:$FIXTURES/folder-rgb" \
      --set train.batch_size=8 --set train.steps=3 2>&1) || fail "train on folder: $out"
grep -q "36 images 3x32x32" <<<"$out" || fail "data line: $out"
"$DUEL" info "$WORK/rgb/checkpoints/latest.duel" | grep -q "3 channel(s), 32x32 px, 3 classes" || fail "info"
# Resized to 64 px and to grayscale.
"$DUEL" train --out "$WORK/g64" "${TINY[@]}" --set "data.dataset=folder:$FIXTURES/folder-rgb" --set data.image_size=64 \
   --set data.channels=1 --set train.batch_size=8 --set train.steps=2 >/dev/null 2>&1 || fail "64 px grayscale"
"$DUEL" info "$WORK/g64/checkpoints/latest.duel" | grep -q "1 channel(s), 64x64 px" || fail "64 px info"
finish
