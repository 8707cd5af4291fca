// duel-bench-allreduce: the communication of one data-parallel step alone.
//
//   duel-bench-allreduce [--nproc 2] [--params 837504,659456] [--reps 50] [--bucket-mb 25]
//
// Starts --nproc local ranks (the same launcher as `duel train --nproc`);
// each averages gradients of the given parameter counts (default: dcgan28's
// G and D, the two all-reduces of one step) --reps times, and rank 0 prints
// one JSON line: milliseconds per step, bytes per rank per step, and the
// effective bus bandwidth of the ring (2 (W-1)/W x bytes / time).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "duel/core/error.h"
#include "duel/core/threads.h"
#include "duel/train/distributed.h"

int main(int argc, char** argv) {
  int nproc = 2, reps = 50;
  double bucket_mb = 25;
  std::vector<int64_t> counts{837504, 659456};
  std::vector<std::string> args(argv, argv + argc);
  try {
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      duel::require(i + 1 < args.size(), a + " needs a value", "see the header of bench/allreduce.cpp");
      const std::string v = args[++i];
      if (a == "--nproc") nproc = std::stoi(v);
      else if (a == "--reps") reps = std::stoi(v);
      else if (a == "--bucket-mb") bucket_mb = std::stod(v);
      else if (a == "--params") {
        counts.clear();
        std::stringstream ss(v);
        for (std::string c; std::getline(ss, c, ',');) counts.push_back(std::stoll(c));
      } else
        throw duel::Error("unknown option " + a, "see the header of bench/allreduce.cpp");
    }
    if (!std::getenv("DUEL_DIST_EXTERNAL_STORE")) return duel::launch_local_ranks(nproc, args, 60);

    duel::configure_threads(1);
    auto opts = duel::resolve_dist_options("", -1, -1);
    opts.timeout_s = 60;
    auto dist = duel::Collective::connect(opts, /*store_is_external=*/true);
    dist->set_bucket_bytes(int64_t(bucket_mb * 1048576));
    std::vector<std::vector<torch::Tensor>> nets;
    int64_t bytes = 0;
    for (auto c : counts) {
      auto p = torch::zeros({c}, torch::requires_grad());
      p.mutable_grad() = torch::randn({c});
      nets.push_back({p});
      bytes += c * 4;
    }
    auto step = [&] {
      for (auto& n : nets) dist->average_gradients(n);
    };
    for (int i = 0; i < 5; ++i) step();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    if (dist->rank() == 0) {
      const double w = double(dist->world_size());
      std::printf("{\"ranks\": %d, \"bytes_per_step\": %lld, \"ms_per_step\": %.3f, \"bus_gb_per_s\": %.3f}\n",
                  int(w), (long long)bytes, s * 1e3, 2 * (w - 1) / w * double(bytes) / s / 1e9);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
