// Training my-gan from C++ with duel's trainer, without the command line:
//   train-my-gan RUN_DIR [STEPS]
// The run folder is a normal duel run: `custom-gan sample -k RUN_DIR`,
// `custom-gan eval -k RUN_DIR` and `duel report RUN_DIR` read it.
#include <duel/core/config.h>
#include <duel/core/error.h>
#include <duel/core/threads.h>
#include <duel/models/model.h>
#include <duel/train/trainer.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: train-my-gan RUN_DIR [STEPS]\n";
    return 2;
  }
  try {
    duel::configure_threads(2);
    duel::Config cfg;  // every key at its default: Fashion-MNIST, batch 64, Adam(2e-4, 0.5, 0.999)
    cfg.set("model.name", duel::ConfigValue(std::string("my-gan")));
    cfg.set("train.steps", duel::ConfigValue(int64_t(argc > 2 ? std::stoll(argv[2]) : 1000)));
    cfg.set("train.sample_every", duel::ConfigValue(int64_t(0)));
    duel::apply_model_defaults(cfg);
    duel::TrainRequest request;
    request.config = cfg;
    request.run_dir = argv[1];
    duel::TrainerEvents events;
    events.info = [](const std::string& line) { std::cerr << line << "\n"; };
    events.warning = [](const std::string& line) { std::cerr << "warning: " << line << "\n"; };
    const duel::TrainSummary done = duel::train(request, events);
    std::cout << "trained " << done.steps_done << " steps at " << done.img_per_s << " img/s; checkpoint "
              << done.checkpoint << "\n";
    return 0;
  } catch (const duel::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << "\n";
    return 2;
  }
}
