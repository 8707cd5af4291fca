// CollapseProbe; see the header.
#include "duel/train/collapse.h"

#include <cmath>
#include <sstream>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/rng.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/nn/feature_net.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  register_key({"monitor.collapse_probe", ConfigType::Bool, true,
                "read each sample grid through the dataset's feature network: feature diversity and class histogram",
                {}, {}, {}});
  register_key({"monitor.collapse_diversity", ConfigType::Float, 0.4,
                "warn when the samples' feature diversity falls below this share of the data's", 0.0, 1.0, {}});
  register_key({"monitor.collapse_entropy", ConfigType::Float, 0.6,
                "warn when the samples' class-histogram entropy falls below this share of the data's", 0.0, 1.0, {}});
  return true;
}();

std::vector<double> class_shares(const torch::Tensor& probs) {
  const int64_t k = probs.size(1);
  auto counts = torch::bincount(probs.argmax(1), {}, k).to(torch::kFloat64);
  counts = counts / counts.sum();
  return std::vector<double>(counts.data_ptr<double>(), counts.data_ptr<double>() + k);
}

}  // namespace

double mean_pairwise_distance(const torch::Tensor& x) {
  auto f = x.reshape({x.size(0), -1}).to(torch::kFloat64);
  const int64_t n = f.size(0);
  return torch::cdist(f, f).sum().item<double>() / double(n * (n - 1));
}

double entropy(const std::vector<double>& shares) {
  double h = 0;
  for (double p : shares)
    if (p > 0) h -= p * std::log(p);
  return h;
}

CollapseProbe::~CollapseProbe() = default;

std::unique_ptr<CollapseProbe> CollapseProbe::create(const Config& cfg, const ImageSet& data, std::string* why) {
  if (!cfg.get_bool("monitor.collapse_probe") || !cfg.get_bool("monitor.warnings")) {
    if (why) *why = "off";
    return nullptr;
  }
  RngRestore restore;  // building the feature net draws initial weights: training must not see that
  std::unique_ptr<CollapseProbe> p(new CollapseProbe());
  try {
    p->net_ = load_feature_extractor(find_feature_net(cfg.get_string("data.dataset")));
    // A fixed, spread-out subset of the data as the reference.
    const int64_t n = std::min<int64_t>(512, data.images.size(0));
    auto idx = torch::linspace(0, double(data.images.size(0) - 1), n).round().to(torch::kInt64);
    p->real_images_ = data.images.index_select(0, idx);
    auto real = p->net_->extract(p->real_images_.slice(0, 0, 64));  // throws when sizes do not fit
    if (real.probs.defined()) p->real_entropy_ = entropy(class_shares(p->net_->extract(p->real_images_).probs));
  } catch (const Error& e) {
    if (why) *why = e.what();
    return nullptr;
  }
  p->min_diversity_ = cfg.get_float("monitor.collapse_diversity");
  p->min_entropy_ = cfg.get_float("monitor.collapse_entropy");
  p->warm_up_ = 10 * cfg.get_int("monitor.window");  // a fresh generator's samples are all alike
  p->network_ = p->net_->identity().path;
  return p;
}

CollapseProbe::Reading CollapseProbe::observe(const torch::Tensor& samples, int64_t step) {
  Reading r;
  const int64_t n = samples.size(0);
  auto fake = net_->extract(quantise(samples));
  // The same number of real images, so both diversities carry the same small-sample bias.
  auto real = net_->extract(real_images_.slice(0, 0, std::min<int64_t>(n, real_images_.size(0))));
  r.feature_diversity = mean_pairwise_distance(fake.features) / mean_pairwise_distance(real.features);
  std::ostringstream w;
  w.precision(3);
  if (fake.probs.defined()) {
    r.histogram = class_shares(fake.probs);
    r.class_entropy = real_entropy_ > 0 ? entropy(r.histogram) / real_entropy_ : 0;
    for (size_t i = 0; i < r.histogram.size(); ++i)
      if (r.top_class < 0 || r.histogram[i] > r.top_fraction) r.top_class = int64_t(i), r.top_fraction = r.histogram[i];
  }
  const bool low_diversity = r.feature_diversity < min_diversity_;
  const bool uneven = r.class_entropy >= 0 && r.class_entropy < min_entropy_;
  if (step < warm_up_ || (!low_diversity && !uneven)) return r;
  w << "step " << step << ": possible mode collapse:";
  if (low_diversity) w << " feature diversity " << r.feature_diversity << " of the data's (< " << min_diversity_ << ")";
  if (uneven)
    w << (low_diversity ? "," : "") << " class " << r.top_class << " is " << int(std::lround(100 * r.top_fraction))
      << "% of the samples";
  r.warning = w.str() + "\nhint: look at the latest grid; try train.d_steps=2, a lower optim.g_lr or model.spectral_norm=true";
  return r;
}

}  // namespace duel
