// `duel translate` and `duel upscale`: images through an image-to-image
// checkpoint (pix2pix, cyclegan, srgan).
//
//   duel translate --checkpoint F --in DIR_OR_FILE --out DIR [--direction AtoB|BtoA] [--size S]
//                  [--batch N] [--threads N] [--device cpu|cuda]
//       One image, or every PNG/JPEG/BMP under a folder (recursively, sorted),
//       converted to the channels the model reads in that direction, resized
//       when --size is given (shorter side to S, then a centre crop, as
//       data.image_size does), translated in batches of equal-sized images and
//       written as PNG under --out with the same relative names (extension
//       .png). Every input is decoded and checked before anything is written,
//       so a bad file leaves --out untouched.
//
//   duel upscale --checkpoint F in.png out.png [--tile 128] [--overlap 8] [--threads N] [--device cpu|cuda]
//       A super-resolution model (scale() > 1) on one image of any size:
//       sides padded by reflection to the model's size multiple, images
//       larger than a tile processed in overlapping tiles stitched without
//       seams (src/io/tiles.cpp), the output cropped to (h * scale, w * scale).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "duel/apps/file_translation.h"
#include "duel/apps/tiles.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"

namespace fs = std::filesystem;

namespace duel::cli {
namespace {

// --------------------------------------------------------------------------- translate

struct TranslateArgs {
  std::string checkpoint, in, out, direction, device = "cpu";
  int64_t size = 0, batch = 16;
  int threads = 0;
};

Action add_translate(CLI::App& app) {
  auto a = std::make_shared<TranslateArgs>();
  auto* cmd = app.add_subcommand("translate", "translate images with an image-to-image checkpoint (pix2pix, cyclegan, srgan)");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file, or a run folder for its newest good checkpoint (runs/<name>)")->required();
  cmd->add_option("--in,-i", a->in, "an image, or a folder whose images (recursively) are translated")->required();
  cmd->add_option("--out,-o", a->out, "folder to write the translated PNGs into (same relative names)")->required();
  cmd->add_option("--direction", a->direction, "AtoB or BtoA (default: the model's first, AtoB)");
  cmd->add_option("--size", a->size, "resize inputs: shorter side to S, then a centre crop to SxS (0: keep)")
      ->check(CLI::Range(int64_t(0), int64_t(8192)));
  cmd->add_option("--batch", a->batch, "images per forward pass")->check(CLI::Range(int64_t(1), int64_t(4096)));
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--device", a->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  return [a]() -> int {
    const torch::Device device = cli_device(a->device);
    std::error_code ec;
    require(!fs::exists(a->out, ec) || fs::is_directory(a->out, ec), "--out '" + a->out + "' exists and is not a folder",
            "pass a folder for the translated images");
    require(fs::exists(a->in, ec), "--in '" + a->in + "' does not exist", "pass an image file or a folder of images");
    apply_threads(a->threads);
    a->checkpoint = checkpoint_arg(a->checkpoint);
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_translator(ck, cfg, "translate");
    model->to(device);
    FileTranslationRequest req;
    req.in = a->in, req.out = a->out, req.direction = a->direction, req.size = a->size, req.batch = a->batch;
    req.device = device;
    const auto r = translate_files(*model, ck.state().shape, ck.model_name(), req);
    std::printf("translated %lld image%s %s with %s (step %lld) into %s\n", (long long)r.written, r.written == 1 ? "" : "s",
                r.direction.c_str(), ck.model_name().c_str(), (long long)ck.state().step, a->out.c_str());
    return 0;
  };
}

// --------------------------------------------------------------------------- upscale

struct UpscaleArgs {
  std::string checkpoint, in, out, device = "cpu";
  int64_t tile = 128, overlap = 8, batch = 8;
  int threads = 0;
};

Action add_upscale(CLI::App& app) {
  auto a = std::make_shared<UpscaleArgs>();
  auto* cmd = app.add_subcommand("upscale", "upscale an image of any size with a super-resolution checkpoint (srgan), in tiles");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file, or a run folder for its newest good checkpoint (runs/<name>)")->required();
  cmd->add_option("input", a->in, "image to upscale (PNG, JPEG or BMP)")->required();
  cmd->add_option("output", a->out, "PNG to write")->required();
  cmd->add_option("--tile", a->tile, "tile side on the input, in pixels (larger inputs are processed in tiles)")
      ->check(CLI::Range(int64_t(1), int64_t(8192)));
  cmd->add_option("--overlap", a->overlap, "input pixels of context each tile keeps beyond the part it contributes")
      ->check(CLI::Range(int64_t(0), int64_t(1024)));
  cmd->add_option("--batch", a->batch, "tiles per forward pass")->check(CLI::Range(int64_t(1), int64_t(1024)));
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--device", a->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  return [a]() -> int {
    const torch::Device device = cli_device(a->device);
    check_output_file(a->out, "output", ".png", "big.png");
    std::error_code ec;
    require(fs::exists(a->in, ec), "input '" + a->in + "' does not exist", "pass the image to upscale");
    apply_threads(a->threads);
    a->checkpoint = checkpoint_arg(a->checkpoint);
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_translator(ck, cfg, "upscale");
    model->to(device);
    const auto& translator = require_capability<ImageTranslator>(*model);
    require(translator.scale() > 1,
            "model '" + ck.model_name() + "' is not a super-resolution model (its output has the input's size)",
            "upscale with an srgan checkpoint; use duel translate for " + ck.model_name());
    const auto directions = translator.directions();
    TileOptions opt;
    opt.tile = a->tile, opt.overlap = a->overlap, opt.batch = a->batch, opt.device = device;
    opt.direction = directions.empty() ? "AtoB" : directions.front();
    auto pixels = read_image(a->in, int(input_channels(ck.state().shape, opt.direction))).unsqueeze(0);
    auto y = translate_tiled(*model, to_unit_range(pixels), opt);  // [1, C', h*scale, w*scale]
    write_image(a->out, y[0]);
    std::printf("upscaled %s (%lldx%lld) x%lld with %s (step %lld) to %s (%lldx%lld)\n", a->in.c_str(),
                (long long)pixels.size(3), (long long)pixels.size(2), (long long)translator.scale(), ck.model_name().c_str(),
                (long long)ck.state().step, a->out.c_str(), (long long)y.size(3), (long long)y.size(2));
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(25, "translate", add_translate);
DUEL_CLI_COMMAND(26, "upscale", add_upscale);

}  // namespace duel::cli
