// File translation (include/duel/apps/file_translation.h): list, decode and
// check every input, name the outputs, then translate equal-sized runs in
// batches and write each output atomically.
#include "duel/apps/file_translation.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "duel/apps/model_loading.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/models/capabilities.h"

namespace fs = std::filesystem;

namespace duel {
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

struct Input {
  fs::path path, out;    // source file and the PNG it becomes
  torch::Tensor pixels;  // uint8 [1, C, H, W]
};

// Every image file under `in` (recursively, sorted as paths), or `in` itself.
std::vector<std::string> list_translation_inputs(const std::string& in) {
  std::error_code ec;
  require(fs::exists(in, ec), "--in '" + in + "' does not exist", "pass an image file or a folder of images");
  if (!fs::is_directory(in, ec)) return {in};
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
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.string());
  return out;
}

}  // namespace

std::unique_ptr<GanModel> load_translator(const Checkpoint& ck, Config& cfg, const std::string& command) {
  auto model = load_model(ck, cfg);
  require(capability<ImageTranslator>(*model) != nullptr,
          "model '" + ck.model_name() + "' of checkpoint '" + ck.path() + "' does not translate images",
          "duel " + command + " needs an image-to-image checkpoint: pix2pix and cyclegan translate, srgan upscales");
  return model;
}

int64_t input_channels(const DataShape& shape, const std::string& direction) {
  return direction == "BtoA" && shape.target_channels > 0 ? shape.target_channels : shape.channels;
}


FileTranslationResult translate_files(GanModel& model, const DataShape& shape, const std::string& model_name,
                                      const FileTranslationRequest& req) {
  FileTranslationResult result;
  auto* translator = capability<ImageTranslator>(model);
  const auto directions = translator ? translator->directions() : std::vector<std::string>{};
  result.direction = req.direction.empty() ? (directions.empty() ? "AtoB" : directions.front()) : req.direction;
  require(std::find(directions.begin(), directions.end(), result.direction) != directions.end(),
          "model '" + model_name + "' cannot translate in direction '" + result.direction + "'",
          "its directions: " + join(directions) + " (--direction)");
  const int64_t channels = input_channels(shape, result.direction);
  const int64_t multiple = std::max<int64_t>(1, translator->size_multiple());
  require(req.size == 0 || req.size % multiple == 0,
          "--size " + std::to_string(req.size) + " is not a multiple of " + std::to_string(multiple) + ", which model '" +
              model_name + "' needs",
          "use --size " + std::to_string(std::max<int64_t>(multiple, (req.size + multiple / 2) / multiple * multiple)));

  // Decode and check every input before anything is written.
  const auto files = list_translation_inputs(req.in);
  std::error_code ec;
  const bool from_folder = fs::is_directory(req.in, ec);
  std::vector<Input> inputs;
  std::set<fs::path> outs;
  for (const auto& file : files) {
    const fs::path path(file);
    Input item;
    item.path = path;
    item.pixels = read_image(path.string(), int(channels)).unsqueeze(0);  // names the file when it fails
    if (req.size > 0) item.pixels = resize_images(item.pixels, req.size, 0);
    const int64_t h = item.pixels.size(2), w = item.pixels.size(3);
    require(h % multiple == 0 && w % multiple == 0,
            "image '" + path.string() + "' is " + std::to_string(w) + "x" + std::to_string(h) + ": model '" +
                model_name + "' needs sides that are multiples of " + std::to_string(multiple),
            "pass --size S with S a multiple of " + std::to_string(multiple) + " (e.g. --size " +
                std::to_string(std::max<int64_t>(multiple, (std::max(h, w) + multiple / 2) / multiple * multiple)) +
                ") to resize every input");
    const fs::path rel = from_folder ? path.lexically_relative(req.in) : path.filename();
    item.out = fs::path(req.out) / fs::path(rel).replace_extension(".png");
    require(outs.insert(item.out).second,
            "two inputs would both be written to '" + item.out.string() + "' (one of them '" + path.string() + "')",
            "rename one of them: outputs keep the input's name with the extension .png");
    inputs.push_back(std::move(item));
  }

  // Translate runs of equal-sized images in batches; write each output atomically.
  for (size_t i = 0; i < inputs.size();) {
    size_t j = i + 1;
    while (j < inputs.size() && int64_t(j - i) < req.batch && inputs[j].pixels.sizes() == inputs[i].pixels.sizes()) ++j;
    std::vector<torch::Tensor> batch;
    for (size_t k = i; k < j; ++k) batch.push_back(inputs[k].pixels);
    auto x = to_unit_range(torch::cat(batch)).to(req.device);          // [n, C, H, W]
    auto y = translator->translate(x, result.direction).to(torch::kCPU);     // [n, C', H*scale, W*scale]
    for (size_t k = i; k < j; ++k) {
      fs::create_directories(inputs[k].out.parent_path());
      write_image(inputs[k].out.string(), y[int64_t(k - i)]);
      ++result.written;
    }
    i = j;
  }
  return result;
}

}  // namespace duel
