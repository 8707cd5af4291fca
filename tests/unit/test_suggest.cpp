// Nearest-name suggestions (include/duel/core/suggest.h): typos within reach
// get the intended name, unrelated words get none.
#include <gtest/gtest.h>

#include "duel/core/suggest.h"

using namespace duel;

TEST(Suggest, DistanceCountsASwapOfNeighboursAsOneEdit) {
  EXPECT_EQ(name_distance("train", "train"), 0u);
  EXPECT_EQ(name_distance("trian", "train"), 1u);
  EXPECT_EQ(name_distance("dcgn", "dcgan"), 1u);
  EXPECT_EQ(name_distance("", "abc"), 3u);
  EXPECT_EQ(name_distance("kitten", "sitting"), 3u);
}

TEST(Suggest, NearestWithinATyposReach) {
  const std::vector<std::string> keys = {"train.steps", "train.epochs", "train.log_every"};
  EXPECT_EQ(nearest_name("train.step", keys), "train.steps");
  EXPECT_EQ(nearest_name("TRAIN.STEPS", keys), "train.steps");
  EXPECT_EQ(nearest_name("model.name", keys), "");
  EXPECT_EQ(nearest_name("dcgn", {"dcgan", "wgan", "cgan"}), "dcgan");
  EXPECT_EQ(nearest_name("xyz", {"mlp"}), "");  // 3 edits for a 3-letter name: no suggestion
  EXPECT_EQ(did_you_mean("hinje", {"hinge", "minimax"}), "did you mean 'hinge'? ");
  EXPECT_EQ(did_you_mean("zzzzzz", {"hinge"}), "");
}
