# Damaged checkpoints: --resume skips each unusable one, saying why, and goes
# on from the newest good one; the last keep_checkpoints are kept; a crafted
# checkpoint with a valid checksum that crashes LibTorch's reader is refused
# with exit 2 (the fuzzer's finding, tests/fuzz/regressions/).
source "$(dirname "$0")/lib.sh"
R="$WORK/run"
"$DUEL" train --out "$R" "${TINY[@]}" --set train.steps=10 --set train.checkpoint_every=2 --set train.keep_checkpoints=3 \
  --set train.sample_every=0 >/dev/null 2>&1 || fail "first run"
[ "$(cd "$R/checkpoints" && ls | tr '\n' ' ')" = "latest.duel step-000006.duel step-000008.duel step-000010.duel " ] \
  || fail "keep_checkpoints=3 kept: $(ls "$R/checkpoints")"
flip() { python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=0xff; open(p,'r+b').write(b)" "$1"; }
# latest.duel is step 10 (one file, two names): flip a byte in it.
flip "$R/checkpoints/latest.duel"
truncate -s -100 "$R/checkpoints/step-000008.duel"
echo "not a checkpoint" > "$R/checkpoints/step-000012.duel"
out=$("$DUEL" train --resume "$R" --set train.steps=12 --threads 1 2>&1) || fail "resume: $out"
grep -q "warning: skipping unusable checkpoint: '$R/checkpoints/step-000012.duel' is not a duel checkpoint" <<<"$out" || fail "no skip of step 12: $out"
grep -q "warning: skipping unusable checkpoint: checkpoint '$R/checkpoints/step-000010.duel' is corrupt (checksum mismatch)" <<<"$out" || fail "no skip of step 10: $out"
grep -q "warning: skipping unusable checkpoint: checkpoint '$R/checkpoints/step-000008.duel' is truncated" <<<"$out" || fail "no skip of step 8: $out"
grep -q "resuming from $R/checkpoints/step-000006.duel at step 6" <<<"$out" || fail "did not fall back to step 6: $out"
[ "$(cut -d, -f1 "$R/metrics.csv" | tr '\n' ' ')" = "step 2 4 6 8 10 12 " ] || fail "metrics.csv after the fallback: $(cut -d, -f1 "$R/metrics.csv" | tr '\n' ' ')"
# Nothing loadable at all: a clear error.
for f in "$R"/checkpoints/*.duel; do echo broken > "$f"; done
expect_exit 2 "holds no loadable checkpoint" -- "$DUEL" train --resume "$R" --threads 1
# A crafted payload behind a valid header and checksum (found by the fuzzer; it
# crashes LibTorch's TorchScript reader), and one whose TorchScript makes the
# reader throw: both exit 2 with a clean message.
for case in segv error-report; do
  python3 - "$SOURCE_DIR/tests/fuzz/regressions/checkpoint-torchscript-$case" "$WORK/$case.duel" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
payload = b[1:] if b[0] & 1 == 0 else b[1 + 24:]  # the fuzz input: a mode byte, then a payload (or a whole file)
open(sys.argv[2], "wb").write(b"DUELCKPT" + struct.pack("<IIQ", 1, zlib.crc32(payload), len(payload)) + payload)
PY
  expect_exit 2 "checkpoint '$WORK/$case.duel' has an unreadable archive" -- "$DUEL" info "$WORK/$case.duel"
done
finish
