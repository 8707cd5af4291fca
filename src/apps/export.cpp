// The export contract (include/duel/apps/export.h): checks what `duel export`
// was asked against what the model can do, has the model write its graph,
// adds the I/O contract and metadata, and writes reference batches.
#include "duel/apps/export.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "duel/core/error.h"
#include "duel/data/class_names.h"
#include "duel/io/npy.h"
#include "duel/models/capabilities.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

// The I/O contract written into the file's doc_string.
std::string contract(const GanModel& model, const DataShape& shape, int64_t z_width, const std::string& direction,
                     const onnx::Metadata& meta) {
  std::ostringstream d;
  d << "duel " << model.name() << " generator. ";
  if (capability<ImageTranslator>(model)) {
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

// Side of the reference inputs of a translator: `size`, else the training
// size at the model's input resolution; a multiple of size_multiple().
int64_t reference_side(const GanModel& model, const DataShape& shape, int64_t size) {
  const auto& tr = require_capability<ImageTranslator>(model);
  const int64_t m = tr.size_multiple();
  const int64_t side = size > 0 ? size : std::max<int64_t>(m, shape.size / tr.scale() / m * m);
  require(side % m == 0,
          "--size " + std::to_string(side) + " is not a multiple of " + std::to_string(m) + ", which model '" +
              model.name() + "' needs",
          "use --size " + std::to_string(std::max<int64_t>(m, side / m * m)));
  return side;
}

}  // namespace

ExportedGenerator export_generator_onnx(GanModel& model, const DataShape& shape, const ExportRequest& req) {
  ExportedGenerator e;
  e.direction = req.direction;
  const auto* translator = capability<ImageTranslator>(model);
  if (translator) {
    if (e.direction.empty()) e.direction = translator->directions().front();
    require(!req.web,
            "--web makes a page that draws images from noise, and model '" + model.name() + "' translates images",
            "export it with --out model.onnx and run it in ONNX Runtime (input 'input', output 'image')");
  } else {
    require(e.direction.empty(), "--direction: model '" + model.name() + "' generates from noise and has no direction",
            "drop --direction");
    require(req.reference_size == 0, "--size applies to translators; model '" + model.name() + "' generates from noise",
            "drop --size");
  }
  if (translator && req.reference) reference_side(model, shape, req.reference_size);  // refused before any write
  auto* exporter = dynamic_cast<onnx::GeneratorExport*>(&model);
  require(exporter != nullptr, "model '" + model.name() + "' cannot be exported to ONNX: it has no export of its generator",
          "docs/export.md lists the models duel exports");

  onnx::Graph graph(model.name());
  e.meta = exporter->export_generator(graph, e.direction);
  e.z_width = translator ? 0 : require_capability<NoiseSampler>(model).make_noise(1, torch::kCPU).size(1);
  e.info.doc = contract(model, shape, e.z_width, e.direction, e.meta);
  e.info.metadata = {{"model", model.name()},
                     {"checkpoint_step", std::to_string(req.step)},
                     {"channels", std::to_string(shape.channels)},
                     {"size", std::to_string(shape.size)},
                     {"classes", std::to_string(model.needs_labels() ? shape.num_classes : 0)},
                     {"image_range", "[-1, 1]"}};
  if (!translator) e.info.metadata.emplace_back("latent_dim", std::to_string(e.z_width));
  e.info.metadata.insert(e.info.metadata.end(), e.meta.begin(), e.meta.end());
  e.bytes = onnx::model_bytes(graph, e.info);
  e.node_count = graph.node_count();
  e.op_types = graph.op_types();
  return e;
}

GeneratorPage generator_page_of(const GanModel& model, const DataShape& shape, const ExportedGenerator& e,
                                int64_t step, const std::string& dataset) {
  GeneratorPage page;
  page.model = model.name();
  page.title = "duel: " + model.name() + " generator";
  page.trained = "step " + std::to_string(step) + " on " + dataset;
  page.z_width = e.z_width;
  for (const auto& [k, v] : e.meta)
    if (k == "latent_layout") page.latent_layout = v;
  page.classes = model.needs_labels() ? shape.num_classes : 0;
  if (page.classes > 0) {
    page.class_names = builtin_class_names(dataset);
    if (int64_t(page.class_names.size()) != page.classes) page.class_names.clear();
  }
  page.channels = shape.channels;
  page.size = shape.size;
  return page;
}

std::vector<int64_t> write_export_reference(GanModel& model, const DataShape& shape, const ReferenceRequest& r) {
  std::error_code ec;
  fs::create_directories(r.dir, ec);
  require(fs::is_directory(r.dir, ec), "cannot create the --reference folder " + r.dir,
          "check the path and its permissions");
  torch::manual_seed(uint64_t(r.seed));
  const fs::path dir(r.dir);
  // An earlier reference of another model may have left inputs this one does not take.
  for (const char* f : {"z.npy", "label.npy", "input.npy", "image.npy"}) fs::remove(dir / f, ec);
  torch::Tensor out;
  if (auto* translator = capability<ImageTranslator>(model)) {
    const int64_t side = reference_side(model, shape, r.size);
    // Channels read in `direction`: B's for BtoA (cyclegan), else A's.
    const int64_t c = r.direction == "BtoA" && shape.target_channels > 0 ? shape.target_channels : shape.channels;
    auto input = torch::rand({r.batch, c, side, side}) * 2 - 1;  // [N, C, S, S] in [-1, 1)
    out = translator->translate(input, r.direction);
    write_npy((dir / "input.npy").string(), input);
  } else {
    auto& noise = require_capability<NoiseSampler>(model);
    SampleRequest s;
    s.noise = noise.make_noise(r.batch, torch::kCPU);
    if (model.needs_labels()) s.labels = torch::randint(shape.num_classes, {r.batch}, torch::kInt64);
    out = noise.sample(s);
    write_npy((dir / "z.npy").string(), s.noise);
    if (s.labels.defined()) write_npy((dir / "label.npy").string(), s.labels);
  }
  write_npy((dir / "image.npy").string(), out);
  return out.sizes().vec();
}

}  // namespace duel
