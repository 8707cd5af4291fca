// duel-bench: throughput of one model's training step, printed as one JSON
// line in the same form as the PyTorch reference (shared/bench/dcgan_ref.py):
//
//   duel-bench --config configs/dcgan28.toml --steps 100 --threads 2 [--synthetic] [--profile trace.json]
//
// --profile records the timed steps with LibTorch's profiler as a Chrome
// trace (scripts/profile_summary.py sums it by operator).
//
// The step timed is exactly `duel train`'s (GanModel::step with the loader
// feeding batches), without logging, sampling or checkpoints.
#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <string>

#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && defined(USE_C10D_NCCL)
#include <c10/cuda/CUDACachingAllocator.h>
#define DUEL_HAVE_CUDA_STATS 1
#endif

#include "duel/core/autocast.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/threads.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"
#include "duel/models/model.h"

int main(int argc, char** argv) {
  std::string config_path;
  std::vector<std::string> sets;
  int64_t steps = 100, warmup = 5;
  int threads = 0;
  bool synthetic = false;
  std::string profile;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--config") config_path = next();
      else if (a == "--set") sets.push_back(next());
      else if (a == "--steps") steps = std::stoll(next());
      else if (a == "--warmup") warmup = std::stoll(next());
      else if (a == "--threads") threads = std::stoi(next());
      else if (a == "--synthetic") synthetic = true;
      else if (a == "--profile") profile = next();
      else {
        std::fprintf(stderr, "usage: duel-bench [--config F] [--set k=v]... [--steps N] [--warmup N] [--threads N] [--synthetic] [--profile F]\n");
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "error: bad value for %s\n", a.c_str());
      return 2;
    }
  }
  try {
    duel::configure_threads(threads);
    duel::Config cfg = config_path.empty() ? duel::Config() : duel::Config::from_file(config_path);
    for (auto& s : sets) cfg.set_from_string(s);
    const bool cuda = cfg.get_string("run.device") == "cuda";
    const torch::Device device(cuda ? torch::kCUDA : torch::kCPU);
    torch::manual_seed(uint64_t(cfg.get_int("run.seed")));
    duel::ImageSet data;
    if (synthetic) {
      int64_t size = cfg.get_int("data.image_size") ? cfg.get_int("data.image_size") : 28;
      int64_t ch = cfg.get_int("data.channels") ? cfg.get_int("data.channels") : 1;
      data.images = torch::randint(0, 256, {60000, ch, size, size}, torch::kUInt8);
      data.description = "synthetic";
    } else {
      data = duel::open_dataset(cfg);
    }
    duel::DataShape shape{data.images.size(1), data.images.size(2), data.num_classes};
    auto model = duel::create_model(cfg, shape);
    model->to(device);
    duel::LoaderOptions lo;
    lo.batch_size = cfg.get_int("train.batch_size");
    lo.seed = uint64_t(cfg.get_int("run.seed"));
    lo.prefetch = duel::resolve_prefetch(cfg.get_int("data.prefetch"), device);
    lo.device = device;
    lo.channels_last = cfg.get_bool("perf.channels_last");
    if (lo.channels_last) model->set_channels_last();
    duel::Loader loader(data, lo);
    duel::StepContext ctx;
    ctx.next_batch = [&] { return loader.next(); };
    duel::Scalars last;
    auto run = [&](int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        duel::AutocastScope amp(cfg.get_string("perf.amp") == "bf16", !cuda);
        last = model->step(loader.next(), ctx);
      }
    };
    run(warmup);
    if (cuda) torch::cuda::synchronize();
    auto cpu_now = [] {
      timespec t{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
      return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
    };
    const double c0 = cpu_now();
    auto t0 = std::chrono::steady_clock::now();
    if (profile.empty()) {
      run(steps);
    } else {
      torch::autograd::profiler::RecordProfile record(profile);
      run(steps);
    }
    double loss_d = last[0].second.item<double>(), loss_g = last[1].second.item<double>();
    if (cuda) torch::cuda::synchronize();
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu_s = cpu_now() - c0;
    double gpu_peak_mb = 0;
#ifdef DUEL_HAVE_CUDA_STATS
    if (cuda) {
      auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
      gpu_peak_mb = double(stats.allocated_bytes[0].peak) / (1 << 20);
    }
#endif
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "{\"impl\": \"duel\", \"model\": \"%s\", \"device\": \"%s\", \"threads\": %d, \"batch\": %lld, \"steps\": %lld, "
        "\"seconds\": %.3f, \"cpu_seconds\": %.3f, \"img_per_s\": %.1f, \"loss_d\": %.4f, \"loss_g\": %.4f, "
        "\"max_rss_mb\": %.1f, \"gpu_peak_mb\": %.1f, \"size\": %lld}\n",
        model->name().c_str(), cuda ? "cuda" : "cpu", at::get_num_threads(), (long long)lo.batch_size, (long long)steps,
        dt, cpu_s, double(steps * lo.batch_size) / dt, loss_d, loss_g, ru.ru_maxrss / 1024.0, gpu_peak_mb,
        (long long)shape.size);
    return 0;
  } catch (const duel::Error& e) {
    std::fprintf(stderr, "error: %s\nhint: %s\n", e.what(), e.hint().c_str());
    return 2;
  }
}
