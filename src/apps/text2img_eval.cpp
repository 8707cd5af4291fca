// duel experiment text2img: recognition, FID and attributes of a text2img
// checkpoint's samples for prompts in held-out phrasings (see the header).
#include "duel/apps/text2img_eval.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <random>

#include "duel/apps/model_loading.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/text.h"
#include "duel/io/image.h"
#include "duel/metrics/evaluate.h"
#include "duel/metrics/metrics.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"
#include "duel/nn/feature_net.h"

namespace duel {
namespace {

// Images [n, C, H, W] uint8 for one prompt per image (token ids [n, L]).
torch::Tensor draw(GanModel& model, const torch::Tensor& ids) {
  auto& noise = require_capability<NoiseSampler>(model);
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < ids.size(0); i += 250) {
    const int64_t m = std::min<int64_t>(250, ids.size(0) - i);
    SampleRequest r{noise.make_noise(m, torch::kCPU), {}};
    r.text = ids.slice(0, i, i + m);
    parts.push_back(quantise(noise.sample(r)));
  }
  return torch::cat(parts);
}

torch::Tensor encode_all(const Vocabulary& vocab, const std::vector<std::string>& prompts, int64_t length) {
  auto out = torch::zeros({int64_t(prompts.size()), length}, torch::kInt64);
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::vector<int64_t> ids;
    try {
      ids = vocab.encode(prompts[i], length);
    } catch (const Error& e) {
      throw Error(std::string("the checkpoint cannot read the prompt \"") + prompts[i] + "\": " + e.what(),
                  "measure a text2img checkpoint trained on `duel captions fashion-mnist` captions");
    }
    out[int64_t(i)] = torch::tensor(ids, torch::kInt64);
  }
  return out;
}

double share_of_class(FeatureExtractor& net, const torch::Tensor& images, int64_t cls, torch::Tensor* features) {
  auto ex = net.extract(images);
  require(ex.probs.defined(), "the feature network has no classifier", "use a .duelfeat file (duel features train)");
  if (features) *features = ex.features;
  return ex.probs.argmax(1).eq(cls).to(torch::kFloat64).mean().item<double>();
}

double measure_value(const GarmentMeasure& m, const std::string& attribute) {
  if (attribute == "intensity") return m.intensity;
  if (attribute == "width") return m.width;
  if (attribute == "height") return m.height;
  return m.edges;
}

// The attributes the prompts steer: {attribute, word a, word b}.
const std::vector<std::array<std::string, 3>>& attribute_words() {
  static const std::vector<std::array<std::string, 3>> words{
      {"intensity", "dark", "light"}, {"width", "wide", "narrow"}, {"height", "long", "short"},
      {"edges", "patterned", "plain"}};
  return words;
}

// One attribute of one class: the mean measure of images drawn from "the <noun>
// is <a>" and "... is <b>", against the real test images described by a and b.
AttributeRow measure_attribute(GanModel& model, const Vocabulary& vocab, int64_t text_length, int64_t n,
                               const ImageSet& test, const std::vector<GarmentMeasure>& measures,
                               const std::vector<GarmentWords>& words, int64_t c, const std::string& noun,
                               const std::array<std::string, 3>& aw) {
  const std::string &attribute = aw[0], &a = aw[1], &b = aw[2];
  AttributeRow ar{attribute, a, b, c};
  auto mean_of = [&](const torch::Tensor& images) {
    double s = 0;
    for (int64_t i = 0; i < images.size(0); ++i) s += measure_value(measure_garment(images[i]), attribute);
    return s / double(images.size(0));
  };
  auto prompt_images = [&](const std::string& word) {
    std::vector<std::string> p(size_t(n), "the " + noun + " is " + word);
    return draw(model, encode_all(vocab, p, text_length));
  };
  ar.generated_a = mean_of(prompt_images(a));
  ar.generated_b = mean_of(prompt_images(b));
  double sa = 0, sb = 0, na = 0, nb = 0;
  auto lab = test.labels.contiguous();
  const int64_t* lp = lab.data_ptr<int64_t>();
  for (int64_t i = 0; i < test.size(); ++i) {
    if (lp[i] != c) continue;
    const auto& w = words[size_t(i)];
    const bool is_a = attribute == "intensity" ? w.dark : attribute == "width" ? w.wide
                      : attribute == "height"  ? w.long_ : w.patterned;
    const double v = measure_value(measures[size_t(i)], attribute);
    (is_a ? sa : sb) += v;
    (is_a ? na : nb) += 1;
  }
  ar.real_a = na > 0 ? sa / na : 0;
  ar.real_b = nb > 0 ? sb / nb : 0;
  return ar;
}

// Per attribute: in how many classes the samples order like the real images
// (a above b, or below), and the mean gaps (a - b) of both.
nlohmann::json attribute_summary(const std::vector<AttributeRow>& rows) {
  nlohmann::json summary = nlohmann::json::array();
  for (const auto& aw : attribute_words()) {
    int64_t agree = 0, classes_n = 0;
    double gap_generated = 0, gap_real = 0;
    for (auto& ar : rows) {
      if (ar.attribute != aw[0]) continue;
      const double g = ar.generated_a - ar.generated_b, q = ar.real_a - ar.real_b;
      agree += (g > 0) == (q > 0) && g != 0;
      gap_generated += g;
      gap_real += q;
      ++classes_n;
    }
    summary.push_back({{"attribute", aw[0]}, {"word_a", aw[1]}, {"word_b", aw[2]},
                       {"classes_following_the_prompt", agree}, {"classes", classes_n},
                       {"mean_gap_generated", gap_generated / double(classes_n)},
                       {"mean_gap_real", gap_real / double(classes_n)}});
  }
  return summary;
}

}  // namespace

Text2ImgEvalResult run_text2img_eval(const Text2ImgEvalOptions& o, const std::function<void(const std::string&)>& info) {
  auto say = [&](const std::string& s) { if (info) info(s); };
  require(o.n >= 2 && o.n_attribute >= 1, "the text2img experiment needs --n >= 2 and --n-attribute >= 1");
  Checkpoint ck = Checkpoint::read(o.checkpoint);
  Config cfg;
  auto model = load_model(ck, cfg);
  const auto& shape = ck.state().shape;
  require(model->needs_captions(), "checkpoint '" + o.checkpoint + "' holds model '" + ck.model_name() +
                                       "', which does not draw from text",
          "pass a text2img checkpoint");
  require(cfg.get_string("data.dataset") == "fashion-mnist",
          "the text2img experiment measures Fashion-MNIST models; this checkpoint was trained on '" +
              cfg.get_string("data.dataset") + "'",
          "train text2img on fashion-mnist with `duel captions fashion-mnist` captions (configs/text2img28.toml)");
  const auto vocab = Vocabulary::from_words(shape.vocabulary);

  Config data_cfg;
  data_cfg.set("data.dataset", std::string("fashion-mnist"));
  data_cfg.set("data.path", o.data_path.empty() ? cfg.get_string("data.path") : o.data_path);
  ImageSet test = open_dataset(data_cfg, "test"), train = open_dataset(data_cfg, "train");
  const std::string feat_path = o.features.empty() ? find_feature_net("fashion-mnist") : o.features;
  auto net = load_feature_extractor(feat_path);
  say("features: " + net->identity().path + " (" + net->identity().hash + ")");

  std::vector<GarmentMeasure> measures;
  std::vector<GarmentWords> words;
  describe_garments(test.images, test.labels, 10, measures, words);

  torch::manual_seed(o.seed);
  std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL + 11);
  auto random_words = [&] {
    const uint64_t b = rng();
    return GarmentWords{(b & 1) != 0, (b & 2) != 0, (b & 4) != 0, (b & 8) != 0};
  };
  Text2ImgEvalResult r;
  nlohmann::json classes = nlohmann::json::array(), attrs = nlohmann::json::array();
  nlohmann::json prompts_shown = nlohmann::json::array();
  for (int64_t c = 0; c < 10; ++c) {
    ClassRow row;
    row.cls = c;
    row.noun = fashion_nouns()[size_t(c)];
    std::vector<std::string> held, seen;
    for (int64_t i = 0; i < o.n; ++i) held.push_back(compose_caption(c, random_words(), Phrasings::HeldOut, rng));
    for (int64_t i = 0; i < o.n; ++i) seen.push_back(compose_caption(c, random_words(), Phrasings::Train, rng));
    // Up to three of the held-out prompts, as examples in the JSON (--n may be as small as 2).
    prompts_shown.push_back(std::vector<std::string>(held.begin(), held.begin() + std::min<size_t>(3, held.size())));
    torch::Tensor fake_features;
    auto held_images = draw(*model, encode_all(vocab, held, shape.text_length));
    row.recognised_heldout = share_of_class(*net, held_images, c, &fake_features);
    row.recognised_train = share_of_class(*net, draw(*model, encode_all(vocab, seen, shape.text_length)), c, nullptr);
    auto test_c = test.images.index_select(0, test.labels.eq(c).nonzero().reshape({-1}));
    auto train_c = train.images.index_select(0, train.labels.eq(c).nonzero().reshape({-1})).slice(0, 0, o.n);
    // FID needs two images a side; a tiny test split may have fewer of a class (NaN: JSON null).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    row.recognised_real = row.fid = row.fid_floor = nan;
    if (test_c.size(0) >= 1) {
      torch::Tensor real_features;
      row.recognised_real = share_of_class(*net, test_c, c, &real_features);
      if (test_c.size(0) >= 2 && train_c.size(0) >= 2) {
        row.fid = fid(real_features, fake_features);
        row.fid_floor = fid(real_features, net->extract(train_c).features);
      }
    }
    say(row.noun + ": recognised " + std::to_string(row.recognised_heldout) + " (held-out phrasings), " +
        std::to_string(row.recognised_train) + " (training phrasings), FID " + std::to_string(row.fid) +
        " (floor " + std::to_string(row.fid_floor) + ")");
    r.recognised_heldout += row.recognised_heldout / 10.0;
    r.recognised_train += row.recognised_train / 10.0;
    classes.push_back({{"class", c}, {"noun", row.noun}, {"recognised_heldout", row.recognised_heldout},
                       {"recognised_train", row.recognised_train}, {"recognised_real", row.recognised_real},
                       {"fid", row.fid}, {"fid_floor", row.fid_floor},  // NaN is written as null
                       {"example_prompts", prompts_shown.back()}});
    r.classes.push_back(row);

    for (const auto& aw : attribute_words()) {
      AttributeRow ar = measure_attribute(*model, vocab, shape.text_length, o.n_attribute, test, measures, words, c,
                                          row.noun, aw);
      attrs.push_back({{"class", c}, {"noun", row.noun}, {"attribute", ar.attribute}, {"word_a", ar.word_a},
                       {"word_b", ar.word_b}, {"generated_a", ar.generated_a}, {"generated_b", ar.generated_b},
                       {"real_a", ar.real_a}, {"real_b", ar.real_b}});
      r.attributes.push_back(ar);
    }
  }
  nlohmann::json j;
  j["experiment"] = "text2img";
  j["attribute_summary"] = attribute_summary(r.attributes);
  j["checkpoint"] = o.checkpoint;
  j["step"] = ck.state().step;
  j["features"] = {{"path", net->identity().path}, {"hash", net->identity().hash},
                   {"accuracy", net->identity().accuracy}};
  j["n_per_class"] = o.n;
  j["n_per_attribute_word"] = o.n_attribute;
  j["seed"] = o.seed;
  j["recognised_heldout_mean"] = r.recognised_heldout;
  j["recognised_train_mean"] = r.recognised_train;
  double real_mean = 0;
  for (auto& c : r.classes) real_mean += c.recognised_real / double(r.classes.size());
  j["recognised_real_mean"] = std::isfinite(real_mean) ? nlohmann::json(real_mean) : nlohmann::json();
  j["classes"] = classes;
  j["attributes"] = attrs;
  r.json = j.dump(2) + "\n";
  return r;
}

}  // namespace duel
