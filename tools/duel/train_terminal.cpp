// `duel train`'s terminal side besides the bar: SIGINT/SIGTERM handling (the
// first signal asks the trainer to stop after a final checkpoint; a second
// one exits at once, saying which checkpoint is the last one) and the
// callback that tells the renderer the run's train.log_every and the
// handler the step of the newest checkpoint on disk.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/train/callback.h"
#include "duel/train/trainer.h"
#include "render.h"
#include "train_terminal.h"

namespace duel::cli {
namespace {

volatile std::sig_atomic_t g_signal = 0;
// The second interrupt's message, written before any signal can need it.
char g_messages[2][160];
std::atomic<int> g_message{-1};

// `last`: the newest checkpoint on disk (-1: none); `writing`: one being written (-1: none).
void set_message(int64_t last, int64_t writing) {
  const int slot = g_message.load() == 0 ? 1 : 0;
  char* m = g_messages[slot];
  const size_t size = sizeof g_messages[slot];
  int used = std::snprintf(m, size, "\nsecond interrupt: exiting without a checkpoint; ");
  if (last >= 0) used += std::snprintf(m + used, size - size_t(used), "the last checkpoint is step %lld", (long long)last);
  else used += std::snprintf(m + used, size - size_t(used), "the run has no checkpoint yet");
  if (writing >= 0)
    used += std::snprintf(m + used, size - size_t(used), " (or step %lld, if its write had finished)", (long long)writing);
  std::snprintf(m + used, size - size_t(used), "\n");
  g_message.store(slot);
}

void on_signal(int sig) {
  if (g_signal != 0) {  // second signal: leave now
    const int slot = g_message.load();
    if (slot >= 0) {
      ssize_t ignored = ::write(STDERR_FILENO, g_messages[slot], std::strlen(g_messages[slot]));
      (void)ignored;
    }
    _exit(128 + sig);
  }
  g_signal = sig;
  stop_requested().store(true);
}

class TerminalCallback : public TrainCallback {
 public:
  explicit TerminalCallback(ProgressRenderer& bar) : bar_(bar) {}
  void on_start(const TrainRun& run) override {
    bar_.set_plain_every(run.config.get_int("train.log_every"));
    if (run.state.step > 0) set_message(last_ = run.state.step, -1);  // a resumed run starts from a checkpoint
  }
  // on_checkpoint comes before the write; the next step or grid comes after it.
  void on_checkpoint(const TrainRun& run) override { set_message(last_, writing_ = run.state.step); }
  void on_step(const TrainRun&) override { written(); }
  void on_grid(const TrainRun&, const GridEvent&) override { written(); }

 private:
  void written() {
    if (writing_ < 0) return;
    last_ = writing_;
    writing_ = -1;
    set_message(last_, -1);
  }
  ProgressRenderer& bar_;
  int64_t last_ = -1, writing_ = -1;
};

}  // namespace

void install_train_signal_handlers() {
  set_message(-1, -1);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

int received_signal() { return int(g_signal); }

std::shared_ptr<TrainCallback> make_terminal_callback(ProgressRenderer& bar) {
  return std::make_shared<TerminalCallback>(bar);
}

}  // namespace duel::cli
