// Tokeniser, vocabulary, captions files and Fashion-MNIST's derived captions.
#include "duel/data/text.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  register_key({"data.captions", ConfigType::String, std::string(""),
                "captions file (image_id<TAB>caption per line) for text-to-image models; empty: no captions", {}, {},
                {}});
  register_int_key("data.caption_tokens", 16, 1, 256,
                   "tokens per caption (longer captions are refused); text2img's maximum prompt length");
  return true;
}();

bool word_byte(unsigned char c) { return std::isalnum(c) || c >= 0x80 || c == '-'; }

}  // namespace

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    // Hyphens only join: drop them at either end of a run.
    size_t b = cur.find_first_not_of('-'), e = cur.find_last_not_of('-');
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (unsigned char c : text) {
    if (word_byte(c)) cur += (c < 0x80) ? char(std::tolower(c)) : char(c);
    else flush();
  }
  flush();
  return out;
}

int64_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<int64_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = int64_t(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = int64_t(i);
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

Vocabulary Vocabulary::build(const std::vector<std::string>& captions) {
  std::set<std::string> words;
  for (auto& c : captions)
    for (auto& t : tokenize(c)) words.insert(t);
  Vocabulary v;
  v.words_.insert(v.words_.end(), words.begin(), words.end());
  return v;
}

Vocabulary Vocabulary::from_words(const std::vector<std::string>& words) {
  require(!words.empty() && words[0] == "<pad>", "a vocabulary must start with <pad>", "the file is damaged");
  for (size_t i = 1; i < words.size(); ++i) {
    const auto t = tokenize(words[i]);
    require(t.size() == 1 && t[0] == words[i] && (i == 1 || words[i - 1] < words[i]),
            "vocabulary word " + std::to_string(i) + " ('" + words[i] + "') is not a sorted, unique token",
            "the file is damaged");
  }
  Vocabulary v;
  v.words_ = words;
  return v;
}

int64_t Vocabulary::id(const std::string& token) const {
  auto it = std::lower_bound(words_.begin() + 1, words_.end(), token);
  return (it != words_.end() && *it == token) ? int64_t(it - words_.begin()) : 0;
}

std::vector<std::string> Vocabulary::nearest(const std::string& token, int64_t k) const {
  std::vector<std::pair<int64_t, std::string>> scored;
  for (size_t i = 1; i < words_.size(); ++i) scored.emplace_back(edit_distance(token, words_[i]), words_[i]);
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && int64_t(i) < k; ++i) out.push_back(scored[i].second);
  return out;
}

std::vector<int64_t> Vocabulary::encode(const std::string& prompt, int64_t length) const {
  const auto tokens = tokenize(prompt);
  require(!tokens.empty(), "the prompt is empty (it has no words)",
          "write a description such as \"a dark long pullover\"");
  require(int64_t(tokens.size()) <= length,
          "the prompt has " + std::to_string(tokens.size()) + " words; the model reads at most " +
              std::to_string(length),
          "shorten the prompt");
  std::vector<int64_t> ids(size_t(length), 0);
  for (size_t i = 0; i < tokens.size(); ++i) {
    ids[i] = id(tokens[i]);
    if (ids[i] == 0) {
      std::string near;
      for (auto& w : nearest(tokens[i])) near += (near.empty() ? "" : ", ") + w;
      throw Error("unknown word '" + tokens[i] + "' in the prompt; nearest known words: " + near,
                  "use words of the training captions (" + std::to_string(size() - 1) +
                      " known; duel info CHECKPOINT lists them)");
    }
  }
  return ids;
}

std::string Vocabulary::decode(const torch::Tensor& ids) const {
  std::string out;
  auto c = ids.to(torch::kCPU).contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  for (int64_t i = 0; i < c.numel(); ++i)
    if (p[i] > 0 && p[i] < size()) out += (out.empty() ? "" : " ") + words_[size_t(p[i])];
  return out;
}

CaptionSet CaptionSet::select(const torch::Tensor& index) const {
  if (!defined()) return *this;
  auto idx = index.to(torch::kInt64).contiguous();
  const int64_t* ip = idx.data_ptr<int64_t>();
  const int64_t* op = offsets.data_ptr<int64_t>();
  std::vector<int64_t> rows, off{0};
  for (int64_t k = 0; k < idx.numel(); ++k) {
    for (int64_t r = op[ip[k]]; r < op[ip[k] + 1]; ++r) rows.push_back(r);
    off.push_back(int64_t(rows.size()));
  }
  CaptionSet out = *this;
  out.tokens = tokens.index_select(0, torch::tensor(rows, torch::kInt64)).contiguous();
  out.offsets = torch::tensor(off, torch::kInt64);
  return out;
}

torch::Tensor CaptionSet::first_caption(const torch::Tensor& images) const {
  auto first = offsets.index_select(0, images.to(torch::kCPU).to(torch::kInt64));
  return tokens.index_select(0, first);
}

torch::Tensor CaptionSet::draw(const torch::Tensor& images, std::mt19937_64& rng) const {
  auto idx = images.to(torch::kCPU).to(torch::kInt64).contiguous();
  const int64_t* ip = idx.data_ptr<int64_t>();
  const int64_t* op = offsets.data_ptr<int64_t>();
  std::vector<int64_t> rows(size_t(idx.numel()));
  for (int64_t k = 0; k < idx.numel(); ++k) {
    const int64_t b = op[ip[k]], n = op[ip[k] + 1] - b;
    rows[size_t(k)] = b + int64_t(rng() % uint64_t(n));
  }
  return tokens.index_select(0, torch::tensor(rows, torch::kInt64));
}

CaptionSet read_captions(const std::string& path, const std::vector<std::string>& image_ids, int64_t length) {
  std::ifstream f(path, std::ios::binary);
  require(bool(f), "cannot open the captions file '" + path + "'",
          "check data.captions; `duel captions fashion-mnist --out FILE` writes one for Fashion-MNIST");
  std::unordered_map<std::string, int64_t> index;
  index.reserve(image_ids.size());
  for (size_t i = 0; i < image_ids.size(); ++i) index.emplace(image_ids[i], int64_t(i));
  const bool numeric_ids = !image_ids.empty() && image_ids[0] == "0";
  std::vector<std::vector<std::string>> per_image(image_ids.size());
  std::string line;
  int64_t lineno = 0;
  auto bad = [&](const std::string& what, const std::string& hint) {
    throw Error("captions file '" + path + "' line " + std::to_string(lineno) + ": " + what, hint);
  };
  const std::string format_hint = "each line is image_id<TAB>caption";
  while (std::getline(f, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) bad("no tab between the image id and the caption", format_hint);
    const std::string id = line.substr(0, tab), caption = line.substr(tab + 1);
    if (id.empty()) bad("empty image id", format_hint);
    const auto tokens = tokenize(caption);
    if (tokens.empty()) bad("the caption has no words", format_hint);
    if (int64_t(tokens.size()) > length)
      bad("the caption has " + std::to_string(tokens.size()) + " words, more than data.caption_tokens = " +
              std::to_string(length),
          "shorten the caption or raise data.caption_tokens");
    auto it = index.find(id);
    if (it == index.end()) {
      if (numeric_ids)
        bad("image id '" + id + "' is out of range: the split has " + std::to_string(image_ids.size()) +
                " images (ids 0 to " + std::to_string(int64_t(image_ids.size()) - 1) + ")",
            "ids of IDX/CIFAR data are 0-based image indices in the split");
      bad("image id '" + id + "' names no image of the data",
          "ids of image folders are paths relative to the folder, e.g. 'shirts/001.png'");
    }
    per_image[size_t(it->second)].push_back(caption);
  }
  require(!f.bad(), "cannot read the captions file '" + path + "'", "check the file");
  int64_t missing = 0;
  std::string first_missing;
  std::vector<std::string> all;
  for (size_t i = 0; i < per_image.size(); ++i) {
    if (per_image[i].empty() && missing++ == 0) first_missing = image_ids[i];
    all.insert(all.end(), per_image[i].begin(), per_image[i].end());
  }
  require(missing == 0,
          "captions file '" + path + "' leaves " + std::to_string(missing) + " of " +
              std::to_string(image_ids.size()) + " images without a caption (the first: id '" + first_missing + "')",
          "give every image at least one caption, or select the captioned ones (data.limit)");
  CaptionSet cs;
  cs.vocabulary = Vocabulary::build(all);
  cs.length = length;
  cs.source = path;
  cs.tokens = torch::zeros({int64_t(all.size()), length}, torch::kInt64);
  auto tp = cs.tokens.accessor<int64_t, 2>();
  std::vector<int64_t> off{0};
  int64_t row = 0;
  for (auto& caps : per_image) {
    for (auto& c : caps) {
      const auto ids = cs.vocabulary.encode(c, length);
      for (int64_t j = 0; j < length; ++j) tp[row][j] = ids[size_t(j)];
      ++row;
    }
    off.push_back(row);
  }
  cs.offsets = torch::tensor(off, torch::kInt64);
  return cs;
}

void attach_captions(ImageSet& set, const Config& cfg, const std::vector<std::string>& image_ids) {
  const std::string path = cfg.get_string("data.captions");
  if (path.empty()) return;
  require(int64_t(image_ids.size()) == set.size(), "internal: image ids do not match the images");
  set.captions = read_captions(path, image_ids, cfg.get_int("data.caption_tokens"));
  set.description += " + captions " + path;
}

// --- derived captions -----------------------------------------------------

GarmentMeasure measure_garment(const torch::Tensor& image) {
  auto img = image.to(torch::kCPU).reshape({image.size(-2), image.size(-1)}).to(torch::kFloat64).div(255.0);
  auto a = img.accessor<double, 2>();
  const int64_t H = img.size(0), W = img.size(1);
  double n = 0, sum = 0, sx = 0, sy = 0, sxx = 0, syy = 0, edge = 0;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const double v = a[y][x];
      if (v <= 0.1) continue;
      n += 1;
      sum += v;
      sx += double(x);
      sy += double(y);
      sxx += double(x) * double(x);
      syy += double(y) * double(y);
      const double dx = x + 1 < W ? std::abs(a[y][x + 1] - v) : 0.0;
      const double dy = y + 1 < H ? std::abs(a[y + 1][x] - v) : 0.0;
      edge += dx + dy;
    }
  GarmentMeasure m;
  if (n == 0) return m;
  m.intensity = sum / n;
  m.width = std::sqrt(std::max(0.0, sxx / n - (sx / n) * (sx / n)));
  m.height = std::sqrt(std::max(0.0, syy / n - (sy / n) * (sy / n)));
  m.edges = edge / n;
  return m;
}

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace

void describe_garments(const torch::Tensor& images, const torch::Tensor& labels, int64_t num_classes,
                       std::vector<GarmentMeasure>& measures, std::vector<GarmentWords>& words) {
  require(images.dim() == 4 && images.size(1) == 1 && images.scalar_type() == torch::kUInt8,
          "garment captions need grey uint8 images [N, 1, H, W]");
  require(labels.defined() && labels.numel() == images.size(0), "garment captions need one label per image");
  const int64_t n = images.size(0);
  measures.assign(size_t(n), {});
  auto lab = labels.to(torch::kCPU).to(torch::kInt64).contiguous();
  const int64_t* lp = lab.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    require(lp[i] >= 0 && lp[i] < num_classes, "label " + std::to_string(lp[i]) + " is out of range");
    measures[size_t(i)] = measure_garment(images[i]);
  }
  const size_t classes = size_t(num_classes);
  std::vector<std::vector<double>> in(classes), wi(classes), he(classes), ed(classes);
  for (int64_t i = 0; i < n; ++i) {
    const auto& m = measures[size_t(i)];
    const size_t c = size_t(lp[i]);
    in[c].push_back(m.intensity);
    wi[c].push_back(m.width);
    he[c].push_back(m.height);
    ed[c].push_back(m.edges);
  }
  std::vector<double> mi, mw, mh, me;
  for (int64_t c = 0; c < num_classes; ++c) {
    mi.push_back(median(in[size_t(c)]));
    mw.push_back(median(wi[size_t(c)]));
    mh.push_back(median(he[size_t(c)]));
    me.push_back(median(ed[size_t(c)]));
  }
  words.assign(size_t(n), {});
  for (int64_t i = 0; i < n; ++i) {
    const auto& m = measures[size_t(i)];
    const size_t c = size_t(lp[i]);
    words[size_t(i)] = {m.intensity < mi[c], m.width > mw[c], m.height > mh[c], m.edges > me[c]};
  }
}

const std::vector<std::string>& fashion_nouns() {
  static const std::vector<std::string> nouns{"t-shirt", "trousers", "pullover", "dress",   "coat",
                                              "sandal",  "shirt",    "sneaker",  "bag",     "ankle boot"};
  return nouns;
}

std::string compose_caption(int64_t cls, const GarmentWords& w, Phrasings set, std::mt19937_64& rng) {
  require(cls >= 0 && cls < int64_t(fashion_nouns().size()), "class " + std::to_string(cls) + " is out of range");
  const std::string noun = fashion_nouns()[size_t(cls)];
  std::vector<std::string> attrs{w.dark ? "dark" : "light", w.wide ? "wide" : "narrow", w.long_ ? "long" : "short",
                                 w.patterned ? "patterned" : "plain"};
  // Fisher-Yates with our own draws (std::shuffle differs between libraries).
  for (size_t i = attrs.size() - 1; i > 0; --i) std::swap(attrs[i], attrs[size_t(rng() % (i + 1))]);
  const size_t k = size_t(rng() % 4);  // 0 to 3 attributes
  attrs.resize(k);
  auto spaced = [&] {
    std::string s;
    for (auto& a : attrs) s += a + " ";
    return s;
  };
  auto listed = [&](const std::string& sep, const std::string& last) {
    std::string s;
    for (size_t i = 0; i < attrs.size(); ++i) s += (i == 0 ? "" : (i + 1 == attrs.size() ? last : sep)) + attrs[i];
    return s;
  };
  const std::string first = k ? attrs[0] : noun;
  const std::string art = (first[0] == 'a' || first[0] == 'e' || first[0] == 'i' || first[0] == 'o' || first[0] == 'u')
                              ? "an"
                              : "a";
  const uint64_t t = rng() % 4;
  if (set == Phrasings::Train) {
    // a dark long pullover | photo of a dark pullover | the dark long pullover | a pullover that is dark and long
    if (k == 0 || t == 0) return art + " " + spaced() + noun;
    if (t == 1) return "photo of " + art + " " + spaced() + noun;
    if (t == 2) return "the " + spaced() + noun;
    return std::string(noun[0] == 'a' ? "an " : "a ") + noun + " that is " + listed(", ", " and ");
  }
  // Held out: pullover, dark, long | the pullover is dark and long | photo of the pullover: dark, long | dark and long pullover
  if (k == 0) return t < 2 ? noun : "photo of the " + noun;
  if (t == 0) return noun + ", " + listed(", ", ", ");
  if (t == 1) return "the " + noun + " is " + listed(", ", " and ");
  if (t == 2) return "photo of the " + noun + ": " + listed(", ", ", ");
  return listed(" and ", " and ") + " " + noun;
}

std::string fashion_captions_tsv(const torch::Tensor& images, const torch::Tensor& labels, int64_t per_image,
                                 Phrasings set, uint64_t seed) {
  require(per_image >= 1, "--per-image must be at least 1");
  std::vector<GarmentMeasure> measures;
  std::vector<GarmentWords> words;
  describe_garments(images, labels, int64_t(fashion_nouns().size()), measures, words);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + 7);
  auto lab = labels.to(torch::kCPU).to(torch::kInt64).contiguous();
  const int64_t* lp = lab.data_ptr<int64_t>();
  std::ostringstream out;
  for (int64_t i = 0; i < images.size(0); ++i)
    for (int64_t j = 0; j < per_image; ++j)
      out << i << '\t' << compose_caption(lp[i], words[size_t(i)], set, rng) << '\n';
  return out.str();
}

}  // namespace duel
