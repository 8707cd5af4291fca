// Terminal rendering of training progress: a one-line bar redrawn in place
// on a TTY, fitted to the terminal's width (TIOCGWINSZ, else $COLUMNS, else
// 80) so a redraw never wraps; plain log lines every train.log_every steps
// otherwise.
#pragma once
#include <chrono>
#include <string>

#include "duel/train/trainer.h"

namespace duel::cli {

class ProgressRenderer {
 public:
  explicit ProgressRenderer(int64_t plain_every = 50);
  void set_plain_every(int64_t steps) { plain_every_ = steps > 0 ? steps : 1; }  // the run's train.log_every
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
// The progress line for a terminal `columns` wide: at most columns - 1
// characters; the bar, the losses and the speed go first when it is narrow.
std::string progress_line(const ProgressReport& r, int columns);
int terminal_columns();

}  // namespace duel::cli
