// Data-parallel training over processes and machines on PyTorch's c10d:
// a TCPStore rendezvous and ProcessGroupGloo collectives (docs/distributed.md).
//
// Every rank runs the same trainer on its shard of each global batch
// (LoaderOptions::shard); after each backward the gradients of the net about
// to step are averaged over the ranks (Collective::average_gradients), so all
// ranks hold the same weights after every update. Rank 0 alone writes the run
// folder. This header keeps c10d out of every other translation unit.
#pragma once
#include <torch/nn/module.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace duel {

class Checkpoint;
class Config;
class GanModel;
class ScopedBatchShard;
struct TrainState;

struct DistOptions {
  int64_t world_size = 1;
  int64_t rank = 0;
  int64_t local_rank = 0;
  std::string host;  // rendezvous host (rank 0's store)
  int64_t port = 0;
  double timeout_s = 300;  // a collective or rendezvous waiting longer fails
  // Local runs (`--nproc`): the launcher's rendezvous file (c10d FileStore,
  // mode 0600) instead of a TCP store, so no port is opened at all; the ranks'
  // Gloo connections then use loopback only.
  std::string file_store;
  // Runs with a TCP rendezvous (--dist, MASTER_ADDR): the shared secret every
  // rank proves to rank 0's store (from DUEL_DIST_SECRET, never argv); whether
  // rank 0 may listen on every interface (dist.listen_all); the network
  // interface for the ranks' Gloo connections (dist.interface; empty: the one
  // that routes to rank 0); where the store reports connections it dropped.
  std::string secret;
  bool listen_all = false;
  std::string interface;
  std::function<void(const std::string&)> log;
  bool enabled() const { return world_size > 1; }
};

// The options of this process: from `--dist tcp://HOST:PORT --world-size W
// --rank R` when given, else from MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK
// and LOCAL_RANK (torchrun, Slurm and Kubernetes launchers), else a single
// process. Throws duel::Error naming the bad value.
DistOptions resolve_dist_options(const std::string& url, int64_t world_size, int64_t rank);

// Parses "tcp://HOST:PORT" (IPv6 hosts in brackets); throws duel::Error.
std::pair<std::string, int64_t> parse_dist_url(const std::string& url);

class Collective {
 public:
  // Joins the group: rank 0 hosts the TCPStore at host:port unless
  // `store_is_external` (duel train --nproc hosts it in the launcher).
  static std::unique_ptr<Collective> connect(const DistOptions& options, bool store_is_external = false);
  virtual ~Collective() = default;

  virtual int64_t rank() const = 0;
  virtual int64_t world_size() const = 0;
  // Averages the defined gradients of `params` over the ranks, in buckets of
  // at most bucket_bytes (one all-reduce per bucket, all in flight at once).
  virtual void average_gradients(const std::vector<torch::Tensor>& params) = 0;
  // Sums a tensor over the ranks, in place.
  virtual void sum(torch::Tensor& t) = 0;
  // Rank 0's tensor (or bytes) on every rank.
  virtual void broadcast(torch::Tensor& t) = 0;
  virtual std::string broadcast_bytes(const std::string& bytes) = 0;
  // Every rank's tensor stacked in rank order: [world, ...].
  virtual torch::Tensor all_gather(const torch::Tensor& t) = 0;
  // Seconds spent in collectives so far (the communication share of a step).
  virtual double comm_seconds() const = 0;
  virtual void set_bucket_bytes(int64_t bytes) = 0;
};

// The trainer's side of a data-parallel run: joining the group, the batch
// shard (a ScopedBatchShard reset when the run ends), rank 0's weights on
// every rank, gradient averaging, the ranks' agreement on stopping and
// divergence, the means of logged rows over the ranks, and the checks and
// gathers before a checkpoint. A default-constructed DataParallel is a single
// process: every call is the identity or does nothing.
class DataParallel {
 public:
  DataParallel();
  // Joins the group of options (options.enabled()), waiting at most timeout_s.
  DataParallel(const DistOptions& options, bool store_is_external, double timeout_s);
  ~DataParallel();
  DataParallel(DataParallel&&) noexcept;
  DataParallel& operator=(DataParallel&&) noexcept;

  bool enabled() const { return collective_ != nullptr; }
  int64_t rank() const;
  int64_t world() const;
  bool writer() const { return rank() == 0; }  // rank 0 alone writes the run folder
  double comm_seconds() const;

  // A checkpoint every rank loads: rank 0 reads it and sends its bytes, so
  // the other ranks need no shared filesystem.
  Checkpoint shared_checkpoint(const std::function<Checkpoint()>& read_on_rank0, torch::Device device);
  // Once the model is built: sets the batch shard (dist.sync_bn), the gradient
  // buckets (dist.bucket_mb) and copies rank 0's weights to every rank.
  void setup(GanModel& model, const Config& cfg);
  // StepContext::after_backward: averages the gradients of the named optimizer
  // or net over the ranks (except `skip`, debug.dist_skip_average); empty for one process.
  std::function<void(const std::string&)> gradient_averaging(GanModel& model, const std::string& skip);
  // Whether any rank was asked to stop and whether every rank's step was
  // finite: {stop, ok} the same on every rank.
  std::pair<bool, bool> agree(bool stop, bool ok);
  // Replaces interval sums by their means over the ranks.
  void mean_over_ranks(std::vector<std::pair<std::string, torch::Tensor>>& sums);
  // This rank's generator state in a checkpoint (every rank's is kept in distributed runs).
  torch::Tensor rng_state_of(const TrainState& state) const;
  // Before a checkpoint: every rank's generator state into state, rank 0's
  // batch norm statistics (unless synchronised), and the check that the ranks
  // hold the same weights (duel::Error naming the net otherwise).
  void prepare_checkpoint(GanModel& model, TrainState& state, bool sync_bn);

 private:
  std::unique_ptr<Collective> collective_;
  std::unique_ptr<ScopedBatchShard> shard_;  // destroyed first: nothing keeps pointing at collective_
  std::map<std::string, std::vector<torch::Tensor>> grad_groups_;
};

// Starts `nproc` copies of this program (argv with --nproc removed) as ranks
// 0..nproc-1 on this machine, with a rendezvous store on 127.0.0.1 at a free
// port, forwards SIGINT/SIGTERM to them, and waits. When a rank fails, the
// others get timeout_s to finish before they are killed. Returns the exit
// status for the launcher (0, or the first failing rank's).
// Ranks die with the launcher (PR_SET_PDEATHSIG): they stop as on SIGTERM.
int launch_local_ranks(int nproc, const std::vector<std::string>& argv, double timeout_s);

// This process's command line without `--nproc N` / `--nproc=N`: what each
// rank of a `duel train --nproc N` runs.
std::vector<std::string> rank_command_line();

}  // namespace duel
