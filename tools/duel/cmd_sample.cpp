// `duel sample`: images from a checkpoint's generator, as one grid PNG or
// one PNG per image (--each DIR).
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "commands.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/io/image.h"
#include "duel/models/model.h"
#include "duel/train/checkpoint.h"

namespace duel::cli {
namespace {
struct SampleArgs {
  std::string checkpoint, out, each;
  int64_t n = 64, nrow = 0, seed = 0, batch = 256;
  int threads = 0;
};
}  // namespace

std::unique_ptr<GanModel> load_generator(const Checkpoint& ck, Config& cfg) {
  cfg = Config::from_string(ck.config_toml(), ck.path());
  auto model = create_model(cfg, ck.state().shape);
  ck.restore(*model, /*optimizers=*/false);
  return model;
}

namespace {
Action add_sample(CLI::App& app) {
  auto a = std::make_shared<SampleArgs>();
  auto* cmd = app.add_subcommand("sample", "draw images from a checkpoint's generator");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file (runs/<name>/checkpoints/latest.duel)")->required();
  cmd->add_option("--n", a->n, "number of images")->check(CLI::Range(int64_t(1), int64_t(10000000)));
  cmd->add_option("--out,-o", a->out, "grid PNG to write");
  cmd->add_option("--each", a->each, "folder to write one PNG per image into");
  cmd->add_option("--nrow", a->nrow, "images per grid row (default: square)")->check(CLI::Range(int64_t(0), int64_t(10000)));
  cmd->add_option("--seed", a->seed, "noise seed")->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch", a->batch, "images generated per forward pass")->check(CLI::Range(int64_t(1), int64_t(65536)));
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [a]() -> int {
    require(!a->out.empty() || !a->each.empty(), "duel sample needs --out grid.png or --each DIR",
            "for example --out samples.png");
    if (!a->out.empty()) {
      auto ext = std::filesystem::path(a->out).extension().string();
      require(ext == ".png" || ext == ".PNG", "--out '" + a->out + "' must end in .png", "grids are written as PNG");
      auto parent = std::filesystem::path(a->out).parent_path();
      require(parent.empty() || std::filesystem::is_directory(parent),
              "the folder of --out '" + a->out + "' does not exist", "create it first");
    }
    apply_threads(a->threads);
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_generator(ck, cfg);
    torch::manual_seed(uint64_t(a->seed));
    const auto& shape = ck.state().shape;
    std::vector<torch::Tensor> parts;
    if (!a->each.empty()) std::filesystem::create_directories(a->each);
    for (int64_t i = 0; i < a->n; i += a->batch) {
      int64_t m = std::min(a->batch, a->n - i);
      SampleRequest req{model->make_noise(m, torch::kCPU), {}};
      if (shape.num_classes > 0 && model->needs_labels())
        req.labels = torch::arange(i, i + m, torch::kInt64).remainder(shape.num_classes);
      auto images = model->sample(req);
      if (!a->each.empty())
        for (int64_t j = 0; j < m; ++j) {
          std::ostringstream name;
          name << "sample-" << std::setw(6) << std::setfill('0') << (i + j) << ".png";
          write_image((std::filesystem::path(a->each) / name.str()).string(), images[j]);
        }
      if (!a->out.empty()) parts.push_back(images);
    }
    if (!a->out.empty()) write_png(a->out, make_grid(torch::cat(parts), a->nrow));
    std::printf("wrote %lld samples from %s (step %lld) to %s\n", (long long)a->n, ck.model_name().c_str(),
                (long long)ck.state().step, (!a->out.empty() ? a->out : a->each).c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(20, "sample", add_sample);

}  // namespace duel::cli
