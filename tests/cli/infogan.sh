# infogan through the CLI: trains on the fixture data and logs its info
# scalars, resumes bit for bit, and `duel sample --traverse` writes code
# traversals (an unknown code exits 2, naming the codes).
source "$(dirname "$0")/lib.sh"
I=("${TINY[@]}" --set model.name=infogan --set model.info_q_hidden=16 --set train.checkpoint_every=0
   --set train.sample_every=0 --set train.label_smoothing=0.2)
"$DUEL" train --out "$WORK/straight" "${I[@]}" --set train.steps=12 >/dev/null 2>&1 || fail "straight run"
header=$(head -1 "$WORK/straight/metrics.csv")
for col in info_loss info_cat info_cat_acc info_cont info_cont_mse; do
  grep -qE "(^|,)$col(,|$)" <<<"$header" || fail "metrics.csv lacks $col: $header"
done
grep -qE "^name = .infogan.$" "$WORK/straight/config.toml" || fail "config.toml does not name infogan"
grep -qE "^info_cat_dim = 10$" "$WORK/straight/config.toml" || fail "config.toml lacks the code keys"

# N steps straight equal N/2 + resume + N/2, weights and info curves alike.
"$DUEL" train --out "$WORK/split" "${I[@]}" --set train.steps=6 >/dev/null 2>&1 || fail "first half"
"$DUEL" train --resume "$WORK/split" --set train.steps=12 --threads 1 >/dev/null 2>&1 || fail "resume"
digests() { "$DUEL" info "$1" | grep -E "^net |^step"; }
cmp <(digests "$WORK/straight/checkpoints/latest.duel") <(digests "$WORK/split/checkpoints/latest.duel") ||
  fail "final weights differ after resuming"
# Every column but the timings (img/s and the like) must match.
columns() { awk -F, -v want="step,loss_d,loss_g,info_loss,info_cat_acc,info_cont_mse" '
  NR == 1 { n = split(want, w, ","); for (i = 1; i <= NF; i++) for (j = 1; j <= n; j++) if ($i == w[j]) keep[i] = 1 }
  { line = ""; for (i = 1; i <= NF; i++) if (i in keep) line = line $i ","; print line }' "$1"; }
cmp <(columns "$WORK/straight/metrics.csv") <(columns "$WORK/split/metrics.csv") || fail "loss/info curves differ"
cmp "$WORK/straight/samples/final.png" "$WORK/split/samples/final.png" || fail "final grids differ"

CK="$WORK/straight/checkpoints/latest.duel"
"$DUEL" sample --help 2>&1 | grep -q -- "--traverse" || fail "duel sample --help does not list --traverse"
png_size() { python3 -c "import struct,sys; b=open(sys.argv[1],'rb').read(); print(*struct.unpack('>II', b[16:24]))" "$1"; }
out=$("$DUEL" sample -k "$CK" --traverse c1 --rows 3 --out "$WORK/c1.png" --threads 1 2>&1) || fail "traverse c1: $out"
# 3 rows x 10 values of the categorical code, 28 px tiles with 2 px gaps.
[ "$(png_size "$WORK/c1.png")" = "302 92" ] || fail "c1 grid is $(png_size "$WORK/c1.png")"
"$DUEL" sample -k "$CK" --traverse c1 --rows 3 --out "$WORK/c1b.png" --threads 1 >/dev/null 2>&1 || fail "traverse c1 again"
cmp -s "$WORK/c1.png" "$WORK/c1b.png" || fail "the same seed gave another traversal"
"$DUEL" sample -k "$CK" --traverse c3 --rows 2 --steps 5 --out "$WORK/c3.png" --threads 1 >/dev/null 2>&1 ||
  fail "traverse c3"
[ "$(png_size "$WORK/c3.png")" = "152 62" ] || fail "c3 grid is $(png_size "$WORK/c3.png")"
expect_exit 2 "unknown latent code 'nope'.*c1 \(categorical, 10 values\), c2 \(continuous\), c3" -- \
  "$DUEL" sample -k "$CK" --traverse nope --out "$WORK/nope.png" --threads 1
[ -e "$WORK/nope.png" ] && fail "a refused traversal wrote a file"
finish
