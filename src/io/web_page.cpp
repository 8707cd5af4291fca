// The generator page of `duel export --web`; see include/duel/io/web_page.h.
#include "duel/io/web_page.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/io/html.h"

#ifndef DUEL_DEFAULT_WEB_ASSETS
#define DUEL_DEFAULT_WEB_ASSETS ""
#endif

namespace fs = std::filesystem;

namespace duel {
namespace {

// The page. {{TITLE}} and {{INFO}} (a JSON object) are filled in by generator_page_html.
const char* const kPage = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="duel export --web">
<link rel="icon" href="data:,">
<title>{{TITLE}}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 24px; background: #fafafa; color: #222; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .meta { color: #666; font-size: 13px; margin: 0 0 16px; }
  .controls { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; margin-bottom: 16px; }
  button { font-size: 15px; padding: 6px 16px; cursor: pointer; }
  #sliders { flex-basis: 100%; gap: 8px 20px; }
  .slider input { width: 110px; }
  .slider { display: flex; align-items: center; gap: 6px; font-size: 13px; }
  .slider output { width: 3em; text-align: right; font-variant-numeric: tabular-nums; }
  canvas { background: #333; image-rendering: pixelated; border-radius: 4px; }
  #status { color: #555; font-size: 13px; margin-top: 8px; }
  #status.error { color: #b00020; }
</style>
</head>
<body>
<h1>{{TITLE}}</h1>
<p class="meta" id="meta"></p>
<div class="controls">
  <button id="new" disabled>New samples</button>
  <label id="class-box" hidden>Class <select id="class"></select></label>
  <div id="sliders" class="controls"></div>
</div>
<canvas id="grid" width="0" height="0"></canvas>
<p id="status">loading the model&hellip;</p>
<script id="model-info" type="application/json">{{INFO}}</script>
<script src="ort.wasm.min.js"></script>
<script>
"use strict";
const info = JSON.parse(document.getElementById("model-info").textContent);
const statusLine = document.getElementById("status");
const canvas = document.getElementById("grid");
const classSelect = document.getElementById("class");
const sliders = [];

// Deterministic random numbers (mulberry32) and standard normals (Box-Muller).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gauss(r) {
  let u = 0;
  while (u === 0) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

// The layout of z as the model's make_noise draws it: "normal:K", "onehot:D", "uniform:K" parts.
const layout = info.latent_layout.split(",").map((p) => {
  const [kind, n] = p.split(":");
  return { kind, n: Number(n) };
});
const normalColumns = [];
let width = 0;
for (const part of layout) {
  if (part.kind === "normal") for (let i = 0; i < part.n; ++i) normalColumns.push(width + i);
  width += part.n;
}
if (width !== info.z_width) throw new Error(`latent layout ${info.latent_layout} does not add up to z's ${info.z_width} columns`);

function drawNoise(r, z, offset) {
  let o = offset;
  for (const part of layout) {
    if (part.kind === "normal") for (let i = 0; i < part.n; ++i) z[o + i] = gauss(r);
    else if (part.kind === "uniform") for (let i = 0; i < part.n; ++i) z[o + i] = 2 * r() - 1;
    else if (part.kind === "onehot") z[o + Math.floor(r() * part.n)] = 1;
    o += part.n;
  }
}

// Grid: conditional models draw one class per column ("all classes") or the picked class everywhere.
const cols = info.classes > 0 ? info.classes : 8;
const rows = info.classes > 0 ? Math.max(2, Math.ceil(24 / info.classes)) : 4;
const count = cols * rows;

// Fixed random unit directions in the normal part of z; slider k adds value_k * direction_k to every z.
const directions = [];
{
  const r = rng(1234);
  for (let k = 0; k < info.directions && normalColumns.length > 0; ++k) {
    const d = new Float32Array(info.z_width);
    let norm = 0;
    for (const j of normalColumns) { d[j] = gauss(r); norm += d[j] * d[j]; }
    norm = Math.sqrt(norm);
    for (const j of normalColumns) d[j] /= norm;
    directions.push(d);
  }
}

let session = null;
let base = null;       // [count, z_width] noise of the current samples
let seed = 1;
let generated = 0;     // batches drawn so far (document.body.dataset.generated)
let running = null;    // the generation in flight
let again = false;     // inputs changed while it ran

function newNoise() {
  const r = rng(seed++ * 7919);
  base = new Float32Array(count * info.z_width);
  for (let i = 0; i < count; ++i) drawNoise(r, base, i * info.z_width);
}

function feeds() {
  const w = info.z_width;
  const z = new Float32Array(base);
  sliders.forEach((s, k) => {
    const v = Number(s.value);
    if (v === 0) return;
    for (let i = 0; i < count; ++i) for (let j = 0; j < w; ++j) z[i * w + j] += v * directions[k][j];
  });
  const out = { z: new ort.Tensor("float32", z, [count, w]) };
  if (info.classes > 0) {
    const picked = Number(classSelect.value);
    const labels = new BigInt64Array(count);
    for (let i = 0; i < count; ++i) labels[i] = BigInt(picked >= 0 ? picked : i % cols);
    out.label = new ort.Tensor("int64", labels, [count]);
  }
  return out;
}

function draw(image) {
  const [n, c, h, w] = image.dims;
  const data = image.data;
  const scale = Math.max(1, Math.round(84 / Math.max(h, w)));
  const pad = 2;
  canvas.width = cols * (w * scale + pad) + pad;
  canvas.height = rows * (h * scale + pad) + pad;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#333";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  const tile = document.createElement("canvas");
  tile.width = w;
  tile.height = h;
  const tileCtx = tile.getContext("2d");
  const pixels = tileCtx.createImageData(w, h);
  const byte = (v) => Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5);
  for (let i = 0; i < n; ++i) {
    for (let p = 0; p < h * w; ++p) {
      for (let k = 0; k < 3; ++k) pixels.data[4 * p + k] = byte(data[(i * c + (c === 1 ? 0 : k)) * h * w + p]);
      pixels.data[4 * p + 3] = 255;
    }
    tileCtx.putImageData(pixels, 0, 0);
    const x = pad + (i % cols) * (w * scale + pad), y = pad + Math.floor(i / cols) * (h * scale + pad);
    ctx.drawImage(tile, x, y, w * scale, h * scale);
  }
}

async function generate() {
  if (running) { again = true; return running; }
  running = (async () => {
    try {
      do {
        again = false;
        const t0 = performance.now();
        const out = await session.run(feeds());
        draw(out.image);
        generated += 1;
        document.body.dataset.generated = String(generated);
        statusLine.className = "";
        statusLine.textContent = `${count} images in ${(performance.now() - t0).toFixed(0)} ms (ONNX Runtime Web, WASM)`;
      } while (again);
    } catch (e) {
      statusLine.className = "error";
      statusLine.textContent = `generation failed: ${e.message}`;
      console.error(e);
    } finally {
      running = null;
    }
  })();
  return running;
}

function setup() {
  const m = info;
  document.getElementById("meta").textContent =
    `${m.model}, ${m.trained}; ${m.channels}\u00d7${m.size}\u00d7${m.size} images from z of ${m.z_width} (${m.latent_layout})` +
    (m.classes > 0 ? `, ${m.classes} classes` : "");
  if (m.classes > 0) {
    document.getElementById("class-box").hidden = false;
    const all = new Option("all (one per column)", "-1");
    classSelect.add(all);
    for (let k = 0; k < m.classes; ++k) classSelect.add(new Option(m.class_names[k] ?? `class ${k}`, String(k)));
    classSelect.addEventListener("change", generate);
  }
  const box = document.getElementById("sliders");
  directions.forEach((_, k) => {
    const label = document.createElement("label");
    label.className = "slider";
    label.textContent = `direction ${k + 1}`;
    const s = document.createElement("input");
    Object.assign(s, { type: "range", min: "-4", max: "4", step: "0.1", value: "0", id: `direction-${k + 1}` });
    const shown = document.createElement("output");
    shown.textContent = "0.0";
    s.addEventListener("input", () => { shown.textContent = Number(s.value).toFixed(1); generate(); });
    label.append(s, shown);
    box.append(label);
    sliders.push(s);
  });
  document.getElementById("new").addEventListener("click", () => { newNoise(); generate(); });
}

async function main() {
  setup();
  ort.env.wasm.numThreads = 1;  // no SharedArrayBuffer, so no special server headers
  ort.env.wasm.wasmPaths = new URL("./", location.href).href;
  session = await ort.InferenceSession.create("model.onnx", { executionProviders: ["wasm"] });
  document.getElementById("new").disabled = false;
  newNoise();
  await generate();
}

main().catch((e) => {
  statusLine.className = "error";
  statusLine.textContent = `could not load the model: ${e.message}` +
    (location.protocol === "file:" ? " (open the page through a web server, e.g. python3 -m http.server)" : "");
  console.error(e);
});
</script>
</body>
</html>
)PAGE";

// A JSON string literal that is also safe inside <script> ('<' escaped).
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += std::string("\\") + c;
    else if (c == '<') out += "\\u003c";
    else if (c == '\n') out += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) out += " ";
    else out += c;
  }
  return out + "\"";
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

const char* const kMarker = "<meta name=\"generator\" content=\"duel export --web\">";

}  // namespace

std::string generator_page_html(const GeneratorPage& page) {
  std::ostringstream info;
  info << "{\"model\": " << json_string(page.model) << ", \"trained\": " << json_string(page.trained)
       << ", \"z_width\": " << page.z_width << ", \"latent_layout\": " << json_string(page.latent_layout)
       << ", \"classes\": " << page.classes << ", \"class_names\": [";
  for (size_t i = 0; i < page.class_names.size(); ++i) info << (i ? ", " : "") << json_string(page.class_names[i]);
  info << "], \"channels\": " << page.channels << ", \"size\": " << page.size << ", \"directions\": " << page.directions
       << "}";
  std::string html = kPage;
  replace_all(html, "{{TITLE}}", html_escape(page.title));
  replace_all(html, "{{INFO}}", info.str());
  return html;
}

const std::vector<std::string>& web_runtime_files() {
  static const std::vector<std::string> files{"ort.wasm.min.js", "ort-wasm-simd-threaded.mjs",
                                              "ort-wasm-simd-threaded.wasm"};
  return files;
}

std::string web_runtime_dir() {
  const char* env = std::getenv("DUEL_WEB_ASSETS");
  const bool from_env = env && *env;
  const std::string dir = from_env ? env : DUEL_DEFAULT_WEB_ASSETS;
  const std::string origin = from_env ? "$DUEL_WEB_ASSETS" : "the build's default";
  require(!dir.empty(), "no folder of onnxruntime-web files is known to this build of duel",
          "set DUEL_WEB_ASSETS to onnxruntime-web's dist folder (web/node_modules/onnxruntime-web/dist after "
          "scripts/install-deps.sh)");
  for (const auto& f : web_runtime_files()) {
    std::error_code ec;
    require(fs::is_regular_file(fs::path(dir) / f, ec),
            "onnxruntime-web's " + f + " is missing from " + dir + " (" + origin + ")",
            "run scripts/install-deps.sh (npm ci in web/), or set DUEL_WEB_ASSETS to a folder holding " + f);
  }
  return dir;
}

void write_generator_page(const std::string& dir, const GeneratorPage& page, const std::string& model_onnx) {
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "site/" names the folder "site"
  std::error_code ec;
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  require(fs::is_directory(parent, ec), "the folder that would hold --web " + dir + " does not exist",
          "create " + parent.string() + " first");
  if (fs::exists(target, ec)) {
    require(fs::is_directory(target, ec), "--web " + dir + " exists and is not a folder", "choose another --web folder");
    bool ours = fs::is_empty(target, ec);
    if (!ours && fs::is_regular_file(target / "index.html", ec)) {
      std::ifstream in(target / "index.html");
      std::string head(512, '\0');
      in.read(&head[0], std::streamsize(head.size()));
      ours = head.find(kMarker) != std::string::npos;
    }
    require(ours, "--web " + dir + " exists and is not an earlier duel export", "choose a new or empty folder");
  }
  const std::string runtime = web_runtime_dir();

  // Build beside the target, then swap it in with renames.
  std::random_device rd;
  const fs::path tmp = parent / ("." + target.filename().string() + ".tmp-" + std::to_string(rd()));
  try {
    fs::create_directory(tmp);
    write_file_atomic((tmp / "model.onnx").string(), model_onnx);
    write_file_atomic((tmp / "index.html").string(), generator_page_html(page));
    for (const auto& f : web_runtime_files()) fs::copy_file(fs::path(runtime) / f, tmp / f);
    if (fs::exists(target)) {
      const fs::path old = parent / ("." + target.filename().string() + ".old-" + std::to_string(rd()));
      fs::rename(target, old);
      fs::rename(tmp, target);
      fs::remove_all(old);
    } else {
      fs::rename(tmp, target);
    }
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace duel
