// `duel export`: a checkpoint's generator as an ONNX model, and a static web
// page that runs it in the browser.
//
//   duel export --checkpoint F --out g.onnx [--direction AtoB|BtoA]
//   duel export --checkpoint F --web DIR            (noise models only)
//   duel export --checkpoint F --out g.onnx --reference DIR [--batch 4] [--seed 0] [--size S]
//
// --reference writes the inputs of one seeded batch and LibTorch's output for
// them as .npy (z.npy [+ label.npy] or input.npy, and image.npy), so any ONNX
// runtime can be checked against duel (tests/onnx/check.mjs does). The
// input/output contract is in docs/export.md.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "commands.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/class_names.h"
#include "duel/io/image.h"
#include "duel/io/npy.h"
#include "duel/io/onnx.h"
#include "duel/io/web_page.h"
#include "duel/models/model.h"

namespace fs = std::filesystem;

namespace duel::cli {
namespace {

struct ExportArgs {
  std::string checkpoint, out, web, direction, reference;
  int64_t batch = 4, seed = 0, size = 0;
  int threads = 0;
};

std::string join(const std::vector<std::string>& xs) {
  std::string s;
  for (const auto& x : xs) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The I/O contract written into the file's doc_string.
std::string contract(const GanModel& model, const DataShape& shape, int64_t z_width, const std::string& direction,
                     const onnx::Metadata& meta) {
  std::ostringstream d;
  d << "duel " << model.name() << " generator. ";
  if (model.translates()) {
    d << "Input 'input': float32 [N, C, H, W] images in [-1, 1] (" << direction
      << "). Output 'image': float32 [N, C', H*scale, W*scale] in [-1, 1].";
  } else {
    std::string layout;
    for (const auto& [k, v] : meta)
      if (k == "latent_layout") layout = v;
    d << "Input 'z': float32 [N, " << z_width << "] noise (" << layout << ")";
    if (model.needs_labels()) d << "; input 'label': int64 [N] class in [0, " << shape.num_classes << ")";
    d << ". Output 'image': float32 [N, " << shape.channels << ", " << shape.size << ", " << shape.size
      << "] in [-1, 1]. N is dynamic.";
  }
  return d.str();
}

// Side of the reference inputs of a translator: --size, else the training
// size at the model's input resolution; a multiple of size_multiple().
int64_t reference_side(const GanModel& model, const DataShape& shape, const ExportArgs& a) {
  const int64_t m = model.size_multiple();
  const int64_t side = a.size > 0 ? a.size : std::max<int64_t>(m, shape.size / model.scale() / m * m);
  require(side % m == 0,
          "--size " + std::to_string(side) + " is not a multiple of " + std::to_string(m) + ", which model '" +
              model.name() + "' needs",
          "use --size " + std::to_string(std::max<int64_t>(m, side / m * m)));
  return side;
}

void write_reference(GanModel& model, const DataShape& shape, const ExportArgs& a, const std::string& direction) {
  std::error_code ec;
  fs::create_directories(a.reference, ec);
  require(fs::is_directory(a.reference, ec), "cannot create the --reference folder " + a.reference,
          "check the path and its permissions");
  torch::manual_seed(uint64_t(a.seed));
  const fs::path dir(a.reference);
  // An earlier reference of another model may have left inputs this one does not take.
  for (const char* f : {"z.npy", "label.npy", "input.npy", "image.npy"}) fs::remove(dir / f, ec);
  torch::Tensor out;
  if (model.translates()) {
    const int64_t side = reference_side(model, shape, a);
    // Channels read in `direction`: B's for BtoA (cyclegan), else A's.
    const int64_t c = direction == "BtoA" && shape.target_channels > 0 ? shape.target_channels : shape.channels;
    auto input = torch::rand({a.batch, c, side, side}) * 2 - 1;  // [N, C, S, S] in [-1, 1)
    out = model.translate(input, direction);
    write_npy((dir / "input.npy").string(), input);
  } else {
    SampleRequest r;
    r.noise = model.make_noise(a.batch, torch::kCPU);
    if (model.needs_labels()) r.labels = torch::randint(shape.num_classes, {a.batch}, torch::kInt64);
    out = model.sample(r);
    write_npy((dir / "z.npy").string(), r.noise);
    if (r.labels.defined()) write_npy((dir / "label.npy").string(), r.labels);
  }
  write_npy((dir / "image.npy").string(), out);
  std::printf("wrote LibTorch's output for %lld seeded inputs to %s (image.npy [%lld, %lld, %lld, %lld])\n",
              (long long)a.batch, a.reference.c_str(), (long long)out.size(0), (long long)out.size(1),
              (long long)out.size(2), (long long)out.size(3));
}

Action add_export(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "export a checkpoint's generator as ONNX, or as a web page that runs it");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file (runs/<name>/checkpoints/latest.duel)")->required();
  cmd->add_option("--out,-o", a->out, "ONNX file to write (g.onnx)");
  cmd->add_option("--web", a->web, "folder to write a static generator page into (index.html, model.onnx, runtime)");
  cmd->add_option("--direction", a->direction, "translators: AtoB (default) or BtoA (cyclegan)");
  cmd->add_option("--reference", a->reference, "folder for seeded inputs and LibTorch's outputs as .npy");
  cmd->add_option("--batch", a->batch, "--reference: images in the batch")->check(CLI::Range(int64_t(1), int64_t(4096)));
  cmd->add_option("--seed", a->seed, "--reference: seed of the inputs")->check(CLI::NonNegativeNumber);
  cmd->add_option("--size", a->size, "--reference, translators: side of the input images (default: the training size)")
      ->check(CLI::Range(int64_t(1), int64_t(8192)));
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [a]() -> int {
    require(!a->out.empty() || !a->web.empty(), "duel export needs --out g.onnx or --web DIR",
            "for example duel export --checkpoint runs/x/checkpoints/latest.duel --out g.onnx");
    if (!a->out.empty()) check_output_file(a->out, "--out", ".onnx", "generator.onnx");
    apply_threads(a->threads);
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_generator(ck, cfg);
    const auto& shape = ck.state().shape;

    std::string direction = a->direction;
    if (model->translates()) {
      if (direction.empty()) direction = model->directions().front();
      require(a->web.empty(),
              "--web makes a page that draws images from noise, and model '" + model->name() + "' translates images",
              "export it with --out model.onnx and run it in ONNX Runtime (input 'input', output 'image')");
    } else {
      require(direction.empty(), "--direction: model '" + model->name() + "' generates from noise and has no direction",
              "drop --direction");
      require(a->size == 0, "--size applies to translators; model '" + model->name() + "' generates from noise",
              "drop --size");
    }
    if (model->translates() && !a->reference.empty()) reference_side(*model, shape, *a);  // refused before any write
    auto* exporter = dynamic_cast<onnx::GeneratorExport*>(model.get());
    require(exporter != nullptr, "model '" + model->name() + "' cannot be exported to ONNX: it has no export of its generator",
            "docs/export.md lists the models duel exports");

    onnx::Graph graph(model->name());
    const auto meta = exporter->export_generator(graph, direction);
    const int64_t z_width = model->translates() ? 0 : model->make_noise(1, torch::kCPU).size(1);
    onnx::ModelInfo info;
    info.doc = contract(*model, shape, z_width, direction, meta);
    info.metadata = {{"model", model->name()},
                     {"checkpoint_step", std::to_string(ck.state().step)},
                     {"channels", std::to_string(shape.channels)},
                     {"size", std::to_string(shape.size)},
                     {"classes", std::to_string(model->needs_labels() ? shape.num_classes : 0)},
                     {"image_range", "[-1, 1]"}};
    if (!model->translates()) info.metadata.emplace_back("latent_dim", std::to_string(z_width));
    info.metadata.insert(info.metadata.end(), meta.begin(), meta.end());
    const std::string bytes = onnx::model_bytes(graph, info);

    if (!a->out.empty()) {
      write_file_atomic(a->out, bytes);
      std::printf("wrote %s: %s generator of %s (step %lld), ONNX IR %lld, opset %lld, %lld nodes (%s), %.2f MB\n",
                  a->out.c_str(), model->name().c_str(), a->checkpoint.c_str(), (long long)ck.state().step,
                  (long long)onnx::kIrVersion, (long long)onnx::kOpsetVersion, (long long)graph.node_count(),
                  join(graph.op_types()).c_str(), bytes.size() / 1048576.0);
      std::printf("%s\n", info.doc.c_str());
    }
    if (!a->web.empty()) {
      GeneratorPage page;
      page.model = model->name();
      page.title = "duel: " + model->name() + " generator";
      page.trained = "step " + std::to_string(ck.state().step) + " on " + cfg.get_string("data.dataset");
      page.z_width = z_width;
      for (const auto& [k, v] : meta)
        if (k == "latent_layout") page.latent_layout = v;
      page.classes = model->needs_labels() ? shape.num_classes : 0;
      if (page.classes > 0) {
        page.class_names = builtin_class_names(cfg.get_string("data.dataset"));
        if (int64_t(page.class_names.size()) != page.classes) page.class_names.clear();
      }
      page.channels = shape.channels;
      page.size = shape.size;
      write_generator_page(a->web, page, bytes);
      std::printf("wrote the generator page %s/index.html (serve the folder, e.g. python3 -m http.server -d %s)\n",
                  a->web.c_str(), a->web.c_str());
    }
    if (!a->reference.empty()) write_reference(*model, shape, *a, direction);
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(27, "export", add_export);

}  // namespace duel::cli
