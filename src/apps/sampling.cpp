// Sampling recipes (include/duel/apps/sampling.h): option checks against the
// model, then one function per grid `duel sample` can draw.
#include "duel/apps/sampling.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "duel/core/error.h"
#include "duel/data/points.h"
#include "duel/data/text.h"
#include "duel/io/image.h"
#include "duel/io/plot.h"
#include "duel/models/capabilities.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

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

torch::Tensor text_for(const Sampler& s, int64_t m) {
  return s.texted ? s.prompt_ids.expand({m, -1}).contiguous() : torch::Tensor();
}

// Label of image i of a grid `per_row` wide: --class, else one class per row.
int64_t label_for(const Sampler& s, int64_t i, int64_t per_row) {
  return s.cls >= 0 ? s.cls : (i / per_row) % s.shape.num_classes;
}

torch::Tensor labels_for(const Sampler& s, int64_t first, int64_t m, int64_t per_row) {
  torch::Tensor l;
  if (!s.conditional) return l;
  l = torch::empty({m}, torch::kInt64);
  for (int64_t j = 0; j < m; ++j) l[j] = label_for(s, first + j, per_row);
  return l;
}

}  // namespace

void check_sample_job(const SampleJob& job) {
  const bool text_walk = !job.prompt_to.empty();
  require(!text_walk || !job.prompt.empty(), "--prompt-to needs --prompt (where the walk starts)",
          "for example --prompt \"a dark coat\" --prompt-to \"a light coat\"");
  require(!(text_walk && (job.interpolate || !job.traverse.empty())),
          "--prompt-to cannot be combined with --interpolate or --traverse", "run duel sample twice");
  if (text_walk) {
    require(!job.out.empty(), "--prompt-to needs --out grid.png", "for example --out walk.png");
    require(job.each.empty(), "--each cannot be combined with --prompt-to", "drop --each");
  }
  const std::vector<double> psis = parse_truncation(job.truncation);
  const bool sweep = psis.size() > 1, mixing = !job.mix.empty();
  const bool special = job.interpolate || !job.traverse.empty() || sweep || mixing;
  require(int(job.interpolate) + int(!job.traverse.empty()) + int(sweep) + int(mixing) + int(text_walk) <= 1,
          "--interpolate, --traverse, --mix, --prompt-to and a --truncation sweep cannot be combined",
          "run duel sample once for each grid");
  require(job.crossover < 0 || mixing, "--crossover needs --mix", "for example --mix 1,2 --crossover 4");
  if (special) {
    require(!job.out.empty(), "--interpolate, --traverse, --mix and --truncation sweeps need --out grid.png",
            "for example --out path.png");
    require(job.each.empty(), "--each cannot be combined with --interpolate, --traverse, --mix or a sweep",
            "drop --each");
  }
  require(!job.out.empty() || !job.each.empty(), "duel sample needs --out grid.png or --each DIR",
          "for example --out samples.png");
  if (!job.out.empty()) {  // like train --out, the folder is created
    const auto parent = fs::path(job.out).parent_path();
    std::error_code ec;
    if (!parent.empty() && !fs::exists(parent, ec)) fs::create_directories(parent, ec);
  }
  require(job.out.empty() || special || job.n <= kMaxGridImages,
          "--n " + std::to_string(job.n) + " is too many images for one grid (at most " +
              std::to_string(kMaxGridImages) + ")",
          "write one PNG per image with --each DIR, or draw several grids with different --seed");
  std::error_code ec;
  require(job.each.empty() || !fs::exists(job.each, ec) || fs::is_directory(job.each, ec),
          "--each '" + job.each + "' is a file, not a folder",
          "pass a folder (created when missing), e.g. --each samples/");
  require(job.gif.empty() || job.interpolate, "--gif needs --interpolate", "add --interpolate");
}

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

namespace {
// The model's noise input; throws NoiseSampler::missing (translators say what
// to use instead) when it has none, at the first draw as before.
NoiseSampler& noise_of(const Sampler& s) { return require_capability<NoiseSampler>(*s.model); }
}  // namespace

Sampler make_sampler(GanModel& model, const DataShape& shape, const std::string& model_name, const SampleOptions& o) {
  Sampler s;
  s.model = &model;
  s.shape = shape;
  s.model_name = model_name;
  s.cls = o.cls;
  s.live = o.live;
  s.conditional = model.needs_labels() && shape.num_classes > 0;
  if (o.cls >= 0) {
    require(s.conditional, "--class " + std::to_string(o.cls) + ": model '" + model_name + "' is not conditional",
            "drop --class, or sample from a cgan checkpoint");
    require(o.cls < shape.num_classes,
            "--class " + std::to_string(o.cls) + " is out of range: the checkpoint has " +
                std::to_string(shape.num_classes) + " classes",
            "use --class 0 to " + std::to_string(shape.num_classes - 1));
  }
  // Style-based models: truncation and style mixing.
  const bool mixing = !o.mix.empty();
  const auto* style = capability<StyleControl>(model);
  s.style_layers = style ? style->style_layers() : 0;
  require(s.style_layers > 0 || (o.truncation.empty() && !mixing),
          "--truncation and --mix need a style-based generator, and model '" + model_name + "' has none",
          "drop them, or sample from a stylegan checkpoint");
  s.psi = o.truncation.empty() ? 1.0 : o.truncation.front();
  s.crossover = o.crossover;
  if (mixing) {
    parse_seed_pair(o.mix, s.seed_a, s.seed_b);
    if (s.crossover < 0) s.crossover = s.style_layers / 2;
    require(s.crossover <= s.style_layers,
            "--crossover " + std::to_string(s.crossover) + " is out of range: the generator has " +
                std::to_string(s.style_layers) + " style layers",
            "use --crossover 0 (all styles from the columns) to " + std::to_string(s.style_layers) +
                " (all from the rows)");
  }
  // Text-to-image models: the prompt's token ids, repeated per image.
  s.texted = model.needs_captions();
  if (!o.prompt.empty())
    require(s.texted, "--prompt: model '" + model_name + "' does not draw from text",
            "drop --prompt, or sample from a text2img checkpoint");
  require(!s.texted || !o.prompt.empty(), "model '" + model_name + "' draws images from text: --prompt is required",
          "for example --prompt \"a dark long pullover\"");
  if (s.texted) {
    const auto vocab = Vocabulary::from_words(shape.vocabulary);
    s.prompt_ids = torch::tensor(vocab.encode(o.prompt, shape.text_length), torch::kInt64).unsqueeze(0);
    if (!o.prompt_to.empty())
      s.prompt_to_ids = torch::tensor(vocab.encode(o.prompt_to, shape.text_length), torch::kInt64).unsqueeze(0);
  }
  return s;
}

torch::Tensor traversal_grid(const Sampler& s, const std::string& code, int64_t rows, int64_t steps, int64_t& cols) {
  auto& codes = require_capability<CodeTraversal>(*s.model);
  auto images = codes.traverse(code, rows, steps, torch::kCPU);  // [rows*steps', C, H, W]
  cols = images.size(0) / rows;
  return make_grid(images, cols);
}

torch::Tensor truncation_sweep_grid(const Sampler& s, const std::vector<double>& psis, int64_t rows) {
  const int64_t cols = int64_t(psis.size());
  auto z = noise_of(s).make_noise(rows, torch::kCPU);  // [rows, L]
  std::vector<torch::Tensor> images;
  for (int64_t k = 0; k < cols; ++k) {
    SampleRequest req{z, {}};
    req.truncation = psis[size_t(k)];
    images.push_back(noise_of(s).sample(req));  // [rows, C, H, W]
  }
  return make_grid(torch::stack(images, 1).flatten(0, 1), cols);
}

torch::Tensor style_mixing_grid(const Sampler& s, int64_t rows, int64_t steps) {
  torch::manual_seed(uint64_t(s.seed_a));
  auto za = noise_of(s).make_noise(rows, torch::kCPU);
  torch::manual_seed(uint64_t(s.seed_b));
  auto zb = noise_of(s).make_noise(steps, torch::kCPU);
  auto draw = [&](const torch::Tensor& z) {
    SampleRequest req{z, {}};
    req.truncation = s.psi;
    return noise_of(s).sample(req);
  };
  auto row_src = draw(za), col_src = draw(zb);  // [rows, C, H, W], [steps, C, H, W]
  SampleRequest req{za.repeat_interleave(steps, 0), {}};
  req.mix = zb.repeat({rows, 1});
  req.crossover = s.crossover;
  req.truncation = s.psi;
  auto cells = noise_of(s).sample(req).view({rows, steps, col_src.size(1), col_src.size(2), col_src.size(3)});
  auto blank = -torch::ones_like(col_src[0]).unsqueeze(0);  // black corner
  std::vector<torch::Tensor> grid{blank, col_src};
  for (int64_t i = 0; i < rows; ++i) {
    grid.push_back(row_src[i].unsqueeze(0));
    grid.push_back(cells[i]);
  }
  return make_grid(torch::cat(grid), steps + 1);
}

torch::Tensor text_walk_grid(const Sampler& s, int64_t rows, int64_t steps) {
  auto z = noise_of(s).make_noise(rows, torch::kCPU).repeat_interleave(steps, 0);  // [rows*steps, L]
  SampleRequest req{z, {}};
  req.text = text_for(s, z.size(0));
  req.text_to = s.prompt_to_ids.expand({z.size(0), -1}).contiguous();
  req.text_mix = torch::linspace(0.0, 1.0, steps).repeat({rows});  // [rows*steps]
  return make_grid(noise_of(s).sample(req), steps);
}

Interpolation interpolation_of(const Sampler& s, int64_t rows, int64_t steps) {
  auto start = noise_of(s).make_noise(rows, torch::kCPU), end = noise_of(s).make_noise(rows, torch::kCPU);
  // Path r: --class, else class r (one class per row); text2img: the prompt on every path.
  torch::Tensor labels;
  if (s.conditional) labels = torch::arange(rows, torch::kInt64).remainder(s.shape.num_classes);
  if (s.conditional && s.cls >= 0) labels.fill_(s.cls);
  return interpolate(*s.model, start, end, steps, labels, text_for(s, rows), s.psi);
}

torch::Tensor draw_samples(const Sampler& s, int64_t n, int64_t per_row, int64_t batch, const std::string& each_dir,
                           bool grid) {
  std::vector<torch::Tensor> parts;
  const bool points = is_point_shape(s.shape.channels, s.shape.size);
  require(!points || each_dir.empty(), "the model draws 2-D points (data.dataset ring8 or grid25), not images",
          "draw them as a scatter plot with --out FILE.png");
  if (!each_dir.empty()) fs::create_directories(each_dir);
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t m = std::min(batch, n - i);
    SampleRequest req{noise_of(s).make_noise(m, torch::kCPU), labels_for(s, i, m, per_row)};
    req.text = text_for(s, m);
    req.truncation = s.psi;
    req.average = !s.live;
    auto images = noise_of(s).sample(req);
    if (!each_dir.empty())
      for (int64_t j = 0; j < m; ++j) {
        std::ostringstream name;
        name << "sample-" << std::setw(6) << std::setfill('0') << (i + j);
        if (s.conditional) name << "-class" << label_for(s, i + j, per_row);
        name << ".png";
        write_image((fs::path(each_dir) / name.str()).string(), images[j]);
      }
    if (grid) parts.push_back(images);
  }
  if (!grid) return {};
  if (points) {  // a scatter plot in a square fitted to the samples (io/plot.h)
    auto p = as_points(torch::cat(parts));
    return scatter_plot(p, {}, {std::max(1.0, 1.3 * p.abs().max().item<double>()), 0.0, 480});
  }
  return make_grid(torch::cat(parts), per_row);
}

}  // namespace duel
