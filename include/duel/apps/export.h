// The export contract (`duel export`, docs/export.md): a model's generator as
// an ONNX file whose doc_string states its inputs and outputs and whose
// metadata carries the model, step, image shape and latent layout; the
// static web page's settings; and a seeded reference batch (.npy) that any
// ONNX runtime can be checked against. It lives in the library so that the
// contract is written in one place, beside the models that implement
// onnx::GeneratorExport, and the CLI only prints what was written.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "duel/io/onnx.h"
#include "duel/io/web_page.h"
#include "duel/models/model.h"

namespace duel {

struct ExportRequest {
  std::string direction;       // translators: AtoB or BtoA; empty: the model's first
  bool web = false;            // a web page will be made of it (noise models only)
  bool reference = false;      // a reference batch will be written (translators: its side is checked first)
  int64_t reference_size = 0;  // translators: side of the reference inputs (0: the training size)
  int64_t step = 0;            // the checkpoint's step, recorded in the metadata
};

struct ExportedGenerator {
  std::string bytes;      // the ONNX file
  onnx::ModelInfo info;   // doc (the I/O contract) and metadata written into it
  onnx::Metadata meta;    // what the model's export_generator returned (latent_layout, ...)
  std::string direction;  // resolved direction (translators), else empty
  int64_t z_width = 0;    // noise width (0 for translators)
  int64_t node_count = 0;
  std::vector<std::string> op_types;
};

// The model's generator as ONNX with its contract.
// Requires: a model restored from a checkpoint of `shape`. Translators: no
//   `web`; noise models: no direction and no reference_size; with
//   `reference`, a translator's reference side must be a multiple of its
//   size_multiple(); the model implements onnx::GeneratorExport.
// Ensures: the file's bytes, checked before anything is written.
// Throws duel::Error with the messages of `duel export` otherwise.
ExportedGenerator export_generator_onnx(GanModel& model, const DataShape& shape, const ExportRequest& request);

// The settings of the generator page of an exported noise model trained on
// `dataset` (class names: the dataset's built-in ones when they fit).
GeneratorPage generator_page_of(const GanModel& model, const DataShape& shape, const ExportedGenerator& exported,
                                int64_t step, const std::string& dataset);

struct ReferenceRequest {
  std::string dir;         // folder to create
  int64_t batch = 4, seed = 0;
  int64_t size = 0;        // translators: input side (0: the training size)
  std::string direction;   // translators: the exported direction
};

// Writes one seeded batch of inputs and LibTorch's output for them as .npy:
// z.npy (+ label.npy) or input.npy, and image.npy; stale files of those names
// are removed first. Seeds the global generator with request.seed.
// Requires: dir creatable, else duel::Error. Ensures: the output's sizes
// [N, C, H, W] are returned.
std::vector<int64_t> write_export_reference(GanModel& model, const DataShape& shape, const ReferenceRequest& request);

}  // namespace duel
