// The evaluation pipeline (src/metrics/evaluate.cpp) against a known answer:
// which sets it compares, how many images each holds, and the floor.
//
// A tiny IDX dataset is written whose every image is one flat grey value, and
// a feature network that maps an image to its mean pixel value (0..255, an
// exact float) is injected through EvalRequest::extractor. A DCGAN checkpoint
// with every weight zeroed draws tanh(0) = 0 -> pixel 128 for every sample.
// For 1-D features the Frechet distance is, in closed form,
//   FID = (mu1 - mu2)^2 + (s1 - s2)^2   (s: unbiased standard deviations),
// computed here with plain loops from the values the test wrote. The test
// split holds more than n images, and the ones past n have another value, so
// a wrong slice, a wrong n, or the floor computed on the wrong split all
// change the answer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include "duel/apps/eval_checkpoint.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/rng.h"
#include "duel/metrics/evaluate.h"
#include "duel/models/model.h"

using namespace duel;
namespace fs = std::filesystem;

namespace {

// features: the mean pixel value of each image (1-D); no classifier head.
class MeanPixel : public FeatureExtractor {
 public:
  MeanPixel() {
    id_.kind = "test-mean-pixel";
    id_.path = "(test)";
    id_.hash = "0000000000000000";
    id_.feature_dim = 1;
    id_.input_channels = 1;
    id_.input_size = 28;
  }
  const FeatureIdentity& identity() const override { return id_; }

 protected:
  torch::Tensor prepare(const torch::Tensor& u8) override { return u8.to(torch::kFloat64); }
  Extracted forward_batch(const torch::Tensor& x) override {
    Extracted e;
    e.features = x.reshape({x.size(0), -1}).mean(1, /*keepdim=*/true).to(torch::kFloat32);
    return e;
  }

 private:
  FeatureIdentity id_;
};

void put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(char((v >> (8 * i)) & 0xff));
}

// Flat 28x28 images of the given grey values, as raw IDX files <dir>/<prefix>-{images-idx3,labels-idx1}-ubyte.
void write_idx(const fs::path& dir, const std::string& prefix, const std::vector<int>& values) {
  std::string img, lab;
  put32(img, 0x803);
  put32(img, uint32_t(values.size()));
  put32(img, 28);
  put32(img, 28);
  put32(lab, 0x801);
  put32(lab, uint32_t(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    img.append(28 * 28, char(values[i]));
    lab.push_back(char(i % 10));
  }
  std::ofstream(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary) << img;
  std::ofstream(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary) << lab;
}

// (mu1 - mu2)^2 + (s1 - s2)^2 with unbiased standard deviations, by hand.
double fid_1d(const std::vector<double>& a, const std::vector<double>& b) {
  auto stats = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m += x;
    m /= double(v.size());
    double ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    return std::make_pair(m, std::sqrt(ss / double(v.size() - 1)));
  };
  auto [ma, sa] = stats(a);
  auto [mb, sb] = stats(b);
  return (ma - mb) * (ma - mb) + (sa - sb) * (sa - sb);
}

}  // namespace

TEST(EvalPipeline, KnownFidForGeneratedAndFloor) {
  const int64_t n = 40;
  const fs::path dir = fs::temp_directory_path() / ("duel_test_eval_pipeline_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // test split: n reference images (values 60..138) then 20 more at 250, which must not be used;
  // train split: exactly n images (values 100..217), so the floor's random choice of n is all of them.
  std::vector<int> test_values, train_values;
  for (int i = 0; i < n; ++i) test_values.push_back(60 + 2 * i);
  for (int i = 0; i < 20; ++i) test_values.push_back(250);
  for (int i = 0; i < n; ++i) train_values.push_back(100 + 3 * i);
  write_idx(dir, "t10k", test_values);
  write_idx(dir, "train", train_values);

  Config cfg;
  for (std::string s : {"model.name=dcgan", "model.latent_dim=8", "model.g_width=8", "model.d_width=8",
                        "data.dataset=mnist"})
    cfg.set_from_string(s);
  cfg.set("data.path", dir.string());
  apply_model_defaults(cfg);
  torch::manual_seed(0);
  TrainState st;
  st.shape = DataShape{1, 28, 0};
  st.fixed_noise = torch::randn({4, 8});
  st.rng_state = get_rng_state();
  auto model = create_model(cfg, st.shape);
  {
    torch::NoGradGuard g;
    for (auto& [name, net] : model->nets())
      for (auto& p : net->parameters()) p.zero_();  // G draws tanh(0) = 0 -> pixel 128
  }
  const std::string ck = (dir / "checkpoints" / "latest.duel").string();
  fs::create_directories(dir / "checkpoints");
  Checkpoint::write(ck, *model, cfg, st);

  MeanPixel net;
  EvalRequest req;
  req.checkpoint = ck;
  req.extractor = &net;
  req.out_json = (dir / "eval.json").string();
  req.options.n = n;
  req.options.batch = 7;  // several batches, the last one partial
  EvalReport rep = evaluate_checkpoint(req);

  const std::vector<double> reference(test_values.begin(), test_values.begin() + n);
  const std::vector<double> train(train_values.begin(), train_values.end());
  const std::vector<double> generated(n, 128.0);
  const double want_gen = fid_1d(reference, generated);  // (99 - 128)^2 + s_ref^2
  const double want_floor = fid_1d(reference, train);
  ASSERT_TRUE(rep.has_floor);
  EXPECT_NEAR(rep.generated.fid, want_gen, 1e-9 * want_gen) << "generated vs the first n test images";
  EXPECT_NEAR(rep.floor.fid, want_floor, 1e-9 * want_floor) << "train (the floor) vs the first n test images";
  // the two answers differ, so swapping the sets would show
  EXPECT_GT(std::abs(want_gen - want_floor), 100.0);
  auto j = nlohmann::json::parse(rep.json);
  EXPECT_EQ(j["n"], n);
  EXPECT_DOUBLE_EQ(j["metrics"]["fid"].get<double>(), rep.generated.fid);
  EXPECT_DOUBLE_EQ(j["floor"]["fid"].get<double>(), rep.floor.fid);
  fs::remove_all(dir);
}
