// `duel encode`: codes of images and their scatter plot; see encode.h.
#include "duel/apps/encode.h"

#include <ATen/ops/linalg_eigh.h>

#include <filesystem>

#include "duel/apps/model_loading.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/io/npy.h"
#include "duel/io/plot.h"
#include "duel/models/capabilities.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

bool ends_with(const std::string& s, const std::string& ext) {
  return s.size() >= ext.size() && s.compare(s.size() - ext.size(), ext.size(), ext) == 0;
}

struct Inputs {
  torch::Tensor images, labels;  // labels int64 [N] or undefined
  int64_t classes = 0;
};

Inputs read_inputs(const EncodeRequest& r, const Config& cfg, const DataShape& shape) {
  Inputs in;
  if (r.from_test > 0) {
    require(r.in.empty(), "--in and --from-test both name the images", "pass one of them");
    TestImages test = first_test_images(cfg, shape, r.from_test, "--from-test");
    in.images = test.images;
    in.labels = test.labels;
    in.classes = test.classes;
    return in;
  }
  require(!r.in.empty(), "no images: pass --in DIR or --from-test N", "e.g. --in images/");
  require(fs::exists(r.in), "--in '" + r.in + "' does not exist", "pass a folder of images (class subfolders label them)");
  if (!fs::is_directory(r.in)) {
    in.images = read_image_files({r.in}, shape.size, shape.channels);
    return in;
  }
  LabelledFiles files = list_labelled_images(r.in);
  require(!files.paths.empty(), "--in '" + r.in + "' holds no PNG, JPEG or BMP image", "pass a folder of images");
  in.images = read_image_files(files.paths, shape.size, shape.channels);
  if (!files.labels.empty()) {
    in.labels = torch::tensor(files.labels, torch::kInt64);
    in.classes = int64_t(files.classes.size());
  }
  return in;
}

}  // namespace

torch::Tensor principal_components_2d(const torch::Tensor& points, double* explained) {
  require(points.dim() == 2 && points.size(1) >= 2 && points.size(0) >= 2,
          "principal components need at least 2 points of at least 2 dimensions", "encode more images");
  auto x = points.to(torch::kFloat64);
  x = x - x.mean(0, true);
  auto cov = x.t().mm(x) / double(x.size(0) - 1);
  auto [values, vectors] = at::linalg_eigh(cov);  // ascending eigenvalues
  const int64_t d = values.size(0);
  auto top = vectors.index_select(1, torch::tensor({d - 1, d - 2}, torch::kInt64));  // [D, 2]
  // Each component's sign: its largest-magnitude loading is positive.
  auto idx = top.abs().argmax(0);
  auto signs = top.gather(0, idx.unsqueeze(0)).sign();
  signs = torch::where(signs.eq(0), torch::ones_like(signs), signs);
  top = top * signs;
  const double total = values.sum().item<double>();
  if (explained) *explained = total > 0 ? (values[d - 1] + values[d - 2]).item<double>() / total : 1.0;
  return x.mm(top).to(torch::kFloat32);
}

EncodeReport encode_images(const EncodeRequest& r) {
  require(ends_with(r.out, ".npy"), "--out '" + r.out + "' must end in .npy", "for example --out codes.npy");
  require(r.scatter.empty() || ends_with(r.scatter, ".png"), "--scatter '" + r.scatter + "' must end in .png",
          "for example --scatter codes.png");
  require(r.batch >= 1, "--batch must be at least 1", "256 is the default");
  Checkpoint ck = Checkpoint::read(r.checkpoint);
  Config cfg;
  auto model = load_model(ck, cfg);
  auto& encoder = require_capability<ImageEncoder>(*model);
  const Inputs in = read_inputs(r, cfg, ck.state().shape);
  std::vector<torch::Tensor> parts;
  for (int64_t at = 0; at < in.images.size(0); at += r.batch)
    parts.push_back(encoder.encode(to_unit_range(in.images.slice(0, at, std::min(in.images.size(0), at + r.batch)))));
  auto codes = torch::cat(parts).to(torch::kFloat32);
  EncodeReport rep;
  rep.model = ck.model_name();
  rep.step = ck.state().step;
  rep.n = codes.size(0);
  rep.code_dim = codes.size(1);
  rep.classes = in.classes;
  write_npy(r.out, codes);
  if (in.labels.defined()) {
    rep.labels_path = fs::path(r.out).replace_extension("").string() + "-labels.npy";
    write_npy(rep.labels_path, in.labels);
  }
  if (!r.scatter.empty()) {
    torch::Tensor xy = codes;
    rep.plotted = "the codes";
    if (rep.code_dim > 2) {
      require(rep.n >= 2, "a projection of the codes needs at least 2 images", "encode more images, or drop --scatter");
      xy = principal_components_2d(codes, &rep.explained);
      rep.plotted = "principal components 1-2 of the codes";
    } else if (rep.code_dim == 1) {
      xy = torch::cat({codes, torch::zeros_like(codes)}, 1);
      rep.plotted = "the code (1-D, on the x axis)";
    }
    const double extent = std::max(1.0, 1.1 * xy.abs().max().item<double>());
    ScatterOptions o{extent, 0.0, 640};
    o.classes = in.labels;
    o.dot = 2;
    write_png(r.scatter, scatter_plot(xy, {}, o));
  }
  return rep;
}

}  // namespace duel
