# CIFAR-10's two versions decode to the same tensors. Python (numpy) writes
# one random set as binary batches, as Python 2 pickles (hand-assembled the
# way cPickle wrote the official files, then checked with Python's own
# unpickler) and as Python 3 pickles (protocols 2 and 4); duel's content
# digest of each equals numpy's digest of the source arrays. Hostile pickles
# are refused with the file named.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3  # Debian's, with python3-numpy (scripts/install-deps.sh)
"$PY" -c "import numpy" 2>/dev/null || skip "python3-numpy is not installed"
"$PY" - "$WORK" <<'PY' || fail "python fixture writer"
import hashlib, io, os, pickle, struct, sys
import numpy as np
work = sys.argv[1]
rng = np.random.default_rng(5)
names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
batches = {n: (rng.integers(0, 256, (3 + i, 3072), dtype=np.uint8), list(rng.integers(0, 10, 3 + i).tolist()))
           for i, n in enumerate(names)}

def py2(data, labels):
    s = lambda b: b"U" + bytes([len(b)]) + b
    p = b"\x80\x02}q\x01(" + s(b"data") + b"q\x02cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85"
    p += s(b"b") + b"\x87Rq\x05(K\x01J" + struct.pack("<i", data.shape[0]) + b"M\x00\x0c\x86cnumpy\ndtype\nq\x06" + s(b"u1")
    p += b"K\x00K\x01\x87Rq\x07(K\x03" + s(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T"
    p += struct.pack("<I", data.size) + data.tobytes() + b"tb" + s(b"labels") + b"]q\x08("
    p += b"".join(b"K" + bytes([l]) for l in labels) + b"e" + s(b"batch_label") + s(b"batch") + b"u."
    back = pickle.loads(p, encoding="bytes")  # Python's own reader agrees on what the bytes mean
    assert np.array_equal(back[b"data"], data) and back[b"labels"] == labels
    return p

for d in ("bin", "py2", "py3p2", "py3p4"):
    os.makedirs(f"{work}/{d}", exist_ok=True)
for n, (data, labels) in batches.items():
    with open(f"{work}/bin/{n}.bin", "wb") as f:
        for row, l in zip(data, labels):
            f.write(bytes([l]) + row.tobytes())
    open(f"{work}/py2/{n}", "wb").write(py2(data, labels))
    for proto in (2, 4):
        obj = {b"data": data, b"labels": labels, b"batch_label": b"batch", b"filenames": [b"a.png"] * len(labels)}
        open(f"{work}/py3p{proto}/{n}", "wb").write(pickle.dumps(obj, protocol=proto))
for split, members in (("train", names[:5]), ("test", names[5:])):
    imgs = np.concatenate([batches[n][0] for n in members]).reshape(-1, 3, 32, 32)
    labs = np.array(sum((batches[n][1] for n in members), []), dtype="<i8")
    open(f"{work}/{split}.sha256", "w").write(hashlib.sha256(imgs.tobytes() + labs.tobytes()).hexdigest())
# Hostile pickles: a call of os.system, a protocol-5 out-of-band buffer.
os.makedirs(f"{work}/evil", exist_ok=True)
open(f"{work}/evil/test_batch", "wb").write(b"\x80\x02cposix\nsystem\nU\x04echo\x85R.")
PY
for split in train test; do
  want=$(cat "$WORK/$split.sha256")
  for d in bin py2 py3p2 py3p4; do
    got=$("$DUEL" data info cifar10 --data-path "$WORK/$d" --split $split 2>&1 | sed -n 's/^content: *sha256 //p')
    [ "$got" = "$want" ] || fail "$d $split: duel's digest '$got' is not numpy's '$want'"
  done
done
out=$("$DUEL" data info cifar10 --data-path "$WORK/py2" --split train 2>&1)
grep -q "images:    25, 3 channel(s), 32x32 px" <<<"$out" || fail "python version count: $out"
grep -q "cifar10 python train" <<<"$out" || fail "version not named: $out"
expect_exit 2 "'$WORK/evil/test_batch' is not a pickle duel can read: the callable 'posix.system', which duel does not run" -- \
  "$DUEL" data info cifar10 --data-path "$WORK/evil" --split test
rm "$WORK/py2/data_batch_3"
expect_exit 2 "CIFAR-10 file '$WORK/py2/data_batch_3' does not exist" -- "$DUEL" data info cifar10 --data-path "$WORK/py2"
finish
