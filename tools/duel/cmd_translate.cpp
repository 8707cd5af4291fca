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
//       seams (src/apps/tiles.cpp), the output cropped to (h * scale, w * scale).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>

#include "commands.h"
#include "duel/apps/tiles.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/models/model.h"

namespace fs = std::filesystem;

namespace duel::cli {
namespace {

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_image_path(const fs::path& p) {
  const auto e = lower(p.extension().string());
  return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".bmp";
}

// Loads the checkpoint's model and checks that it translates.
std::unique_ptr<GanModel> load_translator(const Checkpoint& ck, Config& cfg, const std::string& command) {
  auto model = load_generator(ck, cfg);
  require(model->translates(),
          "model '" + ck.model_name() + "' of checkpoint '" + ck.path() + "' does not translate images",
          "duel " + command + " needs an image-to-image checkpoint: pix2pix and cyclegan translate, srgan upscales");
  return model;
}

// Channels the model reads in `direction`: A's for AtoB, B's for BtoA (when the data has B images).
int64_t input_channels(const DataShape& shape, const std::string& direction) {
  return direction == "BtoA" && shape.target_channels > 0 ? shape.target_channels : shape.channels;
}

// uint8 [N, C, H, W] -> float [N, C, H, W] in [-1, 1].
torch::Tensor to_unit_range(const torch::Tensor& u8) { return u8.to(torch::kFloat32).div(127.5).sub(1.0); }

// --------------------------------------------------------------------------- translate

struct TranslateArgs {
  std::string checkpoint, in, out, direction, device = "cpu";
  int64_t size = 0, batch = 16;
  int threads = 0;
};

struct Input {
  fs::path path, out;    // source file and the PNG it becomes
  torch::Tensor pixels;  // uint8 [1, C, H, W]
};

// Every image file under `in` (recursively, sorted), or `in` itself.
std::vector<fs::path> list_inputs(const std::string& in) {
  std::error_code ec;
  require(fs::exists(in, ec), "--in '" + in + "' does not exist", "pass an image file or a folder of images");
  if (!fs::is_directory(in, ec)) return {fs::path(in)};
  std::vector<fs::path> files;
  fs::recursive_directory_iterator it(in, fs::directory_options::follow_directory_symlink, ec), end;
  while (!ec && it != end) {
    std::error_code e_ec;
    if (it->is_regular_file(e_ec) && is_image_path(it->path())) files.push_back(it->path());
    it.increment(ec);
  }
  if (ec) throw Error("cannot list --in folder '" + in + "': " + ec.message(), "check the folder's permissions");
  require(!files.empty(), "--in folder '" + in + "' holds no PNG, JPEG or BMP images",
          "point --in at an image or a folder of .png/.jpg/.jpeg/.bmp files");
  std::sort(files.begin(), files.end());
  return files;
}

Action add_translate(CLI::App& app) {
  auto a = std::make_shared<TranslateArgs>();
  auto* cmd = app.add_subcommand("translate", "translate images with an image-to-image checkpoint (pix2pix, cyclegan, srgan)");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file (runs/<name>/checkpoints/latest.duel)")->required();
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
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_translator(ck, cfg, "translate");
    model->to(device);
    const auto directions = model->directions();
    if (a->direction.empty()) a->direction = directions.empty() ? "AtoB" : directions.front();
    require(std::find(directions.begin(), directions.end(), a->direction) != directions.end(),
            "model '" + ck.model_name() + "' cannot translate in direction '" + a->direction + "'",
            "its directions: " + join(directions) + " (--direction)");
    const int64_t channels = input_channels(ck.state().shape, a->direction);
    const int64_t multiple = std::max<int64_t>(1, model->size_multiple());
    require(a->size == 0 || a->size % multiple == 0,
            "--size " + std::to_string(a->size) + " is not a multiple of " + std::to_string(multiple) + ", which model '" +
                ck.model_name() + "' needs",
            "use --size " + std::to_string(std::max<int64_t>(multiple, (a->size + multiple / 2) / multiple * multiple)));

    // Decode and check every input before anything is written.
    const auto files = list_inputs(a->in);
    const bool from_folder = fs::is_directory(a->in, ec);
    std::vector<Input> inputs;
    std::set<fs::path> outs;
    for (const auto& path : files) {
      Input item;
      item.path = path;
      item.pixels = read_image(path.string(), int(channels)).unsqueeze(0);  // names the file when it fails
      if (a->size > 0) item.pixels = resize_images(item.pixels, a->size, 0);
      const int64_t h = item.pixels.size(2), w = item.pixels.size(3);
      require(h % multiple == 0 && w % multiple == 0,
              "image '" + path.string() + "' is " + std::to_string(w) + "x" + std::to_string(h) + ": model '" +
                  ck.model_name() + "' needs sides that are multiples of " + std::to_string(multiple),
              "pass --size S with S a multiple of " + std::to_string(multiple) + " (e.g. --size " +
                  std::to_string(std::max<int64_t>(multiple, (std::max(h, w) + multiple / 2) / multiple * multiple)) + ") to resize every input");
      const fs::path rel = from_folder ? path.lexically_relative(a->in) : path.filename();
      item.out = fs::path(a->out) / fs::path(rel).replace_extension(".png");
      require(outs.insert(item.out).second,
              "two inputs would both be written to '" + item.out.string() + "' (one of them '" + path.string() + "')",
              "rename one of them: outputs keep the input's name with the extension .png");
      inputs.push_back(std::move(item));
    }

    // Translate runs of equal-sized images in batches; write each output atomically.
    int64_t written = 0;
    for (size_t i = 0; i < inputs.size();) {
      size_t j = i + 1;
      while (j < inputs.size() && int64_t(j - i) < a->batch && inputs[j].pixels.sizes() == inputs[i].pixels.sizes()) ++j;
      std::vector<torch::Tensor> batch;
      for (size_t k = i; k < j; ++k) batch.push_back(inputs[k].pixels);
      auto x = to_unit_range(torch::cat(batch)).to(device);  // [n, C, H, W]
      auto y = model->translate(x, a->direction).to(torch::kCPU);  // [n, C', H*scale, W*scale]
      for (size_t k = i; k < j; ++k) {
        fs::create_directories(inputs[k].out.parent_path());
        write_image(inputs[k].out.string(), y[int64_t(k - i)]);
        ++written;
      }
      i = j;
    }
    std::printf("translated %lld image%s %s with %s (step %lld) into %s\n", (long long)written, written == 1 ? "" : "s",
                a->direction.c_str(), ck.model_name().c_str(), (long long)ck.state().step, a->out.c_str());
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
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file (runs/<name>/checkpoints/latest.duel)")->required();
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
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_translator(ck, cfg, "upscale");
    model->to(device);
    require(model->scale() > 1,
            "model '" + ck.model_name() + "' is not a super-resolution model (its output has the input's size)",
            "upscale with an srgan checkpoint; use duel translate for " + ck.model_name());
    const auto directions = model->directions();
    TileOptions opt;
    opt.tile = a->tile, opt.overlap = a->overlap, opt.batch = a->batch, opt.device = device;
    opt.direction = directions.empty() ? "AtoB" : directions.front();
    auto pixels = read_image(a->in, int(input_channels(ck.state().shape, opt.direction))).unsqueeze(0);
    auto y = translate_tiled(*model, to_unit_range(pixels), opt);  // [1, C', h*scale, w*scale]
    write_image(a->out, y[0]);
    std::printf("upscaled %s (%lldx%lld) x%lld with %s (step %lld) to %s (%lldx%lld)\n", a->in.c_str(),
                (long long)pixels.size(3), (long long)pixels.size(2), (long long)model->scale(), ck.model_name().c_str(),
                (long long)ck.state().step, a->out.c_str(), (long long)y.size(3), (long long)y.size(2));
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(25, "translate", add_translate);
DUEL_CLI_COMMAND(26, "upscale", add_upscale);

}  // namespace duel::cli
