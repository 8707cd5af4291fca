// Adaptive discriminator augmentation (Karras et al. 2020, "ADA").
//
// Every image D sees, real or fake, goes through a chain of transforms, each
// applied independently per image with probability p:
//   xflip        horizontal mirror
//   rot90        rotation by 90, 180 or 270 degrees
//   translation  integer shift of up to 1/8 of the side, reflected border
//   brightness   + N(0, 0.2)
//   contrast     x lognormal(0, 0.5 ln 2) around the image mean
//   saturation   x lognormal(0, ln 2) around the per-pixel grey (RGB only)
// Geometric transforms move whole pixels (nearest sampling: every output
// pixel is one of the input's), so nothing is blurred, and every transform is differentiable
// in the image, so G learns through them. With p below about 0.8 the
// transforms do not leak into G's images (the paper's "non-leaking" bound).
//
// p is steered by D's overfitting heuristic r_t = E[sign(D(real))]: every
// `interval` D updates, p moves by sign(r_t - target) * images / speed, where
// images is the global batch times the interval and `speed` is the number of
// images over which p can move by 1. p starts at p0; with target 0 it stays
// there (fixed-probability augmentation, the paper's baseline).
#pragma once
#include <torch/types.h>

#include <map>
#include <string>

namespace duel {

// x [N, C, H, W] -> [N, C, H, W]; p in [0, 1]. Draws go through
// draw_for_batch(), so a distributed run augments as one process would.
torch::Tensor ada_augment(const torch::Tensor& x, double p);
// The two halves of ada_augment (geometry first, then colour).
torch::Tensor ada_geometry(const torch::Tensor& x, double p);
torch::Tensor ada_color(const torch::Tensor& x, double p);

class AdaController {
 public:
  AdaController(double target, double speed_images, int64_t interval = 4, double p0 = 0.0);
  double p() const { return p_; }
  // Last r_t measured (0 before the first adjustment).
  double rt() const { return rt_; }
  // Feeds D's raw outputs on real images of one D update ([N, 1] this rank)
  // and the global batch size; adjusts p every `interval` calls. In a
  // distributed run the sign sums are added over ranks (batch_shard()).
  void observe(const torch::Tensor& real_out, int64_t global_batch);
  void save(std::map<std::string, torch::Tensor>& out, const std::string& prefix) const;
  void load(const std::map<std::string, torch::Tensor>& in, const std::string& prefix);

 private:
  double target_, speed_;
  int64_t interval_;
  double p_ = 0.0, rt_ = 0.0;
  double sign_sum_ = 0.0, count_ = 0.0;
  int64_t calls_ = 0;
};

}  // namespace duel
