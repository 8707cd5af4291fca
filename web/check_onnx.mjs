// Checks an ONNX model written by `duel export` in ONNX Runtime (onnxruntime-node,
// its bundled CPU build) against LibTorch's output for the same inputs, as
// written by `duel export --reference DIR`:
//
//   node web/check_onnx.mjs model.onnx DIR [--tol 1e-4] [--min-std 0.05]
//
// DIR holds the inputs (z.npy [+ label.npy], or input.npy) and image.npy.
// The whole batch runs at once and then image by image (batch 1), so the
// dynamic batch dimension is exercised too. Prints one JSON line with the
// largest absolute differences; exits 1 when a difference exceeds --tol, a
// shape differs, the model's inputs/outputs are not the documented ones, or
// LibTorch's output varies less than --min-std (too flat to test anything).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ort from "onnxruntime-node";

// Reads a .npy file (v1/v2, little-endian float32 '<f4' or int64 '<i8', C order).
export function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error(`${file}: not an .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString("latin1", major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order is not supported`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "")
    .split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const bytes = buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length);  // a copy, aligned
  if (descr === "<f4") return { type: "float32", shape, data: new Float32Array(bytes) };
  if (descr === "<i8") return { type: "int64", shape, data: new BigInt64Array(bytes) };
  throw new Error(`${file}: dtype ${descr} is not supported`);
}

function rows(array, first, count) {  // rows [first, first+count) of an [N, ...] array
  const per = array.shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    type: array.type,
    shape: [count, ...array.shape.slice(1)],
    data: array.data.slice(first * per, (first + count) * per),
  };
}

function maxAbsDiff(got, want, where) {
  if (got.dims.join(",") !== want.shape.join(","))
    throw new Error(`${where}: ONNX Runtime gives shape [${got.dims}], LibTorch [${want.shape}]`);
  let worst = 0;
  for (let i = 0; i < want.data.length; ++i) {
    const d = Math.abs(got.data[i] - want.data[i]);
    if (!(d <= worst)) worst = d;  // NaN propagates
  }
  return worst;
}

async function main() {
  const args = process.argv.slice(2);
  const tolAt = args.indexOf("--tol");
  const tol = tolAt >= 0 ? Number(args.splice(tolAt, 2)[1]) : 1e-4;
  // A reference whose pixels barely vary would let a wrong graph pass a small tolerance.
  const stdAt = args.indexOf("--min-std");
  const minStd = stdAt >= 0 ? Number(args.splice(stdAt, 2)[1]) : 0;
  const [model, dir] = args;
  if (!model || !dir) throw new Error("usage: node check_onnx.mjs model.onnx REFERENCE_DIR [--tol 1e-4]");

  const inputs = {};
  for (const name of ["z", "label", "input"]) {
    const f = path.join(dir, `${name}.npy`);
    if (fs.existsSync(f)) inputs[name] = readNpy(f);
  }
  const want = readNpy(path.join(dir, "image.npy"));
  const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"] });
  const names = [...session.inputNames].sort().join(",");
  if (names !== Object.keys(inputs).sort().join(","))
    throw new Error(`the model's inputs are [${session.inputNames}], the reference has [${Object.keys(inputs)}]`);
  if (session.outputNames.join(",") !== "image") throw new Error(`the model's outputs are [${session.outputNames}], not [image]`);

  const feeds = (first, count) => {
    const f = {};
    for (const [name, a] of Object.entries(inputs)) {
      const r = rows(a, first, count);
      f[name] = new ort.Tensor(r.type, r.data, r.shape);
    }
    return f;
  };
  const n = want.shape[0];
  const batch = maxAbsDiff((await session.run(feeds(0, n))).image, want, `batch of ${n}`);
  let single = 0;
  for (let i = 0; i < n; ++i) {
    const d = maxAbsDiff((await session.run(feeds(i, 1))).image, rows(want, i, 1), `image ${i} alone`);
    if (!(d <= single)) single = d;
  }
  let sum = 0, sq = 0;
  for (const v of want.data) { sum += v; sq += v * v; }
  const mean = sum / want.data.length;
  const std = Math.sqrt(Math.max(0, sq / want.data.length - mean * mean));
  const ok = batch <= tol && single <= tol && std >= minStd;
  console.log(JSON.stringify({
    model: path.basename(model), inputs: session.inputNames, batch: n, output: want.shape, reference_std: std,
    max_abs_diff_batch: batch, max_abs_diff_single: single, tol, ok,
  }));
  if (std < minStd) console.error(`check_onnx: LibTorch's output varies too little to test (std ${std} < ${minStd})`);
  if (!ok) process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(`check_onnx: ${e.message}`);
    process.exit(1);
  });
}
