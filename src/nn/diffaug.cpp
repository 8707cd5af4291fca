// DiffAugment transforms; see the header.
#include "duel/nn/diffaug.h"

#include <sstream>

#include "duel/core/error.h"

namespace duel {

std::vector<std::string> parse_diffaug(const std::string& policy) {
  std::vector<std::string> out;
  std::stringstream ss(policy);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    if (item != "color" && item != "translation" && item != "cutout")
      throw Error("unknown augmentation '" + item + "' in train.diffaug",
                  "train.diffaug is a comma list of translation, cutout and color (or empty)");
    out.push_back(item);
  }
  return out;
}

namespace {

torch::Tensor color(const torch::Tensor& x) {
  const int64_t n = x.size(0);
  auto o = x.options();
  auto y = x + (torch::rand({n, 1, 1, 1}, o) - 0.5);  // brightness
  if (x.size(1) == 3) {
    auto mean = y.mean(1, true);
    y = (y - mean) * (torch::rand({n, 1, 1, 1}, o) * 2) + mean;  // saturation
  }
  auto mean = y.mean({1, 2, 3}, true);
  return (y - mean) * (torch::rand({n, 1, 1, 1}, o) + 0.5) + mean;  // contrast
}

// Per-sample integer shifts, zero fill: gather from a zero-padded copy.
torch::Tensor translation(const torch::Tensor& x, double ratio = 0.125) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t sh = int64_t(h * ratio + 0.5), sw = int64_t(w * ratio + 0.5);
  if (sh == 0 && sw == 0) return x;
  auto io = torch::TensorOptions().dtype(torch::kInt64).device(x.device());
  auto ty = torch::randint(-sh, sh + 1, {n, 1, 1}, io), tx = torch::randint(-sw, sw + 1, {n, 1, 1}, io);
  // Source row of output row i is i + ty, shifted by the pad: index into [0, h + 2sh).
  auto rows = (torch::arange(h, io).view({1, h, 1}) + ty + sh).expand({n, h, w});
  auto cols = (torch::arange(w, io).view({1, 1, w}) + tx + sw).expand({n, h, w});
  auto padded = torch::constant_pad_nd(x, {sw, sw, sh, sh});  // [N, C, H+2sh, W+2sw]
  auto flat = padded.reshape({n, c, -1});
  auto index = (rows * (w + 2 * sw) + cols).reshape({n, 1, h * w}).expand({n, c, h * w});
  return flat.gather(2, index).reshape({n, c, h, w});
}

torch::Tensor cutout(const torch::Tensor& x, double ratio = 0.5) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const int64_t ch = int64_t(h * ratio + 0.5), cw = int64_t(w * ratio + 0.5);
  auto io = torch::TensorOptions().dtype(torch::kInt64).device(x.device());
  // Centre of the square anywhere in the image (the square may overlap the border).
  auto cy = torch::randint(0, h + (1 - ch % 2), {n, 1, 1}, io), cx = torch::randint(0, w + (1 - cw % 2), {n, 1, 1}, io);
  auto ys = torch::arange(h, io).view({1, h, 1}), xs = torch::arange(w, io).view({1, 1, w});
  auto inside = (ys >= cy - ch / 2) & (ys < cy - ch / 2 + ch) & (xs >= cx - cw / 2) & (xs < cx - cw / 2 + cw);
  auto mask = (~inside).to(x.scalar_type()).unsqueeze(1);  // [N, 1, H, W]
  return x * mask;
}

}  // namespace

torch::Tensor diff_augment(const torch::Tensor& x, const std::vector<std::string>& policy) {
  auto y = x;
  for (const auto& p : policy) {
    if (p == "color") y = color(y);
    else if (p == "translation") y = translation(y);
    else if (p == "cutout") y = cutout(y);
  }
  return y.contiguous(x.suggest_memory_format());
}

}  // namespace duel
