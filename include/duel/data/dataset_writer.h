// Writing a labelled image set back out as a dataset: what `duel augment`
// produces from a conditional generator, readable by duel's own loaders and
// by other tools.
#pragma once
#include <string>

#include "duel/data/dataset.h"

namespace duel {

// set: uint8 images [N, C, H, W] with int64 labels [N] in [0, num_classes).
// format "folder": DIR/<k>-<name>/<k>-<index>.png, one subfolder per class
//   whose sorted order is the class order (k zero-padded), so
//   data.dataset = "folder:DIR" reads the same labels back;
// format "idx": DIR/train-images-idx3-ubyte and DIR/train-labels-idx1-ubyte
//   (grayscale only), read back by data.dataset = "mnist", data.path = DIR.
// Everything is written into a temporary sibling folder that is renamed to
// DIR at the end, so DIR never holds half a dataset. An existing DIR is
// refused unless `replace`, in which case it is replaced only after the new
// one is complete.
// An empty DIR (made with mkdir) is used as if it did not exist, and a
// trailing slash ("synth/") names the folder itself.
void write_labelled_set(const ImageSet& set, const std::string& dir, const std::string& format, bool replace = false);

// The checks write_labelled_set makes of DIR, to run before the work that
// draws the set: duel::Error when DIR exists (and is not empty) without
// `replace`, or when its parent folder does not exist.
void check_dataset_target(const std::string& dir, bool replace);

}  // namespace duel
