// The static generator page of `duel export --web DIR`: index.html, the
// exported model.onnx and onnxruntime-web's single-threaded WASM runtime
// (ort.wasm.min.js, ort-wasm-simd-threaded.mjs/.wasm), so the folder works
// from any static file server with no build step and no special headers.
//
// The page draws a grid of images from fresh noise ("New samples"), moves
// every image along a few fixed random latent directions (sliders), and for
// conditional models draws a chosen class (or one class per row). When a
// batch is drawn it sets document.body.dataset.generated to the number of
// batches drawn so far and reports failures in #status and on the console.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace duel {

struct GeneratorPage {
  std::string model;          // "dcgan"
  std::string title;          // shown above the grid
  std::string trained;        // "step 5000 on fashion-mnist", shown under the title
  int64_t z_width = 0;        // columns of the z input
  std::string latent_layout;  // "normal:100" or "normal:62,onehot:10,uniform:2" (see onnx.h)
  int64_t classes = 0;        // > 0: the model takes a "label" input (the grid: one class per column)
  std::vector<std::string> class_names;  // optional, for the class picker
  int64_t channels = 1, size = 28;
  int64_t directions = 4;     // sliders
};

// index.html for `page` (self-contained apart from the runtime files and model.onnx).
std::string generator_page_html(const GeneratorPage& page);

// Folder holding onnxruntime-web's dist files: $DUEL_WEB_ASSETS, else the
// web/node_modules/onnxruntime-web/dist of duel's source tree. Throws
// duel::Error naming the folder and a missing file when the runtime is not there.
std::string web_runtime_dir();
// The runtime files the page loads, relative to web_runtime_dir().
const std::vector<std::string>& web_runtime_files();

// Writes the page folder `dir` (index.html, model.onnx, the runtime files)
// all at once: built in a sibling temporary folder, then renamed into place.
// An existing `dir` is replaced only when it is empty or an earlier export
// (it holds duel's index.html); anything else is refused with duel::Error.
void write_generator_page(const std::string& dir, const GeneratorPage& page, const std::string& model_onnx);

}  // namespace duel
