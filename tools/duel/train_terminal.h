// `duel train`'s signal handling and the callback that feeds the terminal
// (train_terminal.cpp).
#pragma once
#include <memory>

namespace duel {
class TrainCallback;
}

namespace duel::cli {

class ProgressRenderer;

// SIGINT/SIGTERM: the first stops training after a final checkpoint, a
// second exits at once (128 + signal) naming the last checkpoint's step.
void install_train_signal_handlers();
int received_signal();  // 0 when none came
// Tells `bar` the run's train.log_every and the handlers each new checkpoint.
std::shared_ptr<TrainCallback> make_terminal_callback(ProgressRenderer& bar);

}  // namespace duel::cli
