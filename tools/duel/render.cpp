// Progress bar and plain-line rendering for `duel train`.
#include "render.h"

#include <unistd.h>

#include <cmath>
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

void ProgressRenderer::update(const ProgressReport& r) {
  std::string vals;
  char buf[64];
  for (auto& [k, v] : r.scalars) {
    std::snprintf(buf, sizeof buf, " %s %.3f", k.c_str(), v);
    vals += buf;
  }
  const double frac = r.total_steps ? double(r.step) / double(r.total_steps) : 0;
  if (tty_) {
    auto now = std::chrono::steady_clock::now();
    if (r.step != r.total_steps && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 24;
    int filled = int(frac * width);
    std::string bar(size_t(filled), '#');
    bar += std::string(size_t(width - filled), '.');
    std::fprintf(stderr, "\r\033[K[%s] %3.0f%% step %lld/%lld ep %lld%s | %.0f img/s | ETA %s", bar.c_str(),
                 frac * 100, (long long)r.step, (long long)r.total_steps, (long long)r.epoch, vals.c_str(),
                 r.img_per_s, format_duration(r.eta_s).c_str());
    std::fflush(stderr);
    bar_drawn_ = true;
  } else if (r.step % plain_every_ == 0 || r.step == r.total_steps) {
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
