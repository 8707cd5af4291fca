// InfoGAN (Chen et al. 2016): a GAN whose generator also reads structured
// latent codes c, and whose discriminator carries an auxiliary head Q that
// recovers c from the image. Maximising a variational lower bound on the
// mutual information I(c; G(z, c)) makes each code control one
// interpretable factor (the class, the stroke width, ...).
//
// Codes (model.info_*): `cat_codes` categorical codes of `cat_dim` values
// each, drawn uniformly and fed to G one-hot, then `cont_codes` continuous
// codes ~ U(-1, 1). G's input is [z | one-hot codes | continuous codes].
// They are named c1, c2, ... in that order: categorical first, continuous
// after (1 categorical + 2 continuous: c1 categorical, c2 and c3 continuous).
//
// D is the DCGAN discriminator whose trunk is shared by the adversarial head
// and the Q head; Q lives inside the net saved as "D", so it is trained by D's
// optimizer and checkpointed, frozen and averaged with it.
#pragma once
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "duel/models/dcgan.h"

namespace duel {

struct InfoCodesOptions {
  TORCH_ARG(int64_t, cat_codes) = 1;     // number of categorical codes
  TORCH_ARG(int64_t, cat_dim) = 10;      // values of each categorical code
  TORCH_ARG(int64_t, cont_codes) = 2;    // number of continuous codes, each ~ U(-1, 1)
  TORCH_ARG(bool, learned_std) = false;  // Q also predicts a log-std per continuous code
  TORCH_ARG(int64_t, q_hidden) = 128;    // width of Q's hidden layer
 public:  // TORCH_ARG leaves the section private
  // Columns the codes add to G's input: one-hot categorical + continuous.
  int64_t input_width() const { return cat_codes() * cat_dim() + cont_codes(); }
  // Columns of Q's output: categorical logits, continuous means (, log-stds).
  int64_t q_width() const { return input_width() + (learned_std() ? cont_codes() : 0); }
};

// The discriminator of infogan: a DcganDiscriminator trunk with two heads.
class InfoganDiscriminatorImpl : public torch::nn::Module {
 public:
  InfoganDiscriminatorImpl(const DcganOptions& net_options, const InfoCodesOptions& codes);
  // x [N, C, S, S] -> logits [N, 1]
  torch::Tensor forward(const torch::Tensor& x);
  // x [N, C, S, S] -> trunk features [N, c, k, k]
  torch::Tensor features(const torch::Tensor& x);
  // trunk features [N, c, k, k] -> adversarial logits [N, 1]
  torch::Tensor head(const torch::Tensor& h);
  // trunk features [N, c, k, k] -> Q outputs [N, codes.q_width()]
  torch::Tensor q(const torch::Tensor& h);
  DcganDiscriminator net{nullptr};
  // Conv k x k (c -> q_hidden) + LeakyReLU(0.2) + 1x1 conv (q_hidden -> q_width); never
  // spectrally normalised (Q is a code regressor, not a critic).
  torch::nn::Sequential q_head{nullptr};
  InfoCodesOptions codes;
};
TORCH_MODULE(InfoganDiscriminator);

// The mutual-information terms of one batch.
struct InfoTerms {
  torch::Tensor loss;      // cat + cont_weight * cont (what lambda multiplies)
  torch::Tensor cat;       // sum over categorical codes of the mean cross-entropy (undefined without any)
  torch::Tensor cont;      // sum over continuous codes of the mean Gaussian NLL, up to 0.5 log(2 pi) (undefined without any)
  torch::Tensor cat_acc;   // share of categorical codes Q recovers (argmax == code)
  torch::Tensor cont_mse;  // mean squared error of Q's means against the continuous codes
};

// Q's outputs q [N, q_width] against the codes the images were made from,
// codes [N, input_width] (the tail of G's input). Requires matching widths.
// With a fixed std the continuous NLL is 0.5 (c - mu)^2; with a learned one
// it is 0.5 ((c - mu) / sigma)^2 + log sigma, log sigma clamped to [-5, 2].
InfoTerms info_terms(const torch::Tensor& q, const torch::Tensor& codes, const InfoCodesOptions& options,
                     double cont_weight = 1.0);

}  // namespace duel
