// What require_capability says when a model lacks a capability (models/capabilities.h).
#include "duel/models/capabilities.h"

namespace duel {

Error NoiseSampler::missing(const GanModel& model) {
  if (const auto* t = capability<ImageTranslator>(model))
    return Error("model '" + model.name() + "' translates images and draws nothing from noise",
                 "use duel translate --checkpoint CKPT --in IMAGES --out DIR" +
                     std::string(t->scale() > 1 ? " or duel upscale --checkpoint CKPT in.png out.png" : ""));
  return Error("model '" + model.name() + "' draws nothing from noise", "sample from a checkpoint of a noise model");
}

Error StyleControl::missing(const GanModel& model) {
  return Error("model '" + model.name() + "' has no style-based generator", "use a stylegan checkpoint");
}

Error CodeTraversal::missing(const GanModel& model) {
  return Error("model '" + model.name() + "' has no latent codes to traverse",
               "--traverse works with infogan checkpoints");
}

Error AnomalyScorer::missing(const GanModel& model) {
  return Error("model '" + model.name() + "' cannot score images for anomalies",
               "train an aae (adversarial autoencoder) and score with its checkpoint");
}

Error ImageTranslator::missing(const GanModel& model) {
  return Error("model '" + model.name() + "' does not translate images",
               "translate and upscale with a pix2pix, cyclegan or srgan checkpoint");
}

torch::Tensor LatentProjection::latent_penalty(const torch::Tensor& latents) const {
  if (latent_space() != "z") return torch::zeros({}, latents.options());
  // |z|^2 / d of a prior draw is close to 1; keep the optimised z there.
  auto r = latents.flatten(1).pow(2).mean(1);  // [N]
  return (r - 1).pow(2).mean();
}

Error LatentProjection::missing(const GanModel& model) {
  return Error("model '" + model.name() + "' has no generator latent to project into",
               "project with a checkpoint of mlp, dcgan, cgan, wgan, wgan-gp, infogan, progan or stylegan");
}

Error ImageJudge::missing(const GanModel& model) {
  return Error("model '" + model.name() + "' has no discriminator that judges single images",
               "judge with a checkpoint of mlp, dcgan, cgan, wgan, wgan-gp, infogan, progan, stylegan, cyclegan or "
               "srgan (pix2pix's discriminator judges input-output pairs)");
}

torch::Tensor ImageJudge::judged_by(torch::nn::Module& net, const std::function<torch::Tensor()>& forward) {
  torch::NoGradGuard no_grad;
  const bool was_training = net.is_training();
  net.eval();
  auto out = forward();
  if (was_training) net.train();
  return out.dim() > 1 ? out.flatten(1).mean(1) : out;
}

Error ImageEncoder::missing(const GanModel& model) {
  return Error("model '" + model.name() + "' has no encoder from images to codes",
               "encode with an aae (adversarial autoencoder) checkpoint");
}

}  // namespace duel
