// wgan and wgan-gp: DCGAN nets trained as a Wasserstein GAN.
//
// wgan (Arjovsky et al. 2017): the critic's weights are clipped to [-c, c]
// after every update (train.weight_clip, 0.01), RMSprop at 5e-5, 5 critic
// updates per generator update.
// wgan-gp (Gulrajani et al. 2017): instead of clipping, the gradient penalty
// lambda E(||grad D(x^)|| - 1)^2 on random interpolates (train.gp_weight, 10),
// Adam(1e-4, beta1 0, beta2 0.9), 5 critic updates, and layer norm instead of
// batch norm in the critic (the penalty is per sample, batch norm mixes them).
//
// Both log the critic's Wasserstein estimate E D(x) - E D(G(z)) as w_estimate.
// The defaults below apply unless the config sets the key; the checks keep a
// run named wgan a WGAN.
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/dcgan.h"
#include "duel/models/model.h"

namespace duel {
namespace {

void require_wasserstein(const Config& cfg, const std::string& model) {
  require(cfg.get_string("train.loss") == "wasserstein",
          "model '" + model + "' trains with train.loss=wasserstein, not '" + cfg.get_string("train.loss") + "'",
          "drop the train.loss setting, or use model.name=dcgan with the loss you want");
}

std::unique_ptr<GanModel> make_wgan(const Config& cfg, const DataShape& shape) {
  require_wasserstein(cfg, "wgan");
  require(cfg.get_float("train.weight_clip") > 0, "model 'wgan' needs train.weight_clip > 0 (the Lipschitz constraint)",
          "set train.weight_clip=0.01, or use model.name=wgan-gp for the gradient penalty");
  return make_dcgan_model(cfg, shape, "wgan");
}

std::unique_ptr<GanModel> make_wgan_gp(const Config& cfg, const DataShape& shape) {
  require_wasserstein(cfg, "wgan-gp");
  require(cfg.get_float("train.gp_weight") > 0, "model 'wgan-gp' needs train.gp_weight > 0 (the gradient penalty)",
          "set train.gp_weight=10");
  require(cfg.get_string("model.d_norm") != "batch",
          "model 'wgan-gp' cannot use batch norm in the critic (model.d_norm=batch): the penalty is per sample",
          "set model.d_norm=layer or none");
  return make_dcgan_model(cfg, shape, "wgan-gp");
}

}  // namespace

DUEL_REGISTER_MODEL("wgan", "Wasserstein GAN, weight clipping (DCGAN nets, RMSprop, 5 critic steps)", make_wgan,
                    ModelDefaults{{"train.loss", std::string("wasserstein")},
                                  {"train.weight_clip", 0.01},
                                  {"train.d_steps", int64_t(5)},
                                  {"optim.optimizer", std::string("rmsprop")},
                                  {"optim.g_lr", 5e-5},
                                  {"optim.d_lr", 5e-5}});

DUEL_REGISTER_MODEL("wgan-gp", "Wasserstein GAN with gradient penalty (DCGAN nets, layer-norm critic, 5 critic steps)",
                    make_wgan_gp,
                    ModelDefaults{{"train.loss", std::string("wasserstein")},
                                  {"train.gp_weight", 10.0},
                                  {"train.d_steps", int64_t(5)},
                                  {"model.d_norm", std::string("layer")},
                                  {"optim.g_lr", 1e-4},
                                  {"optim.d_lr", 1e-4},
                                  {"optim.g_beta1", 0.0},
                                  {"optim.d_beta1", 0.0},
                                  {"optim.g_beta2", 0.9},
                                  {"optim.d_beta2", 0.9}});

}  // namespace duel
