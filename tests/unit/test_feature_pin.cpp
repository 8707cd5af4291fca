// Pins the committed feature network (features/fashion-mnist.duelfeat): every
// FID, KID and precision/recall figure in docs/ was measured through it, so a
// changed file must fail here (update the pin, and every figure, on purpose),
// and the network must still classify Fashion-MNIST's test set well enough
// for its features to mean something.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "duel/core/config.h"
#include "duel/data/dataset.h"
#include "duel/nn/feature_net.h"

using namespace duel;

namespace {
const std::string kNet = std::string(DUEL_SOURCE_DIR) + "/features/fashion-mnist.duelfeat";
// sha256sum features/fashion-mnist.duelfeat
const std::string kSha256 = "43f9d83e9e3428a8b06321615813c1aef418259bd3b7d2818bdda816239ce456";

std::string sha256_of(const std::string& path) {
  std::string out;
  if (FILE* p = ::popen(("sha256sum '" + path + "'").c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  return out.substr(0, out.find(' '));
}
}  // namespace

TEST(FeatureNetPin, FileHash) {
  ASSERT_TRUE(std::filesystem::exists(kNet)) << kNet;
  EXPECT_EQ(sha256_of(kNet), kSha256) << "features/fashion-mnist.duelfeat changed: every FID in docs/ was measured "
                                         "with the pinned file; re-measure them and update the pin together";
}

// All 10,000 test images (about 3 s on one thread).
TEST(FeatureNetPin, TestAccuracy) {
  Config cfg;
  cfg.set_from_string("data.dataset=fashion-mnist");
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true")
      FAIL() << "Fashion-MNIST missing under CI=true (install dataset-fashion-mnist)";
    GTEST_SKIP() << "Fashion-MNIST missing (install dataset-fashion-mnist)";
  }
  auto net = load_feature_extractor(kNet);
  ImageSet test = open_dataset(cfg, "test");
  ASSERT_EQ(test.size(), 10000);
  const auto t0 = std::chrono::steady_clock::now();
  const double acc = classifier_accuracy(*net, test.images, test.labels);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("feature network test accuracy %.4f on %lld images (%.1f s); recorded in the file: %.4f\n", acc,
              (long long)test.size(), secs, net->identity().accuracy);
  EXPECT_GE(acc, 0.92);
  // the accuracy the file records is the one measured here
  EXPECT_NEAR(acc, net->identity().accuracy, 5e-4);
}
