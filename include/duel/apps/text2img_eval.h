// The text-to-image measurement (`duel experiment text2img`): does a
// text2img checkpoint trained on Fashion-MNIST with derived captions
// (`duel captions fashion-mnist`) draw what the prompt says?
//
// For every class c:
//   recognition  n prompts of class c in held-out phrasings (templates never
//                seen in training, random attribute words), one image each;
//                the share the dataset's classifier (the feature network)
//                assigns to class c. The same with training phrasings beside
//                it, and the classifier's share on the class's real test images.
//   FID          of those n images against the class's test images, in the
//                feature network's space, with the floor (n training images
//                of the class against the same test images) beside it.
//   attributes   for each of the four attributes, n_attr images for the
//                prompt "the <noun> is <word>" with each of its two words; the
//                measured value (measure_garment) of the samples per word,
//                beside the real test images of the class split by the same
//                word (their class medians).
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace duel {

struct Text2ImgEvalOptions {
  std::string checkpoint;
  std::string features;      // empty: the dataset's default feature network
  std::string data_path;     // empty: Debian's dataset-fashion-mnist
  int64_t n = 500;           // images per class for recognition and FID
  int64_t n_attribute = 200; // images per attribute word and class
  uint64_t seed = 1;
};

struct AttributeRow {
  std::string attribute, word_a, word_b;      // e.g. "intensity", "dark", "light"
  int64_t cls = 0;
  double generated_a = 0, generated_b = 0;    // mean measured value of samples prompted with each word
  double real_a = 0, real_b = 0;              // of the real test images the captions give each word
};

struct ClassRow {
  int64_t cls = 0;
  std::string noun;
  double recognised_heldout = 0, recognised_train = 0;  // shares in [0, 1]
  double recognised_real = 0;  // the classifier on the class's real test images (its own ceiling)
  double fid = 0, fid_floor = 0;
};

struct Text2ImgEvalResult {
  std::vector<ClassRow> classes;
  std::vector<AttributeRow> attributes;
  double recognised_heldout = 0, recognised_train = 0;  // means over classes
  std::string json;
};

Text2ImgEvalResult run_text2img_eval(const Text2ImgEvalOptions& options,
                                     const std::function<void(const std::string&)>& info = {});

}  // namespace duel
