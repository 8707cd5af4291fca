// `duel project` end to end: read the targets, project them, write the
// output folder (see ProjectRequest in projection.h).
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "duel/apps/model_loading.h"
#include "duel/apps/projection.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/io/npy.h"
#include "duel/models/capabilities.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

struct Targets {
  torch::Tensor images;  // uint8 [N, C, H, W] at the model's size and channels
  torch::Tensor labels;  // int64 [N] true labels (test split), else undefined
  std::vector<std::string> names;
};

// "shoes/a b.png" -> "shoes_a_b": a file stem safe in the output folder.
std::string safe_name(const std::string& rel) {
  std::string s = fs::path(rel).replace_extension().string();
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return s;
}

Targets read_targets(const ProjectRequest& r, const Config& cfg, const DataShape& shape) {
  Targets t;
  if (r.from_test > 0) {
    require(r.in.empty(), "--in and --from-test both name targets", "pass one of them");
    TestImages test = first_test_images(cfg, shape, r.from_test, "--from-test");
    t.images = test.images;
    t.labels = test.labels;
    for (int64_t i = 0; i < r.from_test; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "test-%06lld", (long long)i);
      t.names.push_back(name);
    }
    return t;
  }
  require(!r.in.empty(), "no targets: pass --in IMAGE_OR_DIR or --from-test N", "e.g. --in photo.png");
  require(fs::exists(r.in), "--in '" + r.in + "' does not exist", "pass an image file or a folder of images");
  std::vector<std::string> files;
  if (fs::is_directory(r.in)) {
    files = list_image_files(r.in);
    require(!files.empty(), "--in '" + r.in + "' holds no PNG, JPEG or BMP image", "pass a folder of images");
    for (auto& f : files) t.names.push_back(safe_name(fs::relative(f, r.in).string()));
  } else {
    files = {r.in};
    t.names.push_back(safe_name(fs::path(r.in).filename().string()));
  }
  t.images = read_image_files(files, shape.size, shape.channels);
  return t;
}

std::unique_ptr<FeatureExtractor> open_projection_features(const ProjectRequest& r, const std::string& dataset,
                                                           std::string& path) {
  path = r.features;
  if (path.empty()) {
    try {
      path = find_feature_net(dataset);
    } catch (const Error&) {
      path.clear();
      return nullptr;  // no network for this dataset: pixels only
    }
  }
  return load_feature_extractor(path);
}

void make_out_folder(const std::string& out) {
  require(!out.empty(), "no output folder", "pass --out DIR");
  require(!fs::exists(out) || fs::is_directory(out), "--out '" + out + "' exists and is not a folder",
          "pass a folder to write the projections into");
  std::error_code ec;
  fs::create_directories(out, ec);
  require(fs::is_directory(out), "cannot create the folder '" + out + "'", "pass --out with a writable path");
}

double mean_of(const torch::Tensor& t) { return t.to(torch::kFloat64).mean().item<double>(); }

// The per-target files, latents.npy, labels.npy, projection.csv and pairs.png under r.out.
void write_projection_files(const std::string& out, const Targets& t, const Projection& p, const NearestTrain& nearest,
                            const torch::Tensor& train_images) {
  auto num = [](const torch::Tensor& x, int64_t j) { return x.defined() ? std::to_string(x[j].item<double>()) : ""; };
  auto whole = [](const torch::Tensor& x, int64_t j) { return x.defined() ? std::to_string(x[j].item<int64_t>()) : ""; };
  const bool near = nearest.index.defined();
  std::ostringstream csv;
  csv << "name,class,recognised,true_class,psnr,feature_distance"
      << (near ? ",nearest_train,nearest_psnr,nearest_feature_distance" : "") << "\n";
  std::vector<torch::Tensor> rows;
  const int64_t n = t.images.size(0);
  for (int64_t i = 0; i < n; ++i) {
    const auto base = (fs::path(out) / t.names[size_t(i)]).string();
    write_npy(base + ".npy", p.latents[i]);
    auto target = to_unit_range(t.images.slice(0, i, i + 1));
    auto recon = p.images.slice(0, i, i + 1);
    write_png(base + ".png", make_grid(torch::cat({target, recon}), 2, 0));
    csv << t.names[size_t(i)] << "," << whole(p.labels, i) << "," << whole(p.recognised, i) << ","
        << whole(t.labels, i) << "," << num(p.psnr, i) << "," << num(p.feature_distance, i);
    if (near)
      csv << "," << whole(nearest.index, i) << "," << num(nearest.psnr, i) << "," << num(nearest.feature_distance, i);
    csv << "\n";
    if (i >= 32) continue;
    rows.push_back(target);
    rows.push_back(recon);
    if (near) rows.push_back(to_unit_range(train_images.index_select(0, nearest.index.slice(0, i, i + 1))));
  }
  write_npy((fs::path(out) / "latents.npy").string(), p.latents);
  if (p.labels.defined()) write_npy((fs::path(out) / "labels.npy").string(), p.labels);
  write_file_atomic((fs::path(out) / "projection.csv").string(), csv.str());
  // 4 targets per grid row: target | reconstruction (| nearest training image), small images enlarged
  write_png((fs::path(out) / "pairs.png").string(), make_grid(enlarge_small(torch::cat(rows)), near ? 12 : 8));
}

}  // namespace

ProjectReport run_projection(const ProjectRequest& r, const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  check_projection_options(r.options);
  Checkpoint ck = Checkpoint::read(r.checkpoint);
  Config cfg;
  auto model = load_model(ck, cfg);
  const DataShape& shape = ck.state().shape;
  auto& lp = require_capability<LatentProjection>(*model);
  const std::string dataset = cfg.get_string("data.dataset");
  Targets t = read_targets(r, cfg, shape);
  make_out_folder(r.out);
  ProjectReport rep;
  auto net = open_projection_features(r, dataset, rep.feature_path);
  say(net ? "feature network: " + rep.feature_path
          : "no feature network for " + dataset + ": matching pixels only (train one with duel features train)");
  require(!r.compare_train || net, "--compare-train needs a feature network for " + dataset, "pass --features NET");
  auto labels = projection_labels(*model, shape, t.images, r.cls, net.get(), dataset);
  rep.model = ck.model_name();
  rep.step = ck.state().step;
  rep.latent_space = lp.latent_space();
  rep.n = t.images.size(0);
  say("projecting " + std::to_string(rep.n) + " image(s) into " + rep.latent_space + " of " + rep.model + " (" +
      std::to_string(r.options.starts) + " starts x " + std::to_string(r.options.steps) + " steps)");
  Projection p = project_images(*model, t.images, labels, net.get(), r.options, [&](int64_t done, int64_t total) {
    say("  " + std::to_string(done) + "/" + std::to_string(total));
  });
  NearestTrain nearest;
  torch::Tensor train_images;
  if (r.compare_train) {
    train_images = resize_images(open_dataset(cfg, "train").images, shape.size, shape.channels);
    nearest = nearest_training_images(*net, t.images, train_images);
  }
  rep.mean_psnr = mean_of(p.psnr);
  if (p.feature_distance.defined()) rep.mean_feature_distance = mean_of(p.feature_distance);
  if (p.recognised.defined() && t.labels.defined() && net->identity().dataset == dataset)
    rep.right_class_share = mean_of(p.recognised.eq(t.labels));
  if (nearest.index.defined()) {
    rep.nearest_psnr = mean_of(nearest.psnr);
    rep.nearest_feature_distance = mean_of(nearest.feature_distance);
    rep.closer_than_nearest_share = mean_of(p.feature_distance.lt(nearest.feature_distance));
  }
  write_projection_files(r.out, t, p, nearest, train_images);
  rep.written = {r.out + "/projection.csv", r.out + "/latents.npy", r.out + "/pairs.png"};
  return rep;
}

}  // namespace duel
