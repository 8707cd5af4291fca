// Text-to-image: tokeniser, vocabulary, captions files, derived captions, the
// loader's caption draws and the text2img model's matching-aware loss.
#include <gtest/gtest.h>
#include <torch/nn/functional/activation.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/loader.h"
#include "duel/data/text.h"
#include "duel/models/capabilities.h"
#include "duel/models/text2img.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace duel;
using namespace duel::test;
using duel::test::scalar;
using duel::test::snapshot;
using duel::test::same;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return std::string(e.what()) + " | " + e.hint();
  }
  return "";
}

std::string write_temp(const std::string& name, const std::string& text) {
  auto p = fs::temp_directory_path() / ("duel-text-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << text;
  return p.string();
}

}  // namespace

TEST(Tokenizer, LowercasesSplitsOnPunctuationAndKeepsInnerHyphens) {
  EXPECT_EQ(tokenize("A Dark, LONG-sleeved pullover!"),
            (std::vector<std::string>{"a", "dark", "long-sleeved", "pullover"}));
  EXPECT_EQ(tokenize("  --dark--  \t(light);coat: 2 "), (std::vector<std::string>{"dark", "light", "coat", "2"}));
  EXPECT_EQ(tokenize("t-shirt/top"), (std::vector<std::string>{"t-shirt", "top"}));
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize(" ,.;:!? - -- ").empty());
  // UTF-8 bytes stay inside words (and are not lowercased).
  EXPECT_EQ(tokenize("Caf\xC3\xA9 noir"), (std::vector<std::string>{"caf\xC3\xA9", "noir"}));
}

TEST(Tokenizer, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
  EXPECT_EQ(edit_distance("", "abc"), 3);
  EXPECT_EQ(edit_distance("pullover", "pullover"), 0);
  EXPECT_EQ(edit_distance("pulover", "pullover"), 1);
}

TEST(Vocabulary, SortedIdsEncodeAndErrors) {
  auto v = Vocabulary::build({"a dark pullover", "A light Coat.", "the coat is dark"});
  EXPECT_EQ(v.words(), (std::vector<std::string>{"<pad>", "a", "coat", "dark", "is", "light", "pullover", "the"}));
  EXPECT_EQ(v.id("coat"), 2);
  EXPECT_EQ(v.id("jacket"), 0);
  EXPECT_EQ(v.id("<pad>"), 0);
  // Case and punctuation do not matter; padding fills the rest.
  EXPECT_EQ(v.encode("The COAT, is... dark!", 6), (std::vector<int64_t>{7, 2, 4, 3, 0, 0}));
  EXPECT_EQ(v.decode(torch::tensor({7, 2, 0, 0}, torch::kInt64)), "the coat");

  auto empty = error_of([&] { v.encode("", 6); });
  EXPECT_NE(empty.find("the prompt is empty"), std::string::npos) << empty;
  EXPECT_NE(error_of([&] { v.encode(" ?! ", 6); }).find("empty"), std::string::npos);
  auto unknown = error_of([&] { v.encode("a dark pullovr", 6); });
  EXPECT_NE(unknown.find("unknown word 'pullovr'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("nearest known words: pullover"), std::string::npos) << unknown;
  auto too_long = error_of([&] { v.encode("a dark coat is the coat", 4); });
  EXPECT_NE(too_long.find("6 words; the model reads at most 4"), std::string::npos) << too_long;

  EXPECT_EQ(v.nearest("dar", 2), (std::vector<std::string>{"dark", "a"}));
  EXPECT_EQ(Vocabulary::from_words(v.words()).words(), v.words());
  EXPECT_THROW(Vocabulary::from_words({"<pad>", "dark", "coat"}), Error);  // not sorted
  EXPECT_THROW(Vocabulary::from_words({"dark"}), Error);                   // no padding
}

TEST(Captions, ReadsAFileAndRefusesBadOnes) {
  const std::vector<std::string> ids{"0", "1", "2"};
  auto good = write_temp("good.tsv", "# comment\n0\ta dark coat\n\n1\tthe light coat\r\n0\tdark coat, long\n2\tcoat\n");
  auto cs = read_captions(good, ids, 5);
  EXPECT_EQ(cs.length, 5);
  EXPECT_EQ(cs.vocabulary.size(), 7);  // pad a coat dark light long the
  EXPECT_TRUE(torch::equal(cs.offsets, torch::tensor({0, 2, 3, 4}, torch::kInt64)));
  EXPECT_EQ(cs.vocabulary.decode(cs.tokens[1]), "dark coat long");
  EXPECT_EQ(cs.vocabulary.decode(cs.first_caption(torch::tensor({1}, torch::kInt64))[0]), "the light coat");
  // select keeps each image's captions in order.
  auto sub = cs.select(torch::tensor({2, 0}, torch::kInt64));
  EXPECT_TRUE(torch::equal(sub.offsets, torch::tensor({0, 1, 3}, torch::kInt64)));
  EXPECT_EQ(sub.vocabulary.decode(sub.tokens[0]), "coat");

  auto msg = error_of([&] { read_captions("/nonexistent/captions.tsv", ids, 5); });
  EXPECT_NE(msg.find("cannot open the captions file '/nonexistent/captions.tsv'"), std::string::npos) << msg;
  auto no_tab = write_temp("notab.tsv", "0\ta coat\n1 a coat\n");
  msg = error_of([&] { read_captions(no_tab, ids, 5); });
  EXPECT_NE(msg.find("line 2: no tab"), std::string::npos) << msg;
  auto range = write_temp("range.tsv", "0\ta coat\n1\ta coat\n2\ta coat\n3\ta coat\n");
  msg = error_of([&] { read_captions(range, ids, 5); });
  EXPECT_NE(msg.find("line 4: image id '3' is out of range: the split has 3 images"), std::string::npos) << msg;
  auto wordless = write_temp("wordless.tsv", "0\t ... \n");
  EXPECT_NE(error_of([&] { read_captions(wordless, ids, 5); }).find("line 1: the caption has no words"),
            std::string::npos);
  auto missing = write_temp("missing.tsv", "0\ta coat\n2\ta coat\n");
  msg = error_of([&] { read_captions(missing, ids, 5); });
  EXPECT_NE(msg.find("leaves 1 of 3 images without a caption (the first: id '1')"), std::string::npos) << msg;
  auto longer = write_temp("long.tsv", "0\ta b c d e f\n");
  EXPECT_NE(error_of([&] { read_captions(longer, ids, 5); }).find("6 words, more than data.caption_tokens = 5"),
            std::string::npos);
  auto folder = write_temp("folder.tsv", "coats/1.png\ta coat\nshirts/9.png\ta shirt\n");
  msg = error_of([&] { read_captions(folder, {"coats/1.png"}, 5); });
  EXPECT_NE(msg.find("line 2: image id 'shirts/9.png' names no image"), std::string::npos) << msg;
  for (auto& p : {good, no_tab, range, wordless, missing, longer, folder}) fs::remove(p);
}

TEST(Captions, GarmentAttributesFollowThePixels) {
  // Four images of one class: black, a dim wide blob, a bright narrow tall blob, a mid one.
  auto img = torch::zeros({4, 1, 28, 28}, torch::kUInt8);
  img[1].slice(1, 12, 16).slice(2, 2, 26).fill_(60);    // dim, wide, short
  img[2].slice(1, 2, 26).slice(2, 12, 16).fill_(250);   // bright, narrow, long
  img[3].slice(1, 8, 20).slice(2, 8, 20).fill_(150);    // in between
  auto labels = torch::zeros({4}, torch::kInt64);
  std::vector<GarmentMeasure> m;
  std::vector<GarmentWords> w;
  describe_garments(img, labels, 10, m, w);
  EXPECT_EQ(m[0].intensity, 0.0);  // no garment at all
  EXPECT_NEAR(m[2].intensity, 250.0 / 255.0, 1e-9);
  EXPECT_TRUE(w[0].dark);
  EXPECT_TRUE(w[1].dark);
  EXPECT_FALSE(w[2].dark);
  EXPECT_TRUE(w[1].wide);
  EXPECT_FALSE(w[2].wide);
  EXPECT_TRUE(w[2].long_);
  EXPECT_FALSE(w[1].long_);
  // A checkerboard garment has more edges than a flat one of the same extent.
  auto checker = torch::zeros({2, 1, 28, 28}, torch::kUInt8);
  checker[0].slice(1, 6, 22).slice(2, 6, 22).fill_(200);
  for (int y = 6; y < 22; ++y)
    for (int x = 6; x < 22; ++x) checker[1][0][y][x] = ((x + y) % 2) ? 250 : 100;
  EXPECT_GT(measure_garment(checker[1]).edges, measure_garment(checker[0]).edges + 0.2);
}

TEST(Captions, DeterministicPerSeedAndHeldOutPhrasingsAreNewSentencesOfKnownWords) {
  torch::manual_seed(3);
  auto img = (torch::rand({40, 1, 28, 28}) * 255).to(torch::kUInt8);
  auto labels = torch::arange(40, torch::kInt64).remainder(10);
  const auto a = fashion_captions_tsv(img, labels, 3, Phrasings::Train, 7);
  EXPECT_EQ(a, fashion_captions_tsv(img, labels, 3, Phrasings::Train, 7));
  EXPECT_NE(a, fashion_captions_tsv(img, labels, 3, Phrasings::Train, 8));
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 120);
  EXPECT_EQ(a.substr(0, 2), "0\t");

  // Many captions of every class and attribute mix, in both phrasing sets.
  std::mt19937_64 rng(1);
  std::vector<std::string> train;
  std::set<std::string> train_set;
  for (int i = 0; i < 4000; ++i) {
    GarmentWords w{bool(i & 1), bool(i & 2), bool(i & 4), bool(i & 8)};
    train.push_back(compose_caption(i % 10, w, Phrasings::Train, rng));
    train_set.insert(train.back());
  }
  auto vocab = Vocabulary::build(train);
  for (int i = 0; i < 4000; ++i) {
    GarmentWords w{bool(i & 1), bool(i & 2), bool(i & 4), bool(i & 8)};
    const auto held = compose_caption(i % 10, w, Phrasings::HeldOut, rng);
    EXPECT_EQ(train_set.count(held), 0u) << held;   // a sentence training never shows
    EXPECT_NO_THROW(vocab.encode(held, 16)) << held;  // made of words it does
  }
  // Captions name the class and only the image's own attribute words.
  GarmentWords dark_long{true, false, true, false};
  for (int i = 0; i < 50; ++i) {
    const auto c = compose_caption(2, dark_long, Phrasings::Train, rng);
    const auto t = tokenize(c);
    EXPECT_NE(std::find(t.begin(), t.end(), "pullover"), t.end()) << c;
    for (const char* wrong : {"light", "wide", "short", "patterned"})
      EXPECT_EQ(std::find(t.begin(), t.end(), wrong), t.end()) << c;
  }
}

TEST(Captions, LoaderDrawsOneOfEachImagesCaptionsDeterministically) {
  ImageSet s;
  s.images = torch::arange(8, torch::kUInt8).reshape({8, 1, 1, 1}).expand({8, 1, 2, 2}).contiguous();
  std::string tsv;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 3; ++j) tsv += std::to_string(i) + "\tw" + std::to_string(i) + " v" + std::to_string(j) + "\n";
  auto path = write_temp("loader.tsv", tsv);
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(std::to_string(i));
  s.captions = read_captions(path, ids, 4);
  fs::remove(path);
  LoaderOptions o;
  o.batch_size = 4;
  o.prefetch = 0;
  o.seed = 5;
  Loader a(s, o);
  std::vector<torch::Tensor> texts;
  std::set<std::string> seen;
  for (int k = 0; k < 6; ++k) {
    Batch b = a.next();
    ASSERT_TRUE(b.text.defined());
    ASSERT_EQ(b.text.sizes(), torch::IntArrayRef({4, 4}));
    for (int i = 0; i < 4; ++i) {
      // The caption belongs to the image: its first word is w<pixel value>.
      const auto words = tokenize(s.captions.vocabulary.decode(b.text[i]));
      const int pixel = int(((b.images[i][0][0][0].item<float>() + 1) * 127.5) + 0.5);
      EXPECT_EQ(words[0], "w" + std::to_string(pixel));
      seen.insert(words[1]);
    }
    texts.push_back(b.text);
  }
  EXPECT_EQ(seen.size(), 3u);  // every caption gets drawn
  // A loader resumed at batch 3 draws the same captions; a prefetching one too.
  Loader b(s, o);
  b.seek({1, 1});
  for (int k = 3; k < 6; ++k) EXPECT_TRUE(torch::equal(b.next().text, texts[size_t(k)]));
  o.prefetch = 2;
  Loader c(s, o);
  for (int k = 0; k < 6; ++k) EXPECT_TRUE(torch::equal(c.next().text, texts[size_t(k)]));
}

namespace {

std::unique_ptr<GanModel> tiny_text2img(double interp = 1.0, const std::string& pool = "mean") {
  Config c;
  c.set_from_string("model.name=text2img");
  c.set_from_string("model.latent_dim=8");
  c.set_from_string("model.g_width=8");
  c.set_from_string("model.d_width=8");
  c.set_from_string("model.word_dim=8");
  c.set_from_string("model.text_dim=16");
  c.set_from_string("model.text_cond=8");
  c.set("model.text_interp_weight", interp);
  c.set("model.text_pool", pool);
  c.set("model.word_dropout", 0.2);
  DataShape shape{1, 28, 0};
  shape.vocabulary = Vocabulary::build({"a dark coat", "a light bag", "the long dress"}).words();
  shape.text_length = 4;
  return create_model(c, shape);
}

torch::Tensor texts() {  // 4 captions of the vocabulary above: ids 1..8
  return torch::tensor({1, 3, 2, 0, 1, 5, 0, 0, 7, 6, 4, 0, 8, 2, 0, 0}, torch::kInt64).reshape({4, 4});
}

}  // namespace

TEST(Text2Img, MismatchPermutationHasNoFixedPoints) {
  torch::manual_seed(0);
  for (int64_t n : {2, 3, 5, 64}) {
    for (int rep = 0; rep < 20; ++rep) {
      auto p = mismatch_permutation(n);
      EXPECT_TRUE(torch::equal(std::get<0>(p.sort()), torch::arange(n, torch::kInt64)));
      EXPECT_FALSE(p.eq(torch::arange(n, torch::kInt64)).any().item<bool>());
    }
  }
  EXPECT_THROW(mismatch_permutation(1), Error);
}

TEST(Text2Img, WordDropoutOnlyBlanksWordsAndKeepsOnePerCaption) {
  torch::manual_seed(5);
  auto ids = texts();
  EXPECT_TRUE(torch::equal(drop_words(ids, 0.0), ids));
  int64_t dropped = 0;
  for (int rep = 0; rep < 50; ++rep) {
    auto d = drop_words(ids, 0.6);
    // Every kept id is the original one; padding stays padding; no caption is left empty.
    EXPECT_TRUE(torch::logical_or(d.eq(ids), d.eq(0)).all().item<bool>());
    EXPECT_TRUE(d.masked_select(ids.eq(0)).eq(0).all().item<bool>());
    EXPECT_TRUE(d.gt(0).sum(1).ge(1).all().item<bool>());
    dropped += (ids.gt(0).sum() - d.gt(0).sum()).item<int64_t>();
  }
  // Expected per draw: a 2-word caption loses 2 * 0.6 - 2 * 0.6^2 = 0.48 words (it is kept whole when
  // both would go), a 3-word one 3 * 0.6 - 3 * 0.6^3 = 1.152; two of each: 3.264, so ~163 in 50 draws.
  EXPECT_GT(dropped, 130);
  EXPECT_LT(dropped, 200);
}

TEST(Text2Img, MatchingAwareLossWeighsTheThreePairs) {
  auto rm = torch::tensor({{1.0}, {2.0}}), rw = torch::tensor({{0.5}, {-1.0}}), f = torch::tensor({{-2.0}, {0.3}});
  auto t = torch::ones({2});
  namespace F = torch::nn::functional;
  const double want = F::softplus(-rm).mean().item<double>() +
                      0.5 * (F::softplus(rw).mean().item<double>() + F::softplus(f).mean().item<double>());
  EXPECT_NEAR(matching_aware_d_loss(GanLoss::NonSaturating, rm, rw, f, t).item<double>(), want, 1e-6);
  // The mismatched term counts: raising D's score of mismatched pairs raises the loss.
  EXPECT_GT(matching_aware_d_loss(GanLoss::NonSaturating, rm, rw + 3, f, t).item<double>(), want + 0.5);
}

TEST(Text2Img, DiscriminatorScoresShuffledTextsAsTheMismatchedPairs) {
  torch::manual_seed(1);
  auto model = tiny_text2img();
  auto& t2i = dynamic_cast<Text2ImgModel&>(*model);
  for (auto& [name, net] : model->nets()) net->eval();  // BatchNorm on running stats: scores per image
  auto real = torch::rand({4, 1, 28, 28}) * 2 - 1, fake = torch::rand({4, 1, 28, 28}) * 2 - 1;
  auto text = texts();
  auto identity = torch::arange(4, torch::kInt64);
  auto perm = torch::tensor({2, 0, 3, 1}, torch::kInt64);
  torch::NoGradGuard no_grad;
  auto same_text = t2i.score_pairs(real, fake, text, identity);
  // With no mismatch, the "mismatched" pairs are the matched ones.
  EXPECT_TRUE(torch::allclose(same_text.real_mismatch, same_text.real_match));
  auto s = t2i.score_pairs(real, fake, text, perm);
  // The mismatched pairs are the real images with the shuffled captions...
  auto shuffled = t2i.score_pairs(real, fake, text.index_select(0, perm), identity);
  EXPECT_TRUE(torch::allclose(s.real_mismatch, shuffled.real_match, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(s.real_match, same_text.real_match));
  EXPECT_FALSE(torch::allclose(s.real_mismatch, s.real_match));
  // ...and they enter the loss as fakes.
  auto targets = torch::ones({4});
  EXPECT_NEAR(s.loss.item<double>(),
              matching_aware_d_loss(GanLoss::NonSaturating, s.real_match, s.real_mismatch, s.fake_match, targets)
                  .item<double>(),
              1e-6);
  EXPECT_NE(s.loss.item<double>(), same_text.loss.item<double>());
}

class Text2ImgPools : public ::testing::TestWithParam<std::string> {};

TEST_P(Text2ImgPools, StepTrainsAllThreeNetsAndReportsTheMismatchedPairs) {
  torch::manual_seed(2);
  auto model = tiny_text2img(1.0, GetParam());
  auto nets = model->nets();
  ASSERT_EQ(nets.size(), 3u);
  EXPECT_EQ(nets[2].first, "E");
  std::vector<std::vector<torch::Tensor>> before;
  for (auto& [n, net] : nets) before.push_back(snapshot(*net));
  StepContext ctx;
  std::vector<std::string> order;
  ctx.after_backward = [&](const std::string& net) {
    order.push_back(net);
    if (net == "E")  // E learns from D's loss: its gradients are ready before D's optimizer steps
      for (auto& p : nets[2].second->parameters()) EXPECT_TRUE(p.grad().defined());
  };
  Batch b{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0};
  b.text = texts();
  auto out = model->step(b, ctx);
  EXPECT_EQ(order, (std::vector<std::string>{"D", "E", "G"}));
  for (size_t i = 0; i < nets.size(); ++i) EXPECT_FALSE(same(before[i], snapshot(*nets[i].second))) << nets[i].first;
  for (const char* k : {"loss_d", "loss_g", "d_real", "d_mismatch", "d_fake", "loss_g_int"})
    EXPECT_TRUE(std::isfinite(scalar(out, k))) << k;
  // Without captions the step refuses clearly.
  Batch bare{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0};
  EXPECT_THROW(model->step(bare, ctx), Error);
}

INSTANTIATE_TEST_SUITE_P(MeanAndMax, Text2ImgPools, ::testing::Values("mean", "max"));

TEST(Text2Img, SamplesFromTextAndInterpolatesEmbeddings) {
  torch::manual_seed(4);
  auto model = tiny_text2img(0.0);
  auto z = sampler_of(*model).make_noise(4, torch::kCPU);
  EXPECT_THROW(sampler_of(*model).sample({z, {}}), Error);
  SampleRequest a{z, {}};
  a.text = texts();
  auto xa = sampler_of(*model).sample(a);
  EXPECT_EQ(xa.sizes(), torch::IntArrayRef({4, 1, 28, 28}));
  SampleRequest b{z, {}};
  b.text = texts().flip({0});
  auto xb = sampler_of(*model).sample(b);
  EXPECT_FALSE(torch::allclose(xa, xb));  // the text matters
  SampleRequest walk{z, {}};
  walk.text = a.text;
  walk.text_to = b.text;
  walk.text_mix = torch::tensor({0.0, 1.0, 0.0, 1.0});
  auto xw = sampler_of(*model).sample(walk);
  for (int64_t i : {0, 2}) EXPECT_TRUE(torch::allclose(xw[i], xa[i], 1e-5, 1e-5));
  for (int64_t i : {1, 3}) EXPECT_TRUE(torch::allclose(xw[i], xb[i], 1e-5, 1e-5));
  SampleRequest bad{z, {}};
  bad.text = torch::full({4, 4}, 99, torch::kInt64);  // ids outside the vocabulary
  EXPECT_THROW(sampler_of(*model).sample(bad), Error);
}

TEST(Text2Img, RefusesDataWithoutCaptions) {
  Config c;
  c.set_from_string("model.name=text2img");
  auto msg = error_of([&] { create_model(c, DataShape{1, 28, 10}); });
  EXPECT_NE(msg.find("needs captioned data (data.captions)"), std::string::npos) << msg;
}
