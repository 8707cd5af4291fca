# log.tensorboard: the event files duel writes, read back by an independent
# reader (tests/tensorboard/read_events.mjs: its own CRC-32C, protobufjs for
# the Event messages), agree with metrics.csv, events.jsonl and samples/.
source "$(dirname "$0")/lib.sh"
READER="$SOURCE_DIR/tests/tensorboard/read_events.mjs"
# The reader's tools are required, not optional: install-deps.sh provides them.
if ! command -v node >/dev/null 2>&1; then
  echo "FAIL: node (Node.js) is missing: run scripts/install-deps.sh" >&2
  exit 1
fi
if [ ! -f "$SOURCE_DIR/tests/tensorboard/node_modules/protobufjs/package.json" ]; then
  echo "FAIL: the npm package protobufjs is missing from tests/tensorboard/node_modules: run scripts/install-deps.sh" >&2
  exit 1
fi

# events_of RUN: the run's event files in name order, as TensorBoard reads them (oldest first).
events_of() { (cd "$1/tensorboard" 2>/dev/null && LC_ALL=C ls events.out.tfevents.*.duel) | sed "s|^|$1/tensorboard/|"; }
# read_to FILE JSON: the reader's JSON of an event file.
read_to() { node "$READER" "$1" > "$2" || fail "the reader rejected $1"; }

# check.py JSON RUN FIRST_STEP LOG_STEPS IMAGE_STEPS: one event file against the run's other outputs.
cat > "$WORK/check.py" <<'EOF'
import csv, hashlib, json, struct, sys
events = json.load(open(sys.argv[1])); run = sys.argv[2]; first = int(sys.argv[3])
log_steps = [int(s) for s in sys.argv[4].split()]; image_steps = [int(s) for s in sys.argv[5].split()]
f32 = lambda v: struct.unpack("<f", struct.pack("<f", v))[0]
assert events[0].get("file_version") == "brain.Event:2", events[0]
assert events[1].get("session_log") == "START" and events[1]["step"] == first, events[1]
scalars, images = {}, {}
for e in events[2:]:
    for v in e.get("values", []):
        if "image" in v: images.setdefault(v["tag"], []).append((e["step"], v["image"]))
        else: scalars.setdefault(v["tag"], []).append((e["step"], v["simple_value"]))
rows = {int(r["step"]): r for r in csv.DictReader(open(f"{run}/metrics.csv"))}
logs = {j["step"]: j for j in map(json.loads, open(f"{run}/events.jsonl")) if j["event"] == "log"}
names = [k for k in next(iter(rows.values())) if k not in ("step", "epoch", "elapsed_s")]
for name in names:  # loss_d, loss_g, d_real, d_fake, img_per_s
    got = scalars.get(name, [])
    assert [s for s, _ in got] == log_steps, (name, got, log_steps)
    for step, v in got:
        # events.jsonl holds the double the float came from; metrics.csv its 6 significant digits.
        assert v == f32(logs[step][name]), (name, step, v, logs[step][name])
        c = float(rows[step][name])
        assert abs(v - c) <= 1e-5 * abs(c) + 1e-6, (name, step, v, c)
assert set(scalars) == set(names), (sorted(scalars), names)
grids = images.get("samples", [])
assert [s for s, _ in grids] == image_steps, (grids, image_steps)
for step, img in grids:
    png = open(f"{run}/samples/step-{step:06d}.png", "rb").read()
    assert img["signature"] == png[:8].hex() == "89504e470d0a1a0a", img
    w, h = struct.unpack(">II", png[16:24])
    assert (img["width"], img["height"]) == (w, h) == (img["png_width"], img["png_height"]), (img, w, h)
    assert img["colorspace"] == 1, img  # the fixture is grayscale
    assert img["sha256"] == hashlib.sha256(png).hexdigest(), "the logged grid is not the samples/ file"
EOF
check() { python3 "$WORK/check.py" "$@" || fail "event file $1 does not match the run (${*:2})"; }

R="$WORK/run"
out=$("$DUEL" train --config "$SOURCE_DIR/configs/dcgan28.toml" --out "$R" "${TINY[@]}" --set train.steps=8 \
      --set train.sample_every=4 --set train.checkpoint_every=4 --set log.tensorboard=true 2>&1) || fail "train: $out"
mapfile -t files < <(events_of "$R")
[ "${#files[@]}" = 1 ] || fail "expected one event file, found: ${files[*]}"
grep -q "tensorboard: $R/tensorboard/events.out.tfevents." <<<"$out" || fail "the run does not say where the events go"
read_to "${files[0]}" "$WORK/first.json"
# Rows at 2, 4, 6, 8; grids at 4 and 8 (final.png repeats step 8 and is not logged twice).
check "$WORK/first.json" "$R" 0 "2 4 6 8" "4 8"

# The reader is a real check: one flipped byte or a cut record is refused.
cp "${files[0]}" "$WORK/flipped"
printf '\x55' | dd of="$WORK/flipped" bs=1 seek=40 conv=notrunc 2>/dev/null
# (Each refusal must be the one for that damage, not a reader that fails on anything.)
out=$(node "$READER" "$WORK/flipped" 2>&1) && fail "the reader accepted a corrupted file"
grep -qE "read_events: .*/flipped: bad (length|data) CRC at byte [0-9]+" <<<"$out" || fail "the reader's refusal of a flipped byte: $out"
head -c $(( $(stat -c %s "${files[0]}") - 3 )) "${files[0]}" > "$WORK/cut"
out=$(node "$READER" "$WORK/cut" 2>&1) && fail "the reader accepted a truncated file"
grep -qE "read_events: .*/cut: (truncated record header|record at byte [0-9]+ claims [0-9]+ bytes past the end)" <<<"$out" ||
  fail "the reader's refusal of a cut file: $out"

# A resume kill-like cut: a copy cut back to its step-4 checkpoint starts a second file at step 4
# (SessionLog START 4, then rows 6, 8 and grid 8 again); the first file is left as it was.
cp -r "$R" "$WORK/cut-run"
rm "$WORK/cut-run/checkpoints/latest.duel" "$WORK/cut-run/checkpoints/step-000008.duel"
"$DUEL" train --resume "$WORK/cut-run" --threads 1 >/dev/null 2>&1 || fail "resume of the cut run"
mapfile -t cut_files < <(events_of "$WORK/cut-run")
[ "${#cut_files[@]}" = 2 ] || fail "the resumed cut run should hold two event files: ${cut_files[*]}"
cmp -s "${cut_files[0]}" "${files[0]}" || fail "resuming changed the first event file"
read_to "${cut_files[1]}" "$WORK/cut.json"
check "$WORK/cut.json" "$WORK/cut-run" 4 "6 8" "8"

# Extending the run: a second file whose steps continue from 8.
"$DUEL" train --resume "$R" --set train.steps=12 --threads 1 >/dev/null 2>&1 || fail "resume to 12 steps"
mapfile -t files < <(events_of "$R")
[ "${#files[@]}" = 2 ] || fail "the resumed run should hold two event files: ${files[*]}"
read_to "${files[1]}" "$WORK/second.json"
check "$WORK/second.json" "$R" 8 "10 12" "12"

# A divergence rollback (NaN injected at step 7, back to the step-4 checkpoint) marks the
# restart in the same file: START at 4 after the row of step 6, then rows 6..12 as in metrics.csv.
"$DUEL" train --out "$WORK/rollback" "${TINY[@]}" --set train.steps=12 --set train.checkpoint_every=4 \
  --set train.sample_every=0 --set debug.inject_nan_step=7 --set log.tensorboard=true >/dev/null 2>&1 || fail "rollback run"
mapfile -t rb_files < <(events_of "$WORK/rollback")
read_to "${rb_files[0]}" "$WORK/rollback.json"
python3 - "$WORK/rollback.json" "$WORK/rollback" <<'EOF2' || fail "the rollback's event file"
import json, struct, sys
ev = json.load(open(sys.argv[1]))
starts = [i for i, e in enumerate(ev) if e.get("session_log") == "START"]
assert [ev[i]["step"] for i in starts] == [0, 4], [ev[i]["step"] for i in starts]
loss = lambda es: [(e["step"], v["simple_value"]) for e in es for v in e.get("values", []) if v["tag"] == "loss_d"]
assert [s for s, _ in loss(ev[:starts[1]])] == [2, 4, 6]
after = loss(ev[starts[1]:])
logs = [json.loads(l) for l in open(sys.argv[2] + "/events.jsonl")]
want = [(j["step"], struct.unpack("<f", struct.pack("<f", j["loss_d"]))[0]) for j in logs if j["event"] == "log"][2:]
assert after == want, (after, want)
EOF2

# Off by default: no folder; --force starts a run afresh without the old events.
"$DUEL" train --out "$WORK/off" "${TINY[@]}" --set train.steps=2 >/dev/null 2>&1 || fail "run without the key"
[ -e "$WORK/off/tensorboard" ] && fail "log.tensorboard=false wrote a tensorboard folder"
"$DUEL" train --out "$R" --force "${TINY[@]}" --set train.steps=2 --set log.tensorboard=true >/dev/null 2>&1 ||
  fail "--force run"
mapfile -t files < <(events_of "$R")
[ "${#files[@]}" = 1 ] || fail "--force kept the old event files: ${files[*]}"

# An event file that cannot be created stops the run before training, naming it.
mkdir -p "$WORK/blocked" && touch "$WORK/blocked/tensorboard"
expect_exit 2 "TensorBoard folder .*blocked/tensorboard" -- "$DUEL" train --out "$WORK/blocked" --force "${TINY[@]}" \
  --set train.steps=2 --set log.tensorboard=true
finish
