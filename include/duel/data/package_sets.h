// Datasets made from files that Debian packages ship (`duel data get NAME`),
// prepared offline into image folders under dataset_home():
//
//   crawl-tiles  Dungeon Crawl Stone Soup's tiles (crawl-tiles-data): the
//                trimmed sprites of its sheets cut out by their alpha, kept
//                when they fit 32x32, centred on black; classes by sheet
//                (characters, items, features, floors, walls).
//   emoji        Noto Color Emoji (fonts-noto-color-emoji): every colour
//                glyph composited on white and averaged down to 64x64;
//                classes by code point (faces, people, five skin tones,
//                animals and nature, food, flags, other).
//   textures     OpenArena's textures (openarena-081-textures): 64x64 patches
//                cut from each texture (flat ones dropped), unlabelled; the
//                test textures are also kept whole under full/.
//
// The split is by source (a sprite's position, a figure's code points
// without its skin tone, a texture's name), so test images come from
// sources the train split never saw. docs/data.md lists the counts.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace duel {

struct PackageSet {
  std::string name;      // the dataset's name for data.dataset and `duel data get`
  std::string package;   // the Debian package that ships the source files
  std::string source;    // the default source path (a folder, font or archive)
  int64_t image_size;    // side of the prepared images
};

const std::vector<PackageSet>& package_sets();
// The entry for `name`, or nullptr when it is not a package dataset.
const PackageSet* find_package_set(const std::string& name);

struct PreparedSet {
  int64_t train = 0, test = 0;
  std::string note;  // what was kept and dropped
};

// Writes the dataset into `dir` (which exists and is empty): dir/train and
// dir/test, each with one subfolder per class when the set has classes.
// `source` replaces the package's default path (tests, other installs).
// duel::Error naming the missing file and the package to install.
PreparedSet prepare_package_set(const PackageSet& set, const std::string& source, const std::string& dir,
                                const std::function<void(const std::string&)>& info);

}  // namespace duel
