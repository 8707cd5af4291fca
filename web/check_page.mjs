// Checks a generator page written by `duel export --web DIR` in headless
// chromium, as a user would use it:
//
//   node web/check_page.mjs DIR screenshot.png
//
// Serves DIR on 127.0.0.1 (an OS-chosen port), opens index.html, waits for
// the first batch, and checks that the canvas holds varied pixels, that a
// latent slider, "New samples" and (conditional models) the class picker
// each change the picture, and that nothing failed on the way: no console
// error, no exception, no failed or missing request. Prints one JSON line;
// exits 1 on any failure.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { openPage } from "./browser.mjs";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".onnx": "application/octet-stream", ".json": "application/json",
};

function serve(root) {
  const missing = [];
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, "") || "index.html";
    const file = path.join(root, rel);
    if (!file.startsWith(path.resolve(root)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      if (rel !== "favicon.ico") missing.push(rel);
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, missing })));
}

// What the canvas shows: size, spread of grey levels and a fingerprint.
function canvasSummary() {
  const c = document.getElementById("grid");
  if (!c.width || !c.height) return { width: 0, height: 0 };
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let sum = 0, sq = 0, hash = 2166136261;
  const levels = new Set();
  const n = d.length / 4;
  for (let i = 0; i < d.length; i += 4) {
    const g = (d[i] + d[i + 1] + d[i + 2]) / 3;
    sum += g; sq += g * g; levels.add(d[i]);
    hash = Math.imul(hash ^ d[i] ^ (d[i + 1] << 8) ^ (d[i + 2] << 16), 16777619) >>> 0;
  }
  const mean = sum / n;
  return { width: c.width, height: c.height, mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)), levels: levels.size, hash };
}

async function main() {
  const [dir, shot] = process.argv.slice(2);
  if (!dir || !shot) throw new Error("usage: node check_page.mjs DIR screenshot.png");
  const root = path.resolve(dir);
  const { server, missing } = await serve(root);
  const url = `http://127.0.0.1:${server.address().port}/index.html`;
  const problems = [];
  const generated = (n) => (page) => page.waitForFunction((k) => Number(document.body.dataset.generated ?? 0) >= k, {}, n);
  const { page, errors, close } = await openPage(url, { screenshot: shot, waitFor: generated(1), width: 1100, height: 480 });
  const result = {};
  try {
    const first = await page.evaluate(canvasSummary);
    result.first = first;
    if (!(first.width > 0 && first.height > 0)) problems.push("the canvas is empty");
    if (!(first.std > 10 && first.levels > 16)) problems.push(`the canvas is (nearly) uniform: std ${first.std}, ${first.levels} levels`);

    let done = 1;
    const changes = async (what, act) => {
      await act();
      done += 1;
      await generated(done)(page);
      const now = await page.evaluate(canvasSummary);
      result[what] = now;
      if (now.hash === result.last.hash) problems.push(`${what} did not change the canvas`);
      if (!(now.std > 10)) problems.push(`after ${what} the canvas is (nearly) uniform`);
      result.last = now;
    };
    result.last = first;
    await changes("slider", () => page.$eval("#direction-1", (s) => { s.value = "3"; s.dispatchEvent(new Event("input")); }));
    await changes("new_samples", () => page.click("#new"));
    if (await page.$eval("#class-box", (b) => !b.hidden)) {
      await changes("class", () => page.select("#class", "1"));
    }
    result.status = await page.$eval("#status", (s) => s.textContent);
  } finally {
    await close();
    server.close();
  }
  for (const e of errors) problems.push(e);
  for (const m of missing) problems.push(`the page requested ${m}, which the folder lacks`);
  delete result.last;
  console.log(JSON.stringify({ url, screenshot: shot, problems, ...result }));
  if (problems.length > 0) process.exit(1);
}

main().catch((e) => {
  console.error(`check_page: ${e.stack ?? e.message}`);
  process.exit(1);
});
