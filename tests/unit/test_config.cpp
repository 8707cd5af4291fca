// Config: defaults, TOML parsing, --set, and rejection of bad keys/values.
#include <gtest/gtest.h>

#include "duel/core/config.h"
#include "duel/core/error.h"

using namespace duel;

static std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsAndSet) {
  Config c;
  EXPECT_EQ(c.get_int("train.batch_size"), 64);
  EXPECT_EQ(c.get_string("model.name"), "dcgan");
  c.set_from_string("train.steps=30");
  c.set_from_string("optim.g_lr=1e-3");
  c.set_from_string("data.drop_last=false");
  EXPECT_EQ(c.get_int("train.steps"), 30);
  EXPECT_DOUBLE_EQ(c.get_float("optim.g_lr"), 1e-3);
  EXPECT_FALSE(c.get_bool("data.drop_last"));
  EXPECT_TRUE(c.was_set("train.steps"));
}

TEST(Config, TomlRoundTrip) {
  Config c;
  c.set_from_string("data.dataset=folder:/tmp/x");
  c.set_from_string("train.label_smoothing=0.2");
  Config d = Config::from_string(c.to_toml(), "roundtrip");
  EXPECT_EQ(d.get_string("data.dataset"), "folder:/tmp/x");
  EXPECT_DOUBLE_EQ(d.get_float("train.label_smoothing"), 0.2);
  EXPECT_EQ(d.to_toml(), c.to_toml());
}

TEST(Config, RejectsUnknownKeysWrongTypesAndRanges) {
  Config c;
  EXPECT_NE(error_of([&] { c.set_from_string("train.stepz=3"); }).find("train.stepz"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set_from_string("train.steps=ten"); }).find("integer"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set_from_string("optim.g_lr=-1"); }).find("optim.g_lr"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set_from_string("train.batch_size=0"); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set_from_string("model.latent_dim=0"); }).find("model.latent_dim"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set_from_string("train.loss=magic"); }).find("not one of"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set_from_string("novalue"); }).find("section.key=value"), std::string::npos);
  EXPECT_NE(error_of([&] { c.set_from_string("data.dataset=folder:"); }).find("data.dataset"), std::string::npos);
  EXPECT_NE(error_of([] { Config::from_string("[train]\nsteps = \"x\"\n", "f.toml"); }).find("train.steps"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::from_string("[train\nsteps=1", "f.toml"); }).find("f.toml:"), std::string::npos);
  EXPECT_NE(error_of([] { Config::from_string("[train]\nsped = 1\n", "f.toml"); }).find("train.sped"),
            std::string::npos);
  EXPECT_NE(error_of([] { Config::from_file("/nonexistent/x.toml"); }).find("/nonexistent/x.toml"), std::string::npos);
}
