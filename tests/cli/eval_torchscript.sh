# --features with a user TorchScript module: a tiny random "Inception-like"
# extractor with a declared input size, returning (features, logits). Skipped
# (ctest: Skipped; under CI=true: failed) when Debian's python3-torch is not installed.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c "import torch" 2>/dev/null || skip "/usr/bin/python3 has no torch (apt install python3-torch)"
# torch.jit.script reads the classes' source, so the exporter must be a file.
cat > "$WORK/export.py" <<'PY'
import sys, torch
class Extractor(torch.nn.Module):
    input_size: int
    def __init__(self):
        super().__init__()
        self.input_size = 40  # what duel resizes images to (default 299)
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2)
        self.head = torch.nn.Linear(8, 5)
    def forward(self, x):  # x [N, 3, 40, 40] in [-1, 1]
        f = torch.relu(self.conv(x)).mean(dim=(2, 3))  # [N, 8]
        return f, self.head(f)
class Plain(torch.nn.Module):
    def forward(self, x):  # default input 3x299x299, features only
        return x.mean(dim=(2, 3))
torch.manual_seed(0)
torch.jit.save(torch.jit.script(Extractor()), sys.argv[1])
torch.jit.save(torch.jit.script(Plain()), sys.argv[2])
PY
$PY "$WORK/export.py" "$WORK/ts.pt" "$WORK/ts_plain.pt" || fail "export"
"$DUEL" train --out "$WORK/r" "${TINY[@]}" --set train.steps=2 >/dev/null 2>&1 || fail "train"
CK="$WORK/r/checkpoints/latest.duel"
out=$("$DUEL" eval --checkpoint "$CK" --n 16 --features "$WORK/ts.pt" --threads 1 2>&1) || fail "eval with TorchScript: $out"
grep -q "torchscript" <<<"$out" || fail "no torchscript identity: $out"
python3 - "$WORK/r/eval/step-000002.json" <<'PY' || fail "json"
import json, sys
j = json.load(open(sys.argv[1]))
fn = j["feature_network"]
assert fn["kind"] == "torchscript" and fn["input_size"] == 40 and fn["feature_dim"] == 8 and fn["num_classes"] == 5, fn
assert len(j["feature_hash"]) == 16 and j["metrics"]["fid"] >= 0 and "inception_score" in j["metrics"]
PY
"$DUEL" features info "$WORK/ts_plain.pt" | grep -q "input: *3x299x299" || fail "default input size"
out=$("$DUEL" eval --checkpoint "$CK" --n 16 --features "$WORK/ts_plain.pt" --no-floor --out "$WORK/p.json" --threads 1 2>&1) \
  || fail "features-only module: $out"
python3 -c "import json; m=json.load(open('$WORK/p.json'))['metrics']; assert 'inception_score' not in m and m['fid']>=0" \
  || fail "features-only module should give no IS"
finish
