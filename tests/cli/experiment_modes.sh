#!/usr/bin/env bash
# duel experiment modes --quick (docs/modes.md): the plain and the packed GAN
# on the 8-Gaussian ring write results.json with sane counts, scatter plots
# and reusable runs, in well under a minute; bad input is refused before any
# run; a point dataset trains through `duel train` and samples as a scatter plot.
source "$(dirname "$0")/lib.sh"

start=$(date +%s)
out=$("$DUEL" experiment modes --work "$WORK/q" --quick --threads 1 2>&1) || fail "quick benchmark failed: $out"
secs=$(( $(date +%s) - start ))
[ "$secs" -lt 60 ] || fail "--quick took ${secs}s (want < 60)"
grep -q "ring8 pac2 seed 1: [0-8]/8 modes" <<<"$out" || fail "no pac2 line: $out"
/usr/bin/python3 - "$WORK/q" <<'PY' || fail "results.json"
import json, struct, sys, pathlib
work = pathlib.Path(sys.argv[1])
r = json.load(open(work / "results.json"))
runs = {(x["protocol"], x["variant"]): x for x in r["runs"]}
assert set(runs) == {("ring8", "data"), ("ring8", "gan"), ("ring8", "pac2")}, runs.keys()
data = runs[("ring8", "data")]
assert data["captured"] == 8 and data["high_quality"] > 0.95 and data["reverse_kl"] < 0.05, data
for v in ("gan", "pac2"):
    x = runs[("ring8", v)]
    assert x["modes"] == 8 and 0 <= x["captured"] <= 8 and x["samples"] == 500 and x["steps"] == 200, x
    assert len(x["counts"]) == 8 and sum(x["counts"]) == round(x["high_quality"] * 500), x
    assert x["captured"] == sum(1 for c in x["counts"] if c >= 1), x
    png = pathlib.Path(x["plot"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (480, 480), x["plot"]
cfg = (work / "ring8/pac2/seed-1/config.toml").read_text()
assert "pack = 2" in cfg and 'mlp_arch = "pacgan"' in cfg, cfg
assert [s["variant"] for s in r["summary"]] == ["data", "gan", "pac2"], r["summary"]
PY
# The same command again scores the finished runs without training them.
out=$("$DUEL" experiment modes --work "$WORK/q" --quick --threads 1 2>&1) || fail "second quick run failed"
[ "$(grep -c "finished run, scored again" <<<"$out")" = 2 ] || fail "finished runs were trained again: $out"

expect_exit 2 "unknown part 'unrolled' in variant 'gan\+unrolled'" -- "$DUEL" experiment modes --work "$WORK/b" --variant gan+unrolled
expect_exit 2 "unknown mode-coverage protocol 'ring9'" -- "$DUEL" experiment modes --work "$WORK/b" --protocol ring9
expect_exit 2 "train.batch_size = 100 is not a multiple of model.pack = 3" -- \
  "$DUEL" experiment modes --work "$WORK/b" --quick --set model.pack=3 --threads 1
expect_exit 2 "model.pack = 2 is not supported by model 'cgan'" -- \
  "$DUEL" train "${TINY[@]}" --set model.name=cgan --set model.pack=2 --set train.steps=1 --out "$WORK/cg"
[ -e "$WORK/cg" ] && fail "a refused run left a folder"
expect_exit 2 "\.json" -- "$DUEL" experiment modes --work "$WORK/b" --out "$WORK/b.txt"

# A point dataset through duel train and duel sample: scatter plots, not image grids.
"$DUEL" train --set data.dataset=grid25 --set model.name=mlp --set model.mlp_arch=pacgan --set model.mlp_hidden=32 \
  --set model.latent_dim=2 --set train.steps=20 --set train.batch_size=50 --set train.log_every=10 --threads 1 \
  --out "$WORK/grid" >/dev/null 2>&1 || fail "train on grid25"
/usr/bin/python3 -c "
import struct, sys
png = open(sys.argv[1], 'rb').read()
assert struct.unpack('>II', png[16:24]) == (480, 480) and png[25] == 2, 'final.png is not a 480 px RGB scatter plot'
" "$WORK/grid/samples/final.png" || fail "grid25 final.png"
"$DUEL" sample -k "$WORK/grid" --n 300 --out "$WORK/grid.png" --threads 1 >/dev/null 2>&1 || fail "sample points"
[ -s "$WORK/grid.png" ] || fail "no scatter plot from duel sample"
expect_exit 2 "draws 2-D points" -- "$DUEL" sample -k "$WORK/grid" --n 4 --each "$WORK/each" --threads 1
expect_exit 2 "duel experiment modes --protocol grid25" -- "$DUEL" eval --checkpoint "$WORK/grid" --threads 1
finish
