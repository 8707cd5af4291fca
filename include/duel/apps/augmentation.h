// The data-augmentation experiment (`duel experiment augmentation`): does
// adding a conditional GAN's images to a small labelled training set help a
// classifier?
//
// For each subset size n (images per class) and seed s:
//   1. a class-balanced subset of the training split, n images of every
//      class, drawn with seed s;
//   2. baseline: duel's classifier (FeatureNet) trained on the subset alone,
//      its accuracy on the whole test split;
//   3. a cgan trained on the same subset (and nothing else), seed s;
//   4. augmented: the same classifier, same steps, trained on the subset plus
//      `synthetic_per_class` cgan images of every class;
// and reports both accuracies per run and their mean and standard deviation
// per n. Only the subset's real images are ever seen by either model.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "duel/data/dataset.h"

namespace duel {

class GanModel;

// A labelled synthetic dataset from a conditional generator (`duel augment`
// and step 4 of the experiment): per_class images of every class 0..classes-1,
// class by class, each drawn in forward passes of at most `batch` images with
// noise from the global generator (seed it first), quantised to uint8.
// Requires: per_class >= 1, batch >= 1; the model needs labels and classes > 0,
//   else duel::Error "model '<name>' is not conditional: ...".
// Ensures: images uint8 [classes * per_class, C, H, W], labels int64 in class
//   order, num_classes = classes (class_names left empty).
ImageSet draw_labelled_set(GanModel& model, int64_t classes, int64_t per_class, int64_t batch);

struct AugmentationOptions {
  std::string dataset = "fashion-mnist";
  std::string data_path;                       // empty: the dataset's default location
  std::vector<int64_t> per_class = {100, 1000};
  int64_t seeds = 3;
  int64_t synthetic_per_class = 1000;
  int64_t gan_steps = 1000;                    // cgan generator updates (batch 64)
  int64_t gan_width = 32;                      // cgan g_width and d_width
  int64_t classifier_steps = 400;              // batches of 128, the same with and without synthetic images
  std::string work_dir;                        // subsets and cgan runs go here
};

struct AugmentationRun {
  int64_t per_class = 0, seed = 0;
  double accuracy_real = 0, accuracy_augmented = 0;
  double seconds = 0;
};

struct AugmentationSummary {
  int64_t per_class = 0, runs = 0;
  double real_mean = 0, real_std = 0, augmented_mean = 0, augmented_std = 0;
};

struct AugmentationResult {
  std::vector<AugmentationRun> runs;
  std::vector<AugmentationSummary> summary;
  std::string json;  // everything above, plus the options
};

AugmentationResult run_augmentation_experiment(const AugmentationOptions& options,
                                               const std::function<void(const std::string&)>& info = {});

}  // namespace duel
