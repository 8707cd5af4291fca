// data.exclude_class: train on every class but one. See class_filter.h.
#include "duel/data/class_filter.h"

#include "duel/core/config.h"
#include "duel/core/error.h"

namespace duel {
namespace {

const bool keys_registered = [] {
  register_key({"data.exclude_class", ConfigType::Int, int64_t(-1),
                "leave out every image of this class (-1: none); for anomaly detection, see `duel score`", -1, 1.0e6,
                {}});
  return true;
}();

}  // namespace

ImageSet exclude_class(ImageSet set, int64_t exclude) {
  if (exclude < 0) return set;
  require(set.has_labels(), "data.exclude_class = " + std::to_string(exclude) + " but " + set.description +
                                " has no labels",
          "use a labelled dataset (fashion-mnist, mnist, cifar10, a folder with class subfolders) or "
          "data.exclude_class = -1");
  require(exclude < set.num_classes,
          "data.exclude_class = " + std::to_string(exclude) + " is out of range: " + set.description + " has " +
              std::to_string(set.num_classes) + " classes",
          "use a class from 0 to " + std::to_string(set.num_classes - 1));
  auto keep = set.labels.ne(exclude).nonzero().reshape({-1});  // int64 [kept]
  require(keep.numel() > 0, "data.exclude_class = " + std::to_string(exclude) + " leaves no image of " + set.description,
          "choose another class, or raise data.limit");
  set.images = set.rows(keep).contiguous();
  set.gather = nullptr;  // now held in memory
  set.labels = set.labels.index_select(0, keep).contiguous();
  set.captions = set.captions.select(keep);
  std::string name = std::to_string(exclude);
  if (exclude < int64_t(set.class_names.size())) name += " (" + set.class_names[size_t(exclude)] + ")";
  set.description += ", without class " + name + ": " + std::to_string(set.size()) + " images";
  return set;
}

void apply_class_filter(ImageSet& set, const Config& cfg) {
  set = exclude_class(std::move(set), cfg.get_int("data.exclude_class"));
}

}  // namespace duel
