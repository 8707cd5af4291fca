// Progress bar and plain-line rendering for `duel train`.
#include "render.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>

namespace duel::cli {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) s = 0;
  char buf[32];
  int64_t t = int64_t(s + 0.5);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(t / 3600), (long long)(t / 60 % 60));
  else std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(t / 60), (long long)(t % 60));
  return buf;
}

ProgressRenderer::ProgressRenderer(int64_t plain_every) : tty_(::isatty(STDERR_FILENO)), plain_every_(plain_every) {}

int terminal_columns() {
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) return std::atoi(c);
  return 80;
}

std::string progress_line(const ProgressReport& r, int columns) {
  const size_t room = size_t(std::max(columns - 1, 20));
  const double frac = r.total_steps ? double(r.step) / double(r.total_steps) : 0;
  char buf[128];
  std::snprintf(buf, sizeof buf, " %3.0f%% step %lld/%lld", frac * 100, (long long)r.step, (long long)r.total_steps);
  const std::string core = buf, eta = " | ETA " + format_duration(r.eta_s);
  std::snprintf(buf, sizeof buf, " | %.0f img/s", r.img_per_s);
  const std::string speed = buf, epoch = " ep " + std::to_string(r.epoch);
  std::string vals;
  for (auto& [k, v] : r.scalars) {
    std::snprintf(buf, sizeof buf, " %s %.3f", k.c_str(), v);
    if (core.size() + epoch.size() + vals.size() + std::strlen(buf) + eta.size() + 10 > room) break;
    vals += buf;
  }
  std::string line = core;
  for (const std::string* part : std::initializer_list<const std::string*>{&epoch, &vals, &speed})
    if (line.size() + part->size() + eta.size() + 10 <= room) line += *part;
  line += eta;
  const int width = int(std::min<size_t>(24, room > line.size() + 2 ? room - line.size() - 2 : 0));
  if (width >= 5) {
    const int filled = int(frac * width);
    line = "[" + std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.') + "]" + line;
  }
  return line.size() > room ? line.substr(0, room) : line;
}

void ProgressRenderer::update(const ProgressReport& r) {
  if (tty_) {
    auto now = std::chrono::steady_clock::now();
    if (r.step != r.total_steps && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    std::fprintf(stderr, "\r\033[K%s", progress_line(r, terminal_columns()).c_str());
    std::fflush(stderr);
    bar_drawn_ = true;
  } else if (r.step % plain_every_ == 0 || r.step == r.total_steps) {
    std::string vals;
    char buf[64];
    for (auto& [k, v] : r.scalars) {
      std::snprintf(buf, sizeof buf, " %s %.3f", k.c_str(), v);
      vals += buf;
    }
    std::fprintf(stderr, "step %lld/%lld epoch %lld%s | %.0f img/s | elapsed %s ETA %s\n", (long long)r.step,
                 (long long)r.total_steps, (long long)r.epoch, vals.c_str(), r.img_per_s,
                 format_duration(r.elapsed_s).c_str(), format_duration(r.eta_s).c_str());
  }
}

void ProgressRenderer::message(const std::string& prefix, const std::string& text) {
  if (bar_drawn_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s%s\n", prefix.c_str(), text.c_str());
  bar_drawn_ = false;
}

void ProgressRenderer::finish() {
  if (bar_drawn_) std::fprintf(stderr, "\n");
  bar_drawn_ = false;
}

}  // namespace duel::cli
