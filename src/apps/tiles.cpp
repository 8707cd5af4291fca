// Tiled translation (tiles.h): pad, cut, translate in batches, stitch, crop.
//
// Geometry along one axis of the padded input (length L, tile side T, both
// multiples of the model's size multiple m): tiles start at 0, step, 2 step,
// ... with step = T - 2 * overlap rounded down to a multiple of m (so every
// tile sits on the same stride grid as the whole image would), and the last
// tile is pulled back to end exactly at L. Neighbouring tiles k-1 and k then
// overlap by at least 2 * overlap pixels; the seam between them is the
// middle of that overlap, which leaves each kept pixel at least `overlap`
// pixels away from the inner edge of the tile it is taken from. The output
// is stitched at the same seams times the model's scale.
#include "duel/apps/tiles.h"

#include <torch/nn/functional/padding.h>

#include <algorithm>

#include "duel/core/error.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"

namespace duel {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

// Seams along one axis: tile k covers [seams[k], seams[k+1]) of the result.
std::vector<int64_t> seams_of(const std::vector<int64_t>& starts, int64_t tile, int64_t length) {
  std::vector<int64_t> seams{0};
  for (size_t k = 1; k < starts.size(); ++k) seams.push_back((starts[k] + starts[k - 1] + tile) / 2);
  seams.push_back(length);
  return seams;
}

}  // namespace

std::vector<int64_t> tile_starts(int64_t length, int64_t tile, int64_t step) {
  require(tile >= 1 && tile <= length && step >= 1,
          "tile_starts: need 1 <= tile <= length and step >= 1 (length " + std::to_string(length) + ", tile " +
              std::to_string(tile) + ", step " + std::to_string(step) + ")");
  std::vector<int64_t> starts;
  for (int64_t s = 0;; s += step) {
    if (s + tile >= length) {
      starts.push_back(length - tile);
      break;
    }
    starts.push_back(s);
  }
  return starts;
}

torch::Tensor pad_to_multiple(const torch::Tensor& images, int64_t multiple) {
  require(images.dim() == 4, "pad_to_multiple: images must be [N, C, H, W]");
  require(multiple >= 1, "pad_to_multiple: multiple must be >= 1");
  namespace F = torch::nn::functional;
  auto pad_axis = [&](torch::Tensor x, int axis) {
    const int64_t len = x.size(axis), missing = (multiple - len % multiple) % multiple;
    if (missing == 0) return x;
    // pad = {left, right, top, bottom}
    std::vector<int64_t> pad = axis == 3 ? std::vector<int64_t>{0, missing, 0, 0} : std::vector<int64_t>{0, 0, 0, missing};
    // Reflection needs the padding to be shorter than the side; a tiny image repeats its edge.
    const bool reflect = missing < len;
    F::PadFuncOptions options(pad);
    if (reflect)
      options.mode(torch::kReflect);
    else
      options.mode(torch::kReplicate);
    return F::pad(x, options);
  };
  return pad_axis(pad_axis(images, 2), 3);
}

torch::Tensor translate_tiled(GanModel& model, const torch::Tensor& images, const TileOptions& opt) {
  auto* translator = capability<ImageTranslator>(model);
  require(translator != nullptr, "model '" + model.name() + "' does not translate images",
          "use a pix2pix, cyclegan or srgan checkpoint");
  ImageTranslator& tr = *translator;
  const auto dirs = tr.directions();
  require(std::find(dirs.begin(), dirs.end(), opt.direction) != dirs.end(),
          "model '" + model.name() + "' has no direction '" + opt.direction + "'",
          "its directions: " + join(dirs));
  require(images.defined() && images.dim() == 4 && images.numel() > 0,
          "translate_tiled: images must be a non-empty [N, C, H, W] tensor");
  require(opt.overlap >= 0, "the tile overlap must be >= 0, got " + std::to_string(opt.overlap));
  require(opt.batch >= 1, "the tile batch must be >= 1, got " + std::to_string(opt.batch));
  const int64_t m = std::max<int64_t>(1, tr.size_multiple()), scale = std::max<int64_t>(1, tr.scale());
  const int64_t tile = opt.tile / m * m;
  require(tile >= m,
          "the tile side " + std::to_string(opt.tile) + " is smaller than model '" + model.name() +
              "' accepts: its input sides must be multiples of " + std::to_string(m),
          "use a tile of at least " + std::to_string(m) + " pixels");

  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  torch::NoGradGuard no_grad;
  auto padded = pad_to_multiple(images, m);
  const int64_t ph = padded.size(2), pw = padded.size(3);
  const auto home = images.device();

  auto run = [&](const torch::Tensor& x) {
    auto y = tr.translate(x.to(opt.device), opt.direction).to(home);
    require(y.dim() == 4 && y.size(0) == x.size(0) && y.size(2) == x.size(2) * scale && y.size(3) == x.size(3) * scale,
            "model '" + model.name() + "' returned an output of the wrong size from translate()",
            "this is a bug in the model");
    return y;
  };

  const int64_t th = std::min(tile, ph), tw = std::min(tile, pw);
  if (th == ph && tw == pw)  // one tile: the whole (padded) image
    return run(padded).slice(2, 0, h * scale).slice(3, 0, w * scale);

  const int64_t step = (tile - 2 * opt.overlap) / m * m;
  require(step >= m,
          "the tile side " + std::to_string(tile) + " leaves no room between overlaps of " +
              std::to_string(opt.overlap) + " pixels (model '" + model.name() + "' needs sides that are multiples of " +
              std::to_string(m) + ")",
          "use a tile of at least " + std::to_string(2 * opt.overlap + m) + " pixels or a smaller overlap");
  const auto ys = tile_starts(ph, th, step), xs = tile_starts(pw, tw, step);
  const auto seam_y = seams_of(ys, th, ph), seam_x = seams_of(xs, tw, pw);

  torch::Tensor out;  // [N, C', ph * scale, pw * scale], allocated on the first output
  std::vector<std::pair<size_t, size_t>> pending;
  auto flush = [&]() {
    if (pending.empty()) return;
    std::vector<torch::Tensor> inputs;
    for (auto [i, j] : pending) inputs.push_back(padded.slice(2, ys[i], ys[i] + th).slice(3, xs[j], xs[j] + tw));
    auto y = run(torch::cat(inputs));  // [k * N, C', th * scale, tw * scale]
    if (!out.defined()) out = torch::empty({n, y.size(1), ph * scale, pw * scale}, y.options());
    for (size_t k = 0; k < pending.size(); ++k) {
      auto [i, j] = pending[k];
      const int64_t y0 = seam_y[i], y1 = seam_y[i + 1], x0 = seam_x[j], x1 = seam_x[j + 1];
      auto part = y.slice(0, int64_t(k) * n, int64_t(k + 1) * n)
                      .slice(2, (y0 - ys[i]) * scale, (y1 - ys[i]) * scale)
                      .slice(3, (x0 - xs[j]) * scale, (x1 - xs[j]) * scale);
      out.slice(2, y0 * scale, y1 * scale).slice(3, x0 * scale, x1 * scale).copy_(part);
    }
    pending.clear();
  };
  const int64_t per_call = std::max<int64_t>(1, opt.batch);
  for (size_t i = 0; i < ys.size(); ++i)
    for (size_t j = 0; j < xs.size(); ++j) {
      pending.emplace_back(i, j);
      if (int64_t(pending.size()) >= per_call) flush();
    }
  flush();
  return out.slice(2, 0, h * scale).slice(3, 0, w * scale);
}

}  // namespace duel
