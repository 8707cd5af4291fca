// text2img: text-to-image GAN after GAN-INT-CLS (Reed et al. 2016,
// "Generative adversarial text to image synthesis").
//
// E, the text encoder: token ids -> learned word embeddings -> two 1-D
// convolutions (width 3) -> mean (or max, model.text_pool) over the
// caption's tokens -> a sentence embedding. It is trained jointly with D (by
// D's matching-aware loss); G reads its output as a fixed input. With
// model.word_dropout, training captions lose random words.
// G: z ++ LeakyReLU(Linear(sentence)) -> DCGAN generator.
// D: DCGAN trunk h(x) [N, c, k, k]; the text enters by projection:
//    D(x, t) = head(h) + <W t, sum_{spatial} h>.
// Matching-aware D (CLS): three kinds of pair per batch,
//    real image + its caption           -> real
//    real image + a mismatched caption  -> fake   (weight 1/2)
//    fake image + its caption           -> fake   (weight 1/2)
// where the mismatched captions are the batch's captions under a random
// permutation without fixed points.
// Interpolation (INT): G also learns from the midpoints of pairs of the
// batch's sentence embeddings (D judges fakes of a midpoint with that
// midpoint), weighted by model.text_interp_weight; `duel sample --prompt A
// --prompt-to B` walks between two prompts' embeddings.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/optimizer.h>

#include "duel/losses/adversarial.h"
#include "duel/models/dcgan.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"

namespace duel {

struct TextEncoderOptions {
  TextEncoderOptions(int64_t vocabulary, int64_t word_dim, int64_t text_dim)
      : vocabulary_(vocabulary), word_dim_(word_dim), text_dim_(text_dim) {}
  TORCH_ARG(int64_t, vocabulary);  // words, id 0 = padding
  TORCH_ARG(int64_t, word_dim);    // word embedding size
  TORCH_ARG(int64_t, text_dim);    // sentence embedding size
  TORCH_ARG(bool, max_pool) = false;  // pool the words' features by max instead of mean
};

class TextEncoderImpl : public torch::nn::Module {
 public:
  explicit TextEncoderImpl(const TextEncoderOptions& options);
  // ids int64 [N, L] (0 = padding, at least one word per row) -> sentence embeddings [N, text_dim]
  torch::Tensor forward(const torch::Tensor& ids);
  TextEncoderOptions options;
  torch::nn::Embedding words{nullptr};
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear out{nullptr};
};
TORCH_MODULE(TextEncoder);

// The matching-aware discriminator loss on D's raw outputs ([N, 1] each):
// real_match is real, real_mismatch and fake_match are fake with half weight
// each (both enter the loss's fake term as one batch of 2N).
torch::Tensor matching_aware_d_loss(GanLoss loss, const torch::Tensor& real_match, const torch::Tensor& real_mismatch,
                                    const torch::Tensor& fake_match, const torch::Tensor& real_targets);

// Token ids [N, L] with each word replaced by padding with probability p
// (global RNG); a caption that would lose every word is kept whole.
torch::Tensor drop_words(const torch::Tensor& ids, double p);

// A random permutation of 0..n-1 without fixed points (a rotation by a
// random offset in [1, n-1], then relabelled by a random permutation), from
// the global RNG; n >= 2.
torch::Tensor mismatch_permutation(int64_t n);

// What D said about the three kinds of pair of one batch.
struct MatchingScores {
  torch::Tensor real_match, real_mismatch, fake_match;  // raw outputs [N, 1]
  torch::Tensor loss;                                   // matching_aware_d_loss of the three
};

class Text2ImgModel : public GanModel, public NoiseSampler {
 public:
  virtual ~Text2ImgModel() = default;
  // images: real [N, C, H, W], fake [N, C, H, W]; text int64 [N, L];
  // mismatch int64 [N], the permutation giving each image its mismatched
  // caption. Runs E and D with gradients on (the step's D update).
  virtual MatchingScores score_pairs(const torch::Tensor& real, const torch::Tensor& fake, const torch::Tensor& text,
                                     const torch::Tensor& mismatch) = 0;
  // Sentence embeddings of token ids [N, L] -> [N, text_dim] (eval mode, no gradients).
  virtual torch::Tensor embed(const torch::Tensor& text) = 0;
};

}  // namespace duel
