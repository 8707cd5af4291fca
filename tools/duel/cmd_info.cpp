// `duel info`: what a checkpoint holds.
#include <cstdio>

#include "commands.h"
#include "duel/apps/checkpoint_compare.h"
#include "duel/apps/model_loading.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/models/model.h"

namespace duel::cli {

namespace {
Action add_info(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto show_config = std::make_shared<bool>(false);
  auto compare = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("info", "describe a checkpoint");
  cmd->add_option("checkpoint", *path, "checkpoint file")->required();
  cmd->add_flag("--config", *show_config, "also print the full resolved config");
  cmd->add_option("--compare", *compare,
                  "another checkpoint of the same model: print the largest weight difference of each net");
  return [path, show_config, compare]() -> int {
    apply_threads(1);
    *path = checkpoint_arg(*path);
    Checkpoint ck = Checkpoint::read(*path);
    Config cfg;
    auto model = load_model(ck, cfg);
    const auto& st = ck.state();
    std::printf("checkpoint:  %s\n", path->c_str());
    std::printf("format:      duel checkpoint v%u (checksum ok)\n", ck.format());
    std::printf("model:       %s\n", ck.model_name().c_str());
    std::printf("step:        %lld (epoch %lld, next batch %lld)\n", (long long)st.step, (long long)st.loader.epoch,
                (long long)st.loader.batch);
    std::printf("data:        %s, %lld channel(s), %lldx%lld px, %lld classes\n", cfg.get_string("data.dataset").c_str(),
                (long long)st.shape.channels, (long long)st.shape.size, (long long)st.shape.size,
                (long long)st.shape.num_classes);
    if (st.shape.target_channels > 0)
      std::printf("B images:    %lld channel(s), %s (data.pair = %s)\n", (long long)st.shape.target_channels,
                  st.shape.paired ? "paired" : "unpaired", cfg.get_string("data.pair").c_str());
    else
      std::printf("latent_dim:  %lld\n", (long long)cfg.get_int("model.latent_dim"));
    if (st.shape.text_length > 0) {
      std::printf("captions:    %lld words, up to %lld per prompt (data.captions = %s)\nvocabulary: ",
                  (long long)st.shape.vocabulary.size() - 1, (long long)st.shape.text_length,
                  cfg.get_string("data.captions").c_str());
      for (size_t i = 1; i < st.shape.vocabulary.size(); ++i) std::printf(" %s", st.shape.vocabulary[i].c_str());
      std::printf("\n");
    }
    for (auto& [name, net] : model->nets())
      std::printf("net %-8s %lld parameters, weights digest %08x\n", name.c_str(),
                  (long long)model->parameter_count(name), weights_digest(*net));
    for (auto& [name, opt] : model->optimizers())
      std::printf("optimizer %-3s %zu parameter groups, state saved\n", name.c_str(), opt->param_groups().size());
    // The model's extra state: its single numbers (progan's phase, ADA's p), and how many tensors besides.
    {
      int64_t tensors = 0;
      for (auto& [key, t] : model->extra_state()) {
        const bool averaged_weight = key.rfind("ema.", 0) == 0 && key.find(".updates") == std::string::npos;
        if (t.numel() == 1 && !averaged_weight) std::printf("state %-17s %.6g\n", key.c_str(), t.to(torch::kFloat64).item<double>());
        else ++tensors;
      }
      if (tensors > 0) std::printf("state %-17s %lld more tensors (moving averages, pools, ...)\n", "", (long long)tensors);
    }
    std::printf("fixed noise: %lld x %lld\n", (long long)st.fixed_noise.size(0), (long long)st.fixed_noise.size(1));
    if (st.rank_rng_states.defined())
      std::printf("ranks:       %lld (distributed run; every rank's random state saved)\n",
                  (long long)st.rank_rng_states.size(0));
    if (!compare->empty()) {
      *compare = checkpoint_arg(*compare);
      Checkpoint other = Checkpoint::read(*compare);
      Config other_cfg;
      auto other_model = load_model(other, other_cfg);
      for (const auto& d : compare_checkpoint_weights(*model, ck.model_name(), *other_model, other.model_name(), *compare))
        std::printf("compare %-8s relative difference %.3g, max |difference| %.3g (largest |weight| %.3g)\n",
                    d.net.c_str(), d.relative, d.max_abs_difference, d.max_abs_weight);
    }
    if (*show_config) std::printf("\n%s", cfg.to_toml().c_str());
    return 0;
  };
}

}  // namespace

DUEL_CLI_COMMAND(30, "info", add_info);

}  // namespace duel::cli
