// Text for text-to-image models: the tokeniser, the vocabulary, captions
// files, and the derived captions duel writes for Fashion-MNIST.
//
// Tokeniser: ASCII letters are lowercased; a token is a run of letters,
// digits, bytes >= 0x80 (UTF-8 text stays whole) and hyphens, with hyphens
// at either end dropped, so "Long-sleeved" is the one token "long-sleeved"
// and "-dark--" is "dark". Every other character (spaces, punctuation)
// separates tokens and is never a token itself.
//
// Captions file (.tsv): one `image_id<TAB>caption` per line, any number of
// lines per image; blank lines and lines starting with '#' are skipped.
// An image id is the image's index in the split for IDX and CIFAR-10 data
// (0-based, in file order; split "all" counts train then test) and the
// file's path relative to the folder for image folders ("shirts/001.png").
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace duel {

class Config;
struct ImageSet;

// Lowercased tokens of `text` (see the rules above); empty for a text with none.
std::vector<std::string> tokenize(const std::string& text);

// Levenshtein distance (insertions, deletions, substitutions of bytes).
int64_t edit_distance(const std::string& a, const std::string& b);

// The words a model knows. Id 0 is padding; words are ids 1..size()-1 in
// sorted order, so the same captions always give the same ids.
class Vocabulary {
 public:
  Vocabulary() : words_{"<pad>"} {}
  // Every token of every caption, deduplicated and sorted.
  static Vocabulary build(const std::vector<std::string>& captions);
  // From words() (a checkpoint); throws duel::Error when malformed.
  static Vocabulary from_words(const std::vector<std::string>& words);

  int64_t size() const { return int64_t(words_.size()); }
  const std::vector<std::string>& words() const { return words_; }  // [0] = "<pad>"
  // Id of a token, 0 when unknown.
  int64_t id(const std::string& token) const;
  // Up to `k` known words nearest to `token` by edit distance (ties: alphabetical).
  std::vector<std::string> nearest(const std::string& token, int64_t k = 5) const;
  // A prompt -> ids padded with 0 to `length`. Throws duel::Error for an
  // empty prompt (no tokens), an unknown word (naming the nearest known
  // words) or more than `length` tokens.
  std::vector<int64_t> encode(const std::string& prompt, int64_t length) const;
  // Ids -> the words they stand for, space-separated (padding dropped).
  std::string decode(const torch::Tensor& ids) const;

 private:
  std::vector<std::string> words_;
};

// The captions of an image set, tokenised.
struct CaptionSet {
  Vocabulary vocabulary;
  int64_t length = 0;     // tokens per caption (data.caption_tokens), 0 = no captions
  torch::Tensor tokens;   // int64 [M, length], 0-padded
  torch::Tensor offsets;  // int64 [N + 1]: image i's captions are rows offsets[i] .. offsets[i+1]-1
  std::string source;     // the file they came from

  bool defined() const { return length > 0; }
  // The captions of images `index` (int64 [K]), in that order.
  CaptionSet select(const torch::Tensor& index) const;
  // Rows of `tokens` for the first caption of each image in `images` (int64 [K]) -> [K, length].
  torch::Tensor first_caption(const torch::Tensor& images) const;
  // One caption per image drawn uniformly with `rng` -> int64 [K, length].
  torch::Tensor draw(const torch::Tensor& images, std::mt19937_64& rng) const;
};

// Reads a captions file for `image_ids` (the ids of the set's images, in
// order). Throws duel::Error naming the file for a missing or unreadable
// file, a malformed line (its number: no tab, empty id or caption, a caption
// without tokens or with more than `length`), an id that names no image
// (out of range for IDX data), or images left without a caption.
CaptionSet read_captions(const std::string& path, const std::vector<std::string>& image_ids, int64_t length);

// data.captions: attaches the captions the config names to a freshly read
// set (before data.limit and data.exclude_class select images). No-op when
// data.captions is empty.
void attach_captions(ImageSet& set, const Config& cfg, const std::vector<std::string>& image_ids);

// --- derived captions (duel captions fashion-mnist) -----------------------

// Simple measurements of one garment image (uint8 [1, H, W] or [H, W]). The
// garment is the pixels brighter than 10 % of full scale.
struct GarmentMeasure {
  double intensity = 0;  // mean brightness of the garment's pixels, in [0, 1] (0: no garment)
  double width = 0;      // standard deviation of the garment pixels' column, in pixels
  double height = 0;     // standard deviation of their row, in pixels
  double edges = 0;      // mean |dx| + |dy| over the garment's pixels, in [0, 2]
};
GarmentMeasure measure_garment(const torch::Tensor& image);

// Attribute words of a garment, each decided against the median of its class
// in the same split: dark (intensity below the median) or light, wide or
// narrow (width), long or short (height), patterned or plain (edges).
struct GarmentWords {
  bool dark = false, wide = false, long_ = false, patterned = false;
};
// images uint8 [N, 1, H, W], labels int64 [N] -> measures and words per image.
void describe_garments(const torch::Tensor& images, const torch::Tensor& labels, int64_t num_classes,
                       std::vector<GarmentMeasure>& measures, std::vector<GarmentWords>& words);

// The caption noun of each Fashion-MNIST class ("t-shirt", ..., "ankle boot").
const std::vector<std::string>& fashion_nouns();

// Phrasing sets: captions for training use one set of templates; held-out
// phrasings use other templates over the same words, for testing whether a
// model generalises beyond the sentences it saw.
enum class Phrasings { Train, HeldOut };

// One caption of a garment of class `cls` with attribute words `w`: a random
// template of `set`, naming 0 to 3 of the four attributes in random order.
std::string compose_caption(int64_t cls, const GarmentWords& w, Phrasings set, std::mt19937_64& rng);

// `per_image` captions per image as `image_id<TAB>caption` lines (ids are
// indices), deterministic for `seed`.
std::string fashion_captions_tsv(const torch::Tensor& images, const torch::Tensor& labels, int64_t per_image,
                                 Phrasings set, uint64_t seed);

}  // namespace duel
