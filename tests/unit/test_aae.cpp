// The adversarial autoencoder: shapes at every supported size, one step
// updates E, G and D in the documented order, reconstructions improve on a
// toy batch, checkpoints restore it; the AUROC against hand-computed values
// and a brute-force pair count; the data.exclude_class filter.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/rng.h"
#include "duel/data/class_filter.h"
#include "duel/data/dataset.h"
#include "duel/metrics/auroc.h"
#include "duel/models/aae.h"
#include "duel/models/capabilities.h"

using namespace duel;

namespace {
Config aae_config() {
  Config c;
  c.set_from_string("model.name=aae");
  c.set_from_string("model.latent_dim=8");
  c.set_from_string("model.g_width=8");
  c.set_from_string("model.aae_e_width=8");
  c.set_from_string("model.aae_d_hidden=16");
  return c;
}
std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}
bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}
Aae& as_aae(GanModel& m) { return dynamic_cast<Aae&>(m); }
}  // namespace

class AaeShapes : public ::testing::TestWithParam<std::tuple<int64_t, int64_t>> {};

TEST_P(AaeShapes, EncodeDecodeScoreAndStep) {
  auto [size, channels] = GetParam();
  torch::manual_seed(0);
  auto model = create_model(aae_config(), DataShape{channels, size, 0});
  auto& aae = as_aae(*model);
  auto x = torch::rand({4, channels, size, size}) * 2 - 1;
  EXPECT_EQ(aae.encode(x).sizes(), torch::IntArrayRef({4, 8}));
  EXPECT_EQ(aae.reconstruct(x).sizes(), torch::IntArrayRef({4, channels, size, size}));
  auto z = require_capability<NoiseSampler>(*model).make_noise(3, torch::kCPU);
  EXPECT_EQ(z.sizes(), torch::IntArrayRef({3, 8}));
  auto s = require_capability<NoiseSampler>(*model).sample({z, {}});
  EXPECT_EQ(s.sizes(), torch::IntArrayRef({3, channels, size, size}));
  EXPECT_LE(s.abs().max().item<float>(), 1.0f);
  auto scores = require_capability<AnomalyScorer>(*model).anomaly_score(x);
  ASSERT_EQ(scores.sizes(), torch::IntArrayRef({4}));
  EXPECT_TRUE(torch::isfinite(scores).all().item<bool>());
  EXPECT_TRUE((scores >= 0).all().item<bool>());

  // One step on a toy batch: E, G and D all change; the scalars are named and finite.
  auto nets = model->nets();
  ASSERT_EQ(nets.size(), 3u);
  EXPECT_EQ(nets[0].first, "E");
  EXPECT_EQ(nets[1].first, "G");
  EXPECT_EQ(nets[2].first, "D");
  auto e0 = snapshot(*nets[0].second), g0 = snapshot(*nets[1].second), d0 = snapshot(*nets[2].second);
  StepContext ctx;
  auto scalars = model->step(Batch{x, {}, 0}, ctx);
  std::vector<std::string> names;
  for (auto& [k, v] : scalars) {
    names.push_back(k);
    EXPECT_TRUE(std::isfinite(v.item<double>())) << k;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"loss_recon", "loss_d", "loss_e", "d_real", "d_fake", "z_mean", "z_std"}));
  EXPECT_FALSE(same(e0, snapshot(*nets[0].second)));
  EXPECT_FALSE(same(g0, snapshot(*nets[1].second)));
  EXPECT_FALSE(same(d0, snapshot(*nets[2].second)));
}

INSTANTIATE_TEST_SUITE_P(Sizes, AaeShapes,
                         ::testing::Values(std::make_tuple(28, 1), std::make_tuple(32, 3), std::make_tuple(32, 1),
                                           std::make_tuple(64, 3)));

TEST(Aae, RejectsUnsupportedSizesAndImageStabilisers) {
  EXPECT_THROW(create_model(aae_config(), DataShape{1, 30, 0}), Error);
  auto cfg = aae_config();
  cfg.set_from_string("train.diffaug=translation");
  EXPECT_THROW(create_model(cfg, DataShape{1, 28, 0}), Error);
  auto model = create_model(aae_config(), DataShape{1, 28, 0});
  EXPECT_THROW(require_capability<AnomalyScorer>(*model).anomaly_score(torch::zeros({2, 3, 28, 28})), Error);  // wrong channels
}

TEST(Aae, PhasesRunInOrderAndTheRegularisationMovesOnlyE) {
  // With optim.g_lr = 0 neither the reconstruction nor the regularisation
  // update moves anything, so a change in E could only come from elsewhere:
  // E and G stay put, D (d_lr > 0) learns.
  auto cfg = aae_config();
  cfg.set_from_string("optim.g_lr=0");
  torch::manual_seed(3);
  auto model = create_model(cfg, DataShape{1, 28, 0});
  auto nets = model->nets();
  auto e0 = snapshot(*nets[0].second), g0 = snapshot(*nets[1].second), d0 = snapshot(*nets[2].second);
  std::vector<std::string> order;
  std::vector<torch::Tensor> d_grads;
  StepContext ctx;
  ctx.after_backward = [&](const std::string& net) {
    order.push_back(net);
    if (order.size() == 3)
      for (auto& p : nets[2].second->parameters()) d_grads.push_back(p.grad().clone());
    if (order.size() == 4) {
      // The E update's backward went through a frozen D without adding to D's gradients.
      auto params = nets[2].second->parameters();
      ASSERT_EQ(params.size(), d_grads.size());
      for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i].grad(), d_grads[i]));
      for (auto& p : nets[0].second->parameters()) EXPECT_TRUE(p.grad().defined());
    }
  };
  model->step(Batch{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0}, ctx);
  EXPECT_EQ(order, (std::vector<std::string>{"E", "G", "D", "E"}));
  EXPECT_TRUE(same(e0, snapshot(*nets[0].second)));
  EXPECT_TRUE(same(g0, snapshot(*nets[1].second)));
  EXPECT_FALSE(same(d0, snapshot(*nets[2].second)));
}

TEST(Aae, ReconstructionImprovesOnAToyBatch) {
  torch::manual_seed(4);
  auto cfg = aae_config();
  cfg.set_from_string("optim.g_lr=0.002");
  auto model = create_model(cfg, DataShape{1, 28, 0});
  // Bright squares of different sizes on a dark background.
  auto x = torch::full({8, 1, 28, 28}, -1.0f);
  for (int64_t i = 0; i < 8; ++i) x[i].slice(1, 14 - i - 3, 14 + i + 3).slice(2, 14 - i - 3, 14 + i + 3).fill_(1.0f);
  auto before = as_aae(*model).score_parts(x).recon.mean().item<double>();
  StepContext ctx;
  for (int i = 0; i < 40; ++i) model->step(Batch{x, {}, 0}, ctx);
  auto after = as_aae(*model).score_parts(x).recon.mean().item<double>();
  EXPECT_LT(after, 0.5 * before) << "before " << before << " after " << after;
}

TEST(Aae, ScoreKindsAndCheckpointRoundTrip) {
  torch::manual_seed(5);
  auto cfg = aae_config();
  auto model = create_model(cfg, DataShape{1, 28, 0});
  StepContext ctx;
  model->step(Batch{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0}, ctx);
  auto x = torch::rand({5, 1, 28, 28}) * 2 - 1;
  auto parts = as_aae(*model).score_parts(x);
  auto z = as_aae(*model).encode(x);
  // latent = 0.5 |z|^2 / L; recon = per-image MSE; combined = recon + w * latent.
  EXPECT_TRUE(torch::allclose(parts.latent, 0.5 * z.square().sum(1) / 8.0));
  EXPECT_TRUE(torch::allclose(parts.recon, (as_aae(*model).reconstruct(x) - x).square().mean({1, 2, 3})));
  EXPECT_TRUE(torch::allclose(require_capability<AnomalyScorer>(*model).anomaly_score(x), parts.recon + 0.1 * parts.latent));  // the default score
  auto cfg2 = cfg;
  cfg2.set_from_string("model.aae_score=recon");

  TrainState st;
  st.shape = DataShape{1, 28, 0};
  st.fixed_noise = torch::randn({4, 8});
  st.rng_state = get_rng_state();
  auto path = (std::filesystem::temp_directory_path() / "duel_test_aae.duel").string();
  Checkpoint::write(path, *model, cfg, st);
  auto ck = Checkpoint::read(path);
  EXPECT_EQ(ck.model_name(), "aae");
  torch::manual_seed(99);
  auto other = create_model(cfg2, st.shape);
  ck.restore(*other, true);
  auto a = model->nets(), b = other->nets();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(weights_digest(*a[i].second), weights_digest(*b[i].second));
  EXPECT_TRUE(torch::equal(require_capability<AnomalyScorer>(*other).anomaly_score(x), parts.recon));
  std::filesystem::remove(path);
}

TEST(Auroc, HandComputedValues) {
  // scikit-learn's roc_auc_score example: y = [0, 0, 1, 1], s = [0.1, 0.4, 0.35, 0.8] -> 0.75
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.4, 0.35, 0.8}, {false, false, true, true}), 0.75);
  // Perfect, reversed.
  EXPECT_DOUBLE_EQ(auroc({1, 2, 3, 4}, {false, false, true, true}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({4, 3, 2, 1}, {false, false, true, true}), 0.0);
  // All tied: every pair counts one half.
  EXPECT_DOUBLE_EQ(auroc({1, 1, 1, 1}, {true, false, true, false}), 0.5);
  // Positives {0.5, 0.9}, negatives {0.5, 0.2}: pairs 0.5~0.5 (1/2), 0.5>0.2, 0.9>0.5, 0.9>0.2 -> 3.5 / 4
  EXPECT_DOUBLE_EQ(auroc({0.5, 0.5, 0.2, 0.9}, {true, false, false, true}), 0.875);
  // Ranks with a tie across classes: s = [3, 1, 2, 2, 5], positives {2 (idx 2), 5}:
  // negatives {3, 1, 2}: 2 vs {3,1,2} -> 0 + 1 + 0.5; 5 vs all -> 3; U = 4.5 of 6
  EXPECT_DOUBLE_EQ(auroc({3, 1, 2, 2, 5}, {false, false, true, false, true}), 0.75);
}

TEST(Auroc, MatchesAPairCountWithManyTies) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 5 + int(rng() % 60);
    std::vector<double> s(static_cast<size_t>(n));
    std::vector<bool> pos(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      s[size_t(i)] = double(rng() % 5);  // many ties
      pos[size_t(i)] = (i == 0) || (i != 1 && rng() % 3 == 0);
    }
    double wins = 0, pairs = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (pos[size_t(i)] && !pos[size_t(j)]) {
          pairs += 1;
          wins += s[size_t(i)] > s[size_t(j)] ? 1.0 : s[size_t(i)] == s[size_t(j)] ? 0.5 : 0.0;
        }
    EXPECT_NEAR(auroc(s, pos), wins / pairs, 1e-12);
  }
}

TEST(Auroc, RejectsBadInput) {
  EXPECT_THROW(auroc({1, 2}, {true, true}), Error);                   // no negatives
  EXPECT_THROW(auroc({1, 2}, {false, false}), Error);                 // no positives
  EXPECT_THROW(auroc({1, 2, 3}, {true, false}), Error);               // lengths differ
  EXPECT_THROW(auroc({1, std::nan(""), 3}, {true, false, true}), Error);  // not finite
}

TEST(ClassFilter, KeepsOrderAndLabelSpace) {
  ImageSet s;
  s.images = torch::arange(6, torch::kUInt8).reshape({6, 1, 1, 1});
  s.labels = torch::tensor({0, 1, 2, 1, 0, 2}, torch::kInt64);
  s.num_classes = 3;
  s.class_names = {"a", "b", "c"};
  s.description = "toy";
  auto f = exclude_class(s, 1);
  EXPECT_TRUE(torch::equal(f.labels, torch::tensor({0, 2, 0, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(f.images.reshape({-1}), torch::tensor({0, 2, 4, 5}, torch::kUInt8)));
  EXPECT_EQ(f.num_classes, 3);
  EXPECT_EQ(f.class_names.size(), 3u);
  EXPECT_NE(f.description.find("without class 1 (b)"), std::string::npos) << f.description;
  auto all = exclude_class(s, -1);
  EXPECT_EQ(all.size(), 6);
  EXPECT_THROW(exclude_class(s, 3), Error);  // out of range
  ImageSet unlabelled;
  unlabelled.images = s.images;
  EXPECT_THROW(exclude_class(unlabelled, 0), Error);
  EXPECT_EQ(exclude_class(unlabelled, -1).size(), 6);
  ImageSet one = s;
  one.labels = torch::zeros({6}, torch::kInt64);
  EXPECT_THROW(exclude_class(one, 0), Error);  // nothing left
}

TEST(ClassFilter, OpenDatasetAppliesTheConfigKey) {
  // A raw IDX dataset of 10 images, labels i % 4.
  auto dir = std::filesystem::temp_directory_path() / "duel_test_class_filter";
  std::filesystem::create_directories(dir);
  auto be32 = [](std::string& s, uint32_t v) {
    for (int i = 3; i >= 0; --i) s.push_back(char((v >> (8 * i)) & 0xff));
  };
  std::string img, lab;
  be32(img, 0x803), be32(img, 10), be32(img, 2), be32(img, 2);
  be32(lab, 0x801), be32(lab, 10);
  for (int i = 0; i < 10; ++i) {
    img.append(4, char(i));
    lab.push_back(char(i % 4));
  }
  for (const char* split : {"train", "t10k"}) {
    std::ofstream(dir / (std::string(split) + "-images-idx3-ubyte"), std::ios::binary) << img;
    std::ofstream(dir / (std::string(split) + "-labels-idx1-ubyte"), std::ios::binary) << lab;
  }
  Config cfg;
  cfg.set_from_string("data.dataset=mnist");
  cfg.set("data.path", dir.string());
  EXPECT_EQ(open_dataset(cfg).size(), 10);
  cfg.set_from_string("data.exclude_class=2");
  auto s = open_dataset(cfg, "test");
  EXPECT_EQ(s.size(), 8);  // labels 2 at images 2 and 6
  EXPECT_FALSE(s.labels.eq(2).any().item<bool>());
  EXPECT_EQ(s.images[2][0][0][0].item<uint8_t>(), 3);
  cfg.set_from_string("data.exclude_class=10");
  EXPECT_THROW(open_dataset(cfg), Error);
  std::filesystem::remove_all(dir);
}
