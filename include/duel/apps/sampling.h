// Sampling recipes (`duel sample`): the grids a generator can be asked for —
// plain samples (one class per row for conditional models, one PNG per image
// if wanted), a latent-code traversal, a truncation sweep, a style-mixing
// grid, a walk between two prompts, and spherical interpolation — built on
// the model's capabilities (NoiseSampler, CodeTraversal, StyleControl of
// duel/models/capabilities.h) and needs_labels/needs_captions only. The recipes live in the library so the
// CLI parses options and prints, and so other front ends draw the same grids.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "duel/models/interpolation.h"
#include "duel/models/model.h"

namespace duel {

// "0.7" or "1,0.7,0.5,0" -> the values (empty text: none).
// Throws duel::Error naming --truncation unless each is a number in [0, 1].
std::vector<double> parse_truncation(const std::string& text);

// The choices of `duel sample` that decide which grid is drawn and where it goes.
struct SampleJob {
  std::string out, each, gif, traverse, prompt, prompt_to, truncation, mix;
  int64_t n = 64, crossover = -1;
  bool interpolate = false;
};
constexpr int64_t kMaxGridImages = 4096;  // images in one --out grid (64 x 64 of them)

// Refuses choices that cannot go together (two special grids, --each with a
// special grid, a grid of more than kMaxGridImages, --gif without
// --interpolate, ...), naming the flags; creates --out's folder when missing.
void check_sample_job(const SampleJob& job);

struct SampleOptions {
  int64_t cls = -1;                 // conditional models: only this class (-1: one class per grid row)
  std::vector<double> truncation;   // style-based models: psi (first used; more: a sweep)
  std::string mix;                  // style-based models: "A,B" seeds of a style-mixing grid
  int64_t crossover = -1;           // with mix: first style layer from the columns (-1: half)
  std::string prompt, prompt_to;    // text-to-image models
  bool live = false;                // G's live weights instead of their moving average
};

// The options checked against the model and resolved for the recipes below.
struct Sampler {
  GanModel* model = nullptr;
  DataShape shape;
  std::string model_name;
  bool conditional = false, texted = false, live = false;
  int64_t cls = -1;
  double psi = 1.0;
  int64_t style_layers = 0, seed_a = 0, seed_b = 0, crossover = 0;
  torch::Tensor prompt_ids, prompt_to_ids;  // int64 [1, L] (text-to-image models)
};

// Requires: --class only for conditional models and below the class count;
//   truncation and mix only for style-based models, crossover <= style_layers;
//   a prompt exactly when the model draws from text.
// Ensures: a Sampler for `model` (which must outlive it).
// Throws duel::Error with the messages of `duel sample` otherwise.
Sampler make_sampler(GanModel& model, const DataShape& shape, const std::string& model_name, const SampleOptions& options);

// Each recipe returns a uint8 [C, H, W] grid and draws noise from the global generator.

// Rows hold the other inputs fixed while `code` sweeps `steps` columns
// (CodeTraversal::traverse); `cols` receives the columns the model drew.
torch::Tensor traversal_grid(const Sampler& s, const std::string& code, int64_t rows, int64_t steps, int64_t& cols);
// Row r: latent r, fixed; column k: truncation psis[k].
torch::Tensor truncation_sweep_grid(const Sampler& s, const std::vector<double>& psis, int64_t rows);
// Top row: `steps` column sources (seed_b); left column: `rows` row sources
// (seed_a); cell (i, j): styles [0, crossover) of row i, the rest of column j.
torch::Tensor style_mixing_grid(const Sampler& s, int64_t rows, int64_t steps);
// Row r: noise r, fixed; column t: the sentence embedding t / (steps - 1) of
// the way from prompt to prompt_to.
torch::Tensor text_walk_grid(const Sampler& s, int64_t rows, int64_t steps);
// `rows` spherical interpolations between noise pairs in `steps` points (grid
// and GIF frames); conditional models: class r on row r, or --class.
Interpolation interpolation_of(const Sampler& s, int64_t rows, int64_t steps);

// n images in forward passes of `batch`; image i of a conditional model has
// --class, else class (i / per_row) mod classes. With each_dir non-empty,
// writes each as each_dir/sample-NNNNNN[-classK].png (creating the folder).
// Returns the grid of all n, per_row wide, when `grid` is true (else undefined).
torch::Tensor draw_samples(const Sampler& s, int64_t n, int64_t per_row, int64_t batch, const std::string& each_dir,
                           bool grid);

}  // namespace duel
