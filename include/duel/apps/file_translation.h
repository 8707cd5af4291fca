// File translation (`duel translate`, and the checks `duel upscale` shares):
// image files through an image-to-image model. It lists the inputs (one file,
// or every PNG/JPEG/BMP under a folder, recursively and sorted), decodes and
// checks all of them before anything is written (so a bad file leaves the
// output folder untouched), names each output after its input's relative
// path, and translates runs of equal-sized images in batches. It is a
// library pipeline so that the CLI only parses options and prints.
#pragma once
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "duel/core/config.h"
#include "duel/models/model.h"
#include "duel/checkpoint/checkpoint.h"

namespace duel {

// The checkpoint's model, checked to translate; `cfg` receives its config.
// Throws duel::Error "model '<m>' of checkpoint '<path>' does not translate
// images" (the hint names `duel <command>`) for noise models.
std::unique_ptr<GanModel> load_translator(const Checkpoint& ck, Config& cfg, const std::string& command);

// Channels the model reads in `direction`: B's for BtoA (when the data has B
// images), else A's.
int64_t input_channels(const DataShape& shape, const std::string& direction);

struct FileTranslationRequest {
  std::string in;          // an image, or a folder of images
  std::string out;         // folder the PNGs are written into (same relative names, extension .png)
  std::string direction;   // empty: the model's first (AtoB)
  int64_t size = 0;        // > 0: shorter side to size, then a centre crop (as data.image_size)
  int64_t batch = 16;      // images per translate() call
  torch::Device device = torch::kCPU;  // where the model already is
};

struct FileTranslationResult {
  int64_t written = 0;
  std::string direction;  // the one used
};

// Translates the files of request.in into request.out.
// Requires: `model` translates (load_translator) and lives on request.device;
//   the direction is one of model.directions(); size is 0 or a multiple of
//   model.size_multiple(); every input decodes and has sides that are
//   multiples of it; no two inputs map to the same output.
// Ensures: one PNG per input under request.out, written only after every
//   input was decoded and checked.
// Throws duel::Error with the messages of `duel translate` otherwise
// (`model_name` names the model in them).
FileTranslationResult translate_files(GanModel& model, const DataShape& shape, const std::string& model_name,
                                      const FileTranslationRequest& request);

}  // namespace duel
