// Terminal rendering of training progress: a one-line bar redrawn in place
// on a TTY, plain log lines otherwise.
#pragma once
#include <chrono>
#include <string>

#include "duel/train/trainer.h"

namespace duel::cli {

class ProgressRenderer {
 public:
  explicit ProgressRenderer(int64_t plain_every = 50);
  void update(const ProgressReport& r);
  void message(const std::string& prefix, const std::string& text);  // prints above the bar
  void finish();

 private:
  bool tty_;
  int64_t plain_every_;
  bool bar_drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

std::string format_duration(double seconds);

}  // namespace duel::cli
