// `duel judge`: a discriminator's scores of images and its AUROC; see judge.h.
#include "duel/apps/judge.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "duel/apps/model_loading.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/metrics/auroc.h"
#include "duel/models/capabilities.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

// The images of a folder (or one image file) at the model's size and channels, with their paths.
torch::Tensor read_folder(const std::string& path, const std::string& flag, const DataShape& shape,
                          std::vector<std::string>& files) {
  require(fs::exists(path), flag + " '" + path + "' does not exist", "pass a folder of PNG, JPEG or BMP images");
  files = fs::is_directory(path) ? list_image_files(path) : std::vector<std::string>{path};
  require(!files.empty(), flag + " '" + path + "' holds no PNG, JPEG or BMP image", "pass a folder of images");
  return read_image_files(files, shape.size, shape.channels);
}

torch::Tensor generated(GanModel& model, const DataShape& shape, int64_t n, uint64_t seed, int64_t batch,
                        torch::Tensor& classes) {
  auto& noise = require_capability<NoiseSampler>(model);
  torch::manual_seed(seed);
  std::vector<torch::Tensor> parts, labels;
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t m = std::min(batch, n - i);
    SampleRequest req{noise.make_noise(m, torch::kCPU), {}};
    if (model.needs_labels()) {
      labels.push_back(torch::arange(i, i + m, torch::kInt64).remainder(shape.num_classes));
      req.labels = labels.back();
    }
    parts.push_back(quantise(noise.sample(req)));
  }
  if (!labels.empty()) classes = torch::cat(labels);
  return torch::cat(parts);
}

std::string csv_of(const JudgeReport& rep) {
  std::ostringstream o;
  o << "set,index,file,class,score\n" << std::setprecision(8);
  for (const auto& s : rep.sets)
    for (int64_t i = 0; i < s.scores.size(0); ++i)
      o << s.name << "," << i << "," << (s.files.empty() ? "" : s.files[size_t(i)]) << ","
        << (s.classes.defined() ? std::to_string(s.classes[i].item<int64_t>()) : "") << ","
        << s.scores[i].item<double>() << "\n";
  return o.str();
}

void check_request(const JudgeRequest& r) {
  const bool real = !r.real_dir.empty() || r.real_test > 0, fake = !r.fake_dir.empty() || r.fake_samples > 0;
  require(r.real_dir.empty() || r.real_test == 0, "--real and --real-test both name the real images", "pass one");
  require(r.fake_dir.empty() || r.fake_samples == 0, "--fake and --fake-samples both name the fake images", "pass one");
  require(real == fake, std::string("--") + (real ? "real" : "fake") + " needs its counterpart",
          "give both --real DIR (or --real-test N) and --fake DIR (or --fake-samples N) for the AUROC");
  require(r.in.empty() || !real, "--in scores one folder; --real/--fake compare two", "pass --in, or --real and --fake");
  require(!r.in.empty() || real, "nothing to judge", "pass --in DIR, or --real DIR --fake DIR");
  require(r.batch >= 1, "--batch must be at least 1", "256 is the default");
}

// The request's --domain, checked against the model's discriminators.
const std::string& judge_domain(const ImageJudge& judge, const GanModel& model, const JudgeRequest& r) {
  const auto domains = judge.judge_domains();
  if (domains.size() == 1) {
    require(r.domain.empty(), "--domain is for models with a discriminator per domain; '" + model.name() + "' has one",
            "drop --domain");
    return r.domain;
  }
  std::string names;
  for (const auto& d : domains) names += (names.empty() ? "" : ", ") + d;
  require(std::find(domains.begin(), domains.end(), r.domain) != domains.end(),
          (r.domain.empty() ? "'" + model.name() + "' has a discriminator per domain"
                            : "--domain '" + r.domain + "' is not one of " + model.name() + "'s") +
              " (" + names + ")",
          "pass --domain " + domains.front() + " to judge " + domains.front() + " images with D_" + domains.front());
  require(r.real_test == 0, "--real-test reads the dataset's test images, which are not one domain's",
          "pass --real DIR with real " + r.domain + " images");
  return r.domain;
}

}  // namespace

torch::Tensor judge_scores(GanModel& model, int64_t num_classes, const torch::Tensor& images, int64_t cls, int64_t batch,
                           torch::Tensor* classes, const std::string& domain) {
  auto& judge = require_capability<ImageJudge>(model);
  std::vector<torch::Tensor> scores, best;
  for (int64_t at = 0; at < images.size(0); at += batch) {
    auto x = to_unit_range(images.slice(0, at, std::min(images.size(0), at + batch)));
    if (!judge.judge_needs_labels()) {
      scores.push_back(judge.judge(x, {}, domain).to(torch::kFloat64));
      continue;
    }
    // cls, or every class with the most real one kept
    const int64_t k = cls >= 0 ? 1 : num_classes;
    std::vector<torch::Tensor> per;
    for (int64_t c = 0; c < k; ++c)
      per.push_back(
          judge.judge(x, torch::full({x.size(0)}, cls >= 0 ? cls : c, torch::kInt64), domain).to(torch::kFloat64));
    auto [value, index] = torch::stack(per, 1).max(1);
    scores.push_back(value);
    best.push_back(cls >= 0 ? torch::full_like(index, cls) : index);
  }
  if (classes && !best.empty()) *classes = torch::cat(best);
  return torch::cat(scores);
}

JudgeReport judge_images(const JudgeRequest& r, const std::function<void(const std::string&)>& info) {
  check_request(r);
  Checkpoint ck = Checkpoint::read(r.checkpoint);
  Config cfg;
  auto model = load_model(ck, cfg);
  auto& judge = require_capability<ImageJudge>(*model);
  DataShape shape = ck.state().shape;
  shape.channels = judge.judge_channels(judge_domain(judge, *model, r));
  require(r.cls < 0 || (model->needs_labels() && r.cls < shape.num_classes),
          model->needs_labels() ? "--class " + std::to_string(r.cls) + " is out of range (0 to " +
                                      std::to_string(shape.num_classes - 1) + ")"
                                : "--class is for conditional models; '" + model->name() + "' has no classes",
          "drop --class or pick one of the model's classes");
  JudgeReport rep;
  rep.model = ck.model_name();
  rep.step = ck.state().step;
  auto add = [&](const std::string& name, const std::string& source, torch::Tensor images,
                 std::vector<std::string> files) {
    JudgeReport::Set s{name, source, std::move(files), {}, {}};
    s.scores = judge_scores(*model, shape.num_classes, images, r.cls, r.batch, &s.classes, r.domain);
    if (info) info(name + ": " + std::to_string(images.size(0)) + " images of " + source);
    rep.sets.push_back(std::move(s));
  };
  std::vector<std::string> files;
  if (!r.in.empty()) {
    auto images = read_folder(r.in, "--in", shape, files);
    add("in", r.in, images, files);
  } else {
    if (r.real_test > 0) {
      add("real", cfg.get_string("data.dataset") + " test",
          first_test_images(cfg, shape, r.real_test, "--real-test").images, {});
    } else {
      auto images = read_folder(r.real_dir, "--real", shape, files);
      add("real", r.real_dir, images, files);
    }
    if (r.fake_samples > 0) {
      torch::Tensor classes;
      auto images = generated(*model, shape, r.fake_samples, r.seed, r.batch, classes);
      add("fake", rep.model + " samples (seed " + std::to_string(r.seed) + ")", images, {});
    } else {
      auto images = read_folder(r.fake_dir, "--fake", shape, files);
      add("fake", r.fake_dir, images, files);
    }
    std::vector<double> scores;
    std::vector<bool> positive;
    for (const auto& s : rep.sets)
      for (int64_t i = 0; i < s.scores.size(0); ++i) {
        scores.push_back(s.scores[i].item<double>());
        positive.push_back(s.name == "real");
      }
    rep.auroc = auroc(scores, positive);
  }
  if (!r.out_csv.empty()) {
    write_file_atomic(r.out_csv, csv_of(rep));
    rep.csv_path = r.out_csv;
  }
  return rep;
}

}  // namespace duel
