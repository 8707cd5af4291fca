// data.exclude_class: train on every class but one; data.only_class: on one
// class alone. See class_filter.h.
#include "duel/data/class_filter.h"

#include "duel/core/config.h"
#include "duel/core/error.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  register_key({"data.exclude_class", ConfigType::Int, int64_t(-1),
                "leave out every image of this class (-1: none); for anomaly detection, see `duel score`", -1, 1.0e6,
                {}});
  register_key({"data.only_class", ConfigType::Int, int64_t(-1),
                "keep only the images of this class (-1: all), e.g. the characters of crawl-tiles", -1, 1.0e6, {}});
  return true;
}();

// The images of `set` whose label is (keep) or is not (!keep) `cls`, in order.
ImageSet filter_class(ImageSet set, int64_t cls, bool keep_it, const std::string& key) {
  const std::string what = key + " = " + std::to_string(cls);
  require(set.has_labels(), what + " but " + set.description + " has no labels",
          "use a labelled dataset (fashion-mnist, mnist, cifar10, a folder with class subfolders) or " + key + " = -1");
  require(cls < set.num_classes,
          what + " is out of range: " + set.description + " has " + std::to_string(set.num_classes) + " classes",
          "use a class from 0 to " + std::to_string(set.num_classes - 1));
  auto keep = (keep_it ? set.labels.eq(cls) : set.labels.ne(cls)).nonzero().reshape({-1});  // int64 [kept]
  require(keep.numel() > 0, what + " leaves no image of " + set.description, "choose another class, or raise data.limit");
  set.images = set.rows(keep).contiguous();
  set.gather = nullptr;  // now held in memory
  set.labels = set.labels.index_select(0, keep).contiguous();
  set.captions = set.captions.select(keep);
  std::string name = std::to_string(cls);
  if (cls < int64_t(set.class_names.size())) name += " (" + set.class_names[size_t(cls)] + ")";
  set.description += (keep_it ? ", class " : ", without class ") + name + ": " + std::to_string(set.size()) + " images";
  return set;
}

}  // namespace

ImageSet exclude_class(ImageSet set, int64_t exclude) {
  return exclude < 0 ? set : filter_class(std::move(set), exclude, false, "data.exclude_class");
}

void apply_class_filter(ImageSet& set, const Config& cfg) {
  set = exclude_class(std::move(set), cfg.get_int("data.exclude_class"));
  if (const int64_t only = cfg.get_int("data.only_class"); only >= 0) set = filter_class(std::move(set), only, true, "data.only_class");
}

}  // namespace duel
