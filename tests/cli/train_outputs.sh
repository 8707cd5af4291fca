# A short run on the generated IDX data writes every output, and they parse.
source "$(dirname "$0")/lib.sh"
R="$WORK/run"
out=$("$DUEL" train --config "$SOURCE_DIR/configs/dcgan28.toml" --out "$R" "${TINY[@]}" \
      --set train.steps=6 --set train.sample_every=3 --set train.checkpoint_every=4 2>&1) || fail "train failed: $out"
for f in config.toml metrics.csv events.jsonl samples/step-000003.png samples/step-000006.png samples/final.png \
         checkpoints/latest.duel checkpoints/step-000004.duel checkpoints/step-000006.duel; do
  [ -s "$R/$f" ] || fail "missing $f"
done
grep -q "final grid:   $R/samples/final.png" <<<"$out" || fail "summary does not say where the grid went"
[ "$(head -1 "$R/metrics.csv")" = "step,epoch,loss_d,loss_g,d_real,d_fake,img_per_s,elapsed_s" ] || fail "csv header"
[ "$(wc -l < "$R/metrics.csv")" = 4 ] || fail "expected 3 rows (steps 2, 4, 6): $(cat "$R/metrics.csv")"
awk -F, 'NR>1 { for (i=3;i<=6;i++) if ($i+0 != $i || $i == "nan") exit 1 }' "$R/metrics.csv" || fail "non-numeric metrics"
python3 -c "
import json,sys
rows=[json.loads(l) for l in open('$R/events.jsonl')]
logs=[r for r in rows if r['event']=='log']
assert [r['step'] for r in logs]==[2,4,6], logs
assert rows[0]['event']=='start' and rows[-1]['event']=='finish'
assert all(0<=r['d_real']<=1 for r in logs)
" || fail "events.jsonl"
grep -q 'batch_size = 16' "$R/config.toml" || fail "resolved config lacks the --set value"
# PNG signature and grid size: 16 images of 28 px in a 4x4 grid with 2 px padding = 122 px.
python3 -c "
import struct
b=open('$R/samples/final.png','rb').read()
assert b[:8]==b'\x89PNG\r\n\x1a\n'
w,h=struct.unpack('>II',b[16:24]); assert (w,h)==(122,122),(w,h)
" || fail "final.png is not a 122x122 PNG"
# The config file alone reproduces the run: training again from it gives the same losses.
"$DUEL" train --config "$R/config.toml" --out "$WORK/again" --threads 1 >/dev/null 2>&1 || fail "rerun from config.toml failed"
cut -d, -f1-6 "$R/metrics.csv" > "$WORK/a.csv"; cut -d, -f1-6 "$WORK/again/metrics.csv" > "$WORK/b.csv"
cmp -s "$WORK/a.csv" "$WORK/b.csv" || fail "rerun from the resolved config differs"
# An existing run is not overwritten without --force.
expect_exit 2 "already holds a run" -- "$DUEL" train --out "$R" "${TINY[@]}" --set train.steps=2
"$DUEL" train --out "$R" --force "${TINY[@]}" --set train.steps=2 >/dev/null 2>&1 || fail "--force failed"
[ "$(wc -l < "$R/metrics.csv")" = 2 ] || fail "--force did not start the run afresh"
finish
