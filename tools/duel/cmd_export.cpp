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
#include <cstdio>

#include "commands.h"
#include "duel/apps/export.h"
#include "duel/apps/model_loading.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/io/image.h"
#include "duel/checkpoint/checkpoint.h"

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

Action add_export(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export", "export a checkpoint's generator as ONNX, or as a web page that runs it");
  cmd->add_option("--checkpoint,-k", a->checkpoint, "checkpoint file, or a run folder for its newest good checkpoint (runs/<name>)")->required();
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
    a->checkpoint = checkpoint_arg(a->checkpoint);
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_model(ck, cfg);
    const auto& shape = ck.state().shape;
    ExportRequest req;
    req.direction = a->direction;
    req.web = !a->web.empty();
    req.reference = !a->reference.empty();
    req.reference_size = a->size;
    req.step = ck.state().step;
    const ExportedGenerator e = export_generator_onnx(*model, shape, req);

    if (!a->out.empty()) {
      write_file_atomic(a->out, e.bytes);
      std::printf("wrote %s: %s generator of %s (step %lld), ONNX IR %lld, opset %lld, %lld nodes (%s), %.2f MB\n",
                  a->out.c_str(), model->name().c_str(), a->checkpoint.c_str(), (long long)ck.state().step,
                  (long long)onnx::kIrVersion, (long long)onnx::kOpsetVersion, (long long)e.node_count,
                  join(e.op_types).c_str(), e.bytes.size() / 1048576.0);
      std::printf("%s\n", e.info.doc.c_str());
    }
    if (!a->web.empty()) {
      write_generator_page(a->web, generator_page_of(*model, shape, e, ck.state().step, cfg.get_string("data.dataset")),
                           e.bytes);
      std::printf("wrote the generator page %s/index.html (serve the folder, e.g. python3 -m http.server -d %s)\n",
                  a->web.c_str(), a->web.c_str());
    }
    if (!a->reference.empty()) {
      const auto out = write_export_reference(*model, shape, {a->reference, a->batch, a->seed, a->size, e.direction});
      std::printf("wrote LibTorch's output for %lld seeded inputs to %s (image.npy [%lld, %lld, %lld, %lld])\n",
                  (long long)a->batch, a->reference.c_str(), (long long)out[0], (long long)out[1], (long long)out[2],
                  (long long)out[3]);
    }
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(27, "export", add_export);

}  // namespace duel::cli
