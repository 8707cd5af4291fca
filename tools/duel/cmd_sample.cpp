// `duel sample`: images from a checkpoint's generator.
//
//   default          a grid PNG (--out) or one PNG per image (--each DIR);
//                    conditional models draw one class per grid row, or
//                    only --class K
//   --interpolate    spherical interpolation between pairs of noise vectors:
//                    a grid (one pair per row, --steps columns) and an
//                    animated GIF (--gif, default: --out with .gif) that
//                    walks every row along its path and back
//   --traverse CODE  a latent-code traversal (InfoGAN): each row holds the
//                    other inputs fixed while CODE sweeps its range
//   --prompt TEXT    text-to-image models (text2img): images of TEXT; with
//                    --prompt-to TEXT2 a grid of --rows noise vectors (rows)
//                    walking the sentence embedding from TEXT to TEXT2 in
//                    --steps columns
//   --truncation P   style-based models (stylegan): truncation psi; a comma
//                    list (1,0.7,0.5,0) draws a sweep, one column per psi
//                    over --rows fixed latents
//   --mix A,B        style-based models: the style-mixing grid. Row sources
//                    are --rows latents of seed A, column sources --steps
//                    latents of seed B; cell (i, j) takes style layers
//                    [0, --crossover) from row i and the rest from column j.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "commands.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/text.h"
#include "duel/io/gif.h"
#include "duel/io/image.h"
#include "duel/models/interpolation.h"
#include "duel/models/model.h"

namespace fs = std::filesystem;

namespace duel::cli {
namespace {
struct SampleArgs {
  std::string checkpoint, out, each, gif, traverse, prompt, prompt_to, truncation, mix;
  int64_t n = 64, nrow = 0, seed = 0, batch = 256, cls = -1, rows = 8, steps = 10, crossover = -1;
  bool interpolate = false, live = false;
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

// "0.7" or "1,0.7,0.5,0" -> the values; each must be in [0, 1].
std::vector<double> parse_truncation(const std::string& text) {
  std::vector<double> out;
  if (text.empty()) return out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    require(!item.empty() && end && *end == '\0' && v >= 0.0 && v <= 1.0,
            "--truncation: '" + item + "' is not a number in [0, 1]",
            "give psi as 0.7, or a comma list such as 1,0.7,0.5,0");
    out.push_back(v);
  }
  require(!out.empty(), "--truncation is empty", "give psi as 0.7, or a comma list such as 1,0.7,0.5,0");
  return out;
}

// "A,B" -> two non-negative seeds.
void parse_seed_pair(const std::string& text, int64_t& a, int64_t& b) {
  const auto comma = text.find(',');
  auto parse = [&](const std::string& s, int64_t& v) {
    char* end = nullptr;
    const long long x = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || !end || *end != '\0' || x < 0) return false;
    v = x;
    return true;
  };
  require(comma != std::string::npos && parse(text.substr(0, comma), a) && parse(text.substr(comma + 1), b),
          "--mix '" + text + "' is not two seeds A,B", "for example --mix 1,2 (rows from seed 1, columns from seed 2)");
}

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
  cmd->add_option("--class", a->cls, "conditional models: draw only this class")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--interpolate", a->interpolate, "spherical interpolation between noise pairs: grid + animated GIF");
  cmd->add_option("--gif", a->gif, "GIF of the interpolation (default: --out with .gif)");
  cmd->add_option("--traverse", a->traverse, "latent code to sweep (infogan: c1, c2, ...)");
  cmd->add_option("--truncation", a->truncation,
                  "style-based models: truncation psi in [0, 1] (0.7 is common); a comma list draws a sweep, one column per psi");
  cmd->add_option("--mix", a->mix, "style-based models: style-mixing grid of seeds A,B (rows from A, columns from B)");
  cmd->add_option("--crossover", a->crossover,
                  "with --mix: first style layer taken from the column's latent (default: half of them)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--rows", a->rows, "--interpolate/--traverse/--mix/sweeps: rows (pairs of noise / fixed inputs)")
      ->check(CLI::Range(int64_t(1), int64_t(1000)));
  cmd->add_option("--steps", a->steps, "--interpolate/--traverse/--mix: columns (points along each row)")
      ->check(CLI::Range(int64_t(2), int64_t(1000)));
  cmd->add_option("--prompt", a->prompt, "text-to-image models: what to draw, e.g. \"a dark long pullover\"");
  cmd->add_option("--prompt-to", a->prompt_to,
                  "with --prompt: interpolate the sentence embedding from --prompt to this (grid of --rows x --steps)");
  cmd->add_flag("--live", a->live,
               "draw with G's live weights instead of their moving average (runs with train.ema > 0)");
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (default: all cores)")->check(CLI::Range(0, 1024));
  return [a]() -> int {
    const bool text_walk = !a->prompt_to.empty();
    require(!text_walk || !a->prompt.empty(), "--prompt-to needs --prompt (where the walk starts)",
            "for example --prompt \"a dark coat\" --prompt-to \"a light coat\"");
    require(!(text_walk && (a->interpolate || !a->traverse.empty())),
            "--prompt-to cannot be combined with --interpolate or --traverse", "run duel sample twice");
    if (text_walk) {
      require(!a->out.empty(), "--prompt-to needs --out grid.png", "for example --out walk.png");
      require(a->each.empty(), "--each cannot be combined with --prompt-to", "drop --each");
    }
    const auto psis = parse_truncation(a->truncation);
    const bool sweep = psis.size() > 1, mixing = !a->mix.empty();
    const bool special = a->interpolate || !a->traverse.empty() || sweep || mixing;
    require(int(a->interpolate) + int(!a->traverse.empty()) + int(sweep) + int(mixing) + int(text_walk) <= 1,
            "--interpolate, --traverse, --mix, --prompt-to and a --truncation sweep cannot be combined",
            "run duel sample once for each grid");
    require(a->crossover < 0 || mixing, "--crossover needs --mix", "for example --mix 1,2 --crossover 4");
    if (special) {
      require(!a->out.empty(), "--interpolate, --traverse, --mix and --truncation sweeps need --out grid.png",
              "for example --out path.png");
      require(a->each.empty(), "--each cannot be combined with --interpolate, --traverse, --mix or a sweep",
              "drop --each");
    }
    require(!a->out.empty() || !a->each.empty(), "duel sample needs --out grid.png or --each DIR",
            "for example --out samples.png");
    if (!a->out.empty()) check_output_file(a->out, "--out", ".png", "samples.png");
    if (!a->gif.empty()) {
      require(a->interpolate, "--gif needs --interpolate", "add --interpolate");
      check_output_file(a->gif, "--gif", ".gif", "path.gif");
    }
    apply_threads(a->threads);
    Checkpoint ck = Checkpoint::read(a->checkpoint);
    Config cfg;
    auto model = load_generator(ck, cfg);
    torch::manual_seed(uint64_t(a->seed));
    const auto& shape = ck.state().shape;
    const bool conditional = model->needs_labels() && shape.num_classes > 0;
    if (a->cls >= 0) {
      require(conditional, "--class " + std::to_string(a->cls) + ": model '" + ck.model_name() + "' is not conditional",
              "drop --class, or sample from a cgan checkpoint");
      require(a->cls < shape.num_classes,
              "--class " + std::to_string(a->cls) + " is out of range: the checkpoint has " +
                  std::to_string(shape.num_classes) + " classes",
              "use --class 0 to " + std::to_string(shape.num_classes - 1));
    }
    // Style-based models: truncation and style mixing.
    const int64_t style_layers = model->style_layers();
    require(style_layers > 0 || (a->truncation.empty() && !mixing),
            "--truncation and --mix need a style-based generator, and model '" + ck.model_name() + "' has none",
            "drop them, or sample from a stylegan checkpoint");
    const double psi = psis.empty() ? 1.0 : psis.front();
    int64_t seed_a = 0, seed_b = 0, crossover = a->crossover;
    if (mixing) {
      parse_seed_pair(a->mix, seed_a, seed_b);
      if (crossover < 0) crossover = style_layers / 2;
      require(crossover <= style_layers,
              "--crossover " + std::to_string(crossover) + " is out of range: the generator has " +
                  std::to_string(style_layers) + " style layers",
              "use --crossover 0 (all styles from the columns) to " + std::to_string(style_layers) +
                  " (all from the rows)");
    }
    // Text-to-image models: the prompt's token ids, repeated per image.
    const bool texted = model->needs_captions();
    if (!a->prompt.empty())
      require(texted, "--prompt: model '" + ck.model_name() + "' does not draw from text",
              "drop --prompt, or sample from a text2img checkpoint");
    require(!texted || !a->prompt.empty(), "model '" + ck.model_name() + "' draws images from text: --prompt is required",
            "for example --prompt \"a dark long pullover\"");
    torch::Tensor prompt_ids, prompt_to_ids;  // [1, L]
    if (texted) {
      const auto vocab = Vocabulary::from_words(shape.vocabulary);
      prompt_ids = torch::tensor(vocab.encode(a->prompt, shape.text_length), torch::kInt64).unsqueeze(0);
      if (text_walk)
        prompt_to_ids = torch::tensor(vocab.encode(a->prompt_to, shape.text_length), torch::kInt64).unsqueeze(0);
    }
    auto text_for = [&](int64_t m) { return texted ? prompt_ids.expand({m, -1}).contiguous() : torch::Tensor(); };
    // Label of image i of a grid `per_row` wide: --class, else one class per row.
    auto label_for = [&](int64_t i, int64_t per_row) { return a->cls >= 0 ? a->cls : (i / per_row) % shape.num_classes; };
    auto labels_for = [&](int64_t first, int64_t m, int64_t per_row) {
      torch::Tensor l;
      if (!conditional) return l;
      l = torch::empty({m}, torch::kInt64);
      for (int64_t j = 0; j < m; ++j) l[j] = label_for(first + j, per_row);
      return l;
    };

    if (!a->traverse.empty()) {
      auto images = model->traverse(a->traverse, a->rows, a->steps, torch::kCPU);  // [rows*steps', C, H, W]
      const int64_t cols = images.size(0) / a->rows;
      write_png(a->out, make_grid(images, cols));
      std::printf("wrote the traversal of %s (%lld rows x %lld steps) from %s (step %lld) to %s\n",
                  a->traverse.c_str(), (long long)a->rows, (long long)cols, ck.model_name().c_str(),
                  (long long)ck.state().step, a->out.c_str());
      return 0;
    }

    if (sweep) {
      // Row r: latent r, fixed; column k: truncation psi_k.
      const int64_t cols = int64_t(psis.size());
      auto z = model->make_noise(a->rows, torch::kCPU);  // [rows, L]
      std::vector<torch::Tensor> images;
      for (int64_t k = 0; k < cols; ++k) {
        SampleRequest req{z, {}};
        req.truncation = psis[size_t(k)];
        images.push_back(model->sample(req));  // [rows, C, H, W]
      }
      write_png(a->out, make_grid(torch::stack(images, 1).flatten(0, 1), cols));
      std::printf("wrote a truncation sweep (%lld rows x %lld psi: %s) from %s (step %lld) to %s\n", (long long)a->rows,
                  (long long)cols, a->truncation.c_str(), ck.model_name().c_str(), (long long)ck.state().step,
                  a->out.c_str());
      return 0;
    }

    if (mixing) {
      // Top row: the column sources (seed B); left column: the row sources (seed A);
      // cell (i, j): styles [0, crossover) of row source i, the rest of column source j.
      torch::manual_seed(uint64_t(seed_a));
      auto za = model->make_noise(a->rows, torch::kCPU);
      torch::manual_seed(uint64_t(seed_b));
      auto zb = model->make_noise(a->steps, torch::kCPU);
      auto draw = [&](const torch::Tensor& z) {
        SampleRequest req{z, {}};
        req.truncation = psi;
        return model->sample(req);
      };
      auto row_src = draw(za), col_src = draw(zb);  // [rows, C, H, W], [steps, C, H, W]
      SampleRequest req{za.repeat_interleave(a->steps, 0), {}};
      req.mix = zb.repeat({a->rows, 1});
      req.crossover = crossover;
      req.truncation = psi;
      auto cells = model->sample(req).view({a->rows, a->steps, col_src.size(1), col_src.size(2), col_src.size(3)});
      auto blank = -torch::ones_like(col_src[0]).unsqueeze(0);  // black corner
      std::vector<torch::Tensor> grid{blank, col_src};
      for (int64_t i = 0; i < a->rows; ++i) {
        grid.push_back(row_src[i].unsqueeze(0));
        grid.push_back(cells[i]);
      }
      write_png(a->out, make_grid(torch::cat(grid), a->steps + 1));
      std::printf("wrote a style-mixing grid (%lld rows from seed %lld x %lld columns from seed %lld, styles %lld..%lld "
                  "from the columns) from %s (step %lld) to %s\n",
                  (long long)a->rows, (long long)seed_a, (long long)a->steps, (long long)seed_b, (long long)crossover,
                  (long long)style_layers - 1, ck.model_name().c_str(), (long long)ck.state().step, a->out.c_str());
      return 0;
    }

    if (text_walk) {
      // Row r: noise r, fixed; column t: the embedding t / (steps - 1) of the way from --prompt to --prompt-to.
      auto z = model->make_noise(a->rows, torch::kCPU).repeat_interleave(a->steps, 0);  // [rows*steps, L]
      SampleRequest req{z, {}};
      req.text = text_for(z.size(0));
      req.text_to = prompt_to_ids.expand({z.size(0), -1}).contiguous();
      req.text_mix = torch::linspace(0.0, 1.0, a->steps).repeat({a->rows});  // [rows*steps]
      auto images = model->sample(req);
      write_png(a->out, make_grid(images, a->steps));
      std::printf("wrote %lld rows x %lld steps from \"%s\" to \"%s\" (%s, step %lld) to %s\n", (long long)a->rows,
                  (long long)a->steps, a->prompt.c_str(), a->prompt_to.c_str(), ck.model_name().c_str(),
                  (long long)ck.state().step, a->out.c_str());
      return 0;
    }

    if (a->interpolate) {
      auto start = model->make_noise(a->rows, torch::kCPU), end = model->make_noise(a->rows, torch::kCPU);
      // Path r: --class, else class r (one class per row); text2img: the prompt on every path.
      torch::Tensor labels;
      if (conditional) labels = torch::arange(a->rows, torch::kInt64).remainder(shape.num_classes);
      if (conditional && a->cls >= 0) labels.fill_(a->cls);
      Interpolation path = interpolate(*model, start, end, a->steps, labels, text_for(a->rows), psi);
      write_png(a->out, path.grid);
      const std::string gif = a->gif.empty() ? fs::path(a->out).replace_extension(".gif").string() : a->gif;
      write_gif(gif, path.frames, 12);
      std::printf("wrote %lld interpolations x %lld steps from %s (step %lld) to %s and %s\n", (long long)a->rows,
                  (long long)a->steps, ck.model_name().c_str(), (long long)ck.state().step, a->out.c_str(), gif.c_str());
      return 0;
    }

    const int64_t per_row = a->nrow > 0 ? a->nrow : int64_t(std::ceil(std::sqrt(double(a->n))));
    std::vector<torch::Tensor> parts;
    if (!a->each.empty()) fs::create_directories(a->each);
    for (int64_t i = 0; i < a->n; i += a->batch) {
      int64_t m = std::min(a->batch, a->n - i);
      SampleRequest req{model->make_noise(m, torch::kCPU), labels_for(i, m, per_row)};
      req.text = text_for(m);
      req.truncation = psi;
      req.average = !a->live;
      auto images = model->sample(req);
      if (!a->each.empty())
        for (int64_t j = 0; j < m; ++j) {
          std::ostringstream name;
          name << "sample-" << std::setw(6) << std::setfill('0') << (i + j);
          if (conditional) name << "-class" << label_for(i + j, per_row);
          name << ".png";
          write_image((fs::path(a->each) / name.str()).string(), images[j]);
        }
      if (!a->out.empty()) parts.push_back(images);
    }
    if (!a->out.empty()) write_png(a->out, make_grid(torch::cat(parts), per_row));
    std::printf("wrote %lld samples from %s (step %lld) to %s\n", (long long)a->n, ck.model_name().c_str(),
                (long long)ck.state().step, (!a->out.empty() ? a->out : a->each).c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(20, "sample", add_sample);

}  // namespace duel::cli
