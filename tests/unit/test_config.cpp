// Config: defaults, TOML parsing, --set, and rejection of bad keys/values.
#include <gtest/gtest.h>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "error_of.h"

using namespace duel;

using duel::test::error_of;

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

// The resolved config lists the keys read (through any copy) and those set,
// nothing else; floats come out in their shortest round-trip form.
TEST(Config, ResolvedTomlHoldsReadAndSetKeysOnly) {
  Config c;
  c.set_from_string("optim.g_lr=0.0003");
  c.set_from_string("train.label_smoothing=0.3");
  const Config copy = c;  // parts read through copies of the run's config
  EXPECT_EQ(copy.get_int("train.batch_size"), 64);
  EXPECT_TRUE(c.was_read("train.batch_size"));
  EXPECT_FALSE(c.was_read("train.steps"));
  const std::string text = c.to_toml();
  EXPECT_NE(text.find("[optim]\ng_lr = 0.0003\n"), std::string::npos) << text;
  EXPECT_NE(text.find("label_smoothing = 0.3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("batch_size = 64\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("steps"), std::string::npos) << text;     // neither read nor set
  EXPECT_EQ(text.find("aae_"), std::string::npos) << text;      // another model's keys
  EXPECT_EQ(text.find("0.2999"), std::string::npos) << text;    // not 0.29999999999999999
  EXPECT_TRUE(c.is_default("train.batch_size"));
  EXPECT_FALSE(c.is_default("optim.g_lr"));
}

TEST(Config, ResolvedTomlRoundTripsFloatsAndStrings) {
  Config c;
  c.set("optim.g_lr", 1e-5);
  c.set("optim.d_beta1", 1e-9);  // exponent form where plain notation would be long
  c.set("train.label_flip", 0.1);
  c.set("optim.d_lr", 2.0);  // an integral float stays a float
  c.set("data.path", std::string("dir with \"quotes\", \\ and \t tab\n\x01"));
  const std::string text = c.to_toml();
  EXPECT_NE(text.find("d_lr = 2.0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g_lr = 0.00001\n"), std::string::npos) << text;
  EXPECT_NE(text.find("label_flip = 0.1\n"), std::string::npos) << text;
  Config d = Config::from_string(text, "roundtrip");
  EXPECT_EQ(d.get_float("optim.g_lr"), 1e-5);
  EXPECT_EQ(d.get_float("optim.d_lr"), 2.0);
  EXPECT_EQ(d.get_float("optim.d_beta1"), 1e-9);
  EXPECT_NE(text.find("d_beta1 = 1e-09\n"), std::string::npos) << text;
  EXPECT_EQ(d.get_float("train.label_flip"), 0.1);
  EXPECT_EQ(d.get_string("data.path"), c.get_string("data.path"));
  EXPECT_EQ(Config::from_string(text, "again").to_toml(), text);
}

// A run folder written before the resolved config was trimmed (every key,
// 17-digit floats) loads with the same values.
TEST(Config, OldFullConfigLoads) {
  const std::string old_text =
      "# duel resolved config: every key, enough to rerun this run\n"
      "[optim]\nd_lr = 0.00020000000000000001\ng_beta1 = 0.5\n[train]\nlabel_smoothing = 0.29999999999999999\n"
      "steps = 30\n[model]\nname = \"dcgan\"\naae_recon_weight = 1.0\n";
  Config c = Config::from_string(old_text, "old/config.toml");
  EXPECT_EQ(c.get_float("optim.d_lr"), 2e-4);
  EXPECT_EQ(c.get_float("train.label_smoothing"), 0.3);
  EXPECT_EQ(c.get_int("train.steps"), 30);
  EXPECT_NE(c.to_toml().find("d_lr = 0.0002\n"), std::string::npos);
}
