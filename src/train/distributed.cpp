// c10d process groups for data-parallel training; see the header.
// Compiled with USE_C10D_GLOO (CMakeLists.txt), which LibTorch's c10d
// headers need to declare ProcessGroupGloo.
#include "duel/train/distributed.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/FileStore.hpp>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/shard.h"
#include "duel/train/auth_store.h"
#include "duel/models/model.h"
#include "duel/checkpoint/checkpoint.h"

namespace duel {

namespace {

int64_t parse_int(const std::string& text, const std::string& what, int64_t lo, int64_t hi) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (...) {
    used = 0;
  }
  require(used == text.size() && !text.empty() && v >= lo && v <= hi,
          what + " = '" + text + "' is not a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]",
          "see docs/distributed.md");
  return v;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

const std::string kHint = "another rank exited or stopped answering (see its output); once all ranks are "
                          "stopped, continue the run with `duel train --resume` on every rank";

}  // namespace

std::pair<std::string, int64_t> parse_dist_url(const std::string& url) {
  const std::string scheme = "tcp://";
  require(url.rfind(scheme, 0) == 0, "--dist '" + url + "' is not a tcp:// address",
          "pass --dist tcp://HOST:PORT (rank 0's host and a free port)");
  std::string rest = url.substr(scheme.size());
  std::string host, port;
  if (!rest.empty() && rest[0] == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    require(close != std::string::npos && close + 1 < rest.size() && rest[close + 1] == ':',
            "--dist '" + url + "' has no port", "pass --dist tcp://[ADDRESS]:PORT");
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    require(colon != std::string::npos && colon > 0, "--dist '" + url + "' has no host or port",
            "pass --dist tcp://HOST:PORT");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  return {host, parse_int(port, "the port of --dist '" + url + "'", 1, 65535)};
}

namespace {
// The shared secret of a run with a TCP rendezvous, from the environment only
// (a command line is visible to every user through ps).
std::string dist_secret() {
  const std::string secret = env("DUEL_DIST_SECRET");
  require(secret.size() >= 16,
          secret.empty() ? std::string("a run across machines needs a shared secret, and DUEL_DIST_SECRET is not set")
                         : "DUEL_DIST_SECRET is too short (" + std::to_string(secret.size()) + " characters; at least 16)",
          "export the same random DUEL_DIST_SECRET on every rank, e.g. DUEL_DIST_SECRET=$(openssl rand -hex 16); "
          "it is read from the environment only, never from the command line");
  return secret;
}
}  // namespace

DistOptions resolve_dist_options(const std::string& url, int64_t world_size, int64_t rank) {
  DistOptions o;
  if (!url.empty()) {
    std::tie(o.host, o.port) = parse_dist_url(url);
    require(world_size >= 1, "--dist needs --world-size", "pass --world-size W (the number of ranks)");
    require(rank >= 0 && rank < world_size,
            "--rank " + std::to_string(rank) + " is outside [0, " + std::to_string(world_size) + ")",
            "number the ranks 0 to world size - 1");
    o.world_size = world_size;
    o.rank = rank;
    o.local_rank = env("LOCAL_RANK").empty() ? 0 : parse_int(env("LOCAL_RANK"), "LOCAL_RANK", 0, 1 << 20);
    o.secret = dist_secret();
    return o;
  }
  require(world_size < 0 && rank < 0, "--world-size and --rank need --dist tcp://HOST:PORT",
          "pass --dist, or set MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK in the environment");
  if (env("WORLD_SIZE").empty()) return o;  // a single process
  o.world_size = parse_int(env("WORLD_SIZE"), "WORLD_SIZE", 1, 1 << 20);
  if (o.world_size == 1) return o;
  require(!env("RANK").empty(), "WORLD_SIZE is set but RANK is not", "set RANK (0 to WORLD_SIZE - 1) for each process");
  o.rank = parse_int(env("RANK"), "RANK", 0, o.world_size - 1);
  o.local_rank = env("LOCAL_RANK").empty() ? 0 : parse_int(env("LOCAL_RANK"), "LOCAL_RANK", 0, 1 << 20);
  if (!env("DUEL_DIST_FILE_STORE").empty()) {  // a rank of `duel train --nproc`
    o.file_store = env("DUEL_DIST_FILE_STORE");
    o.host = "127.0.0.1";
    return o;
  }
  require(!env("MASTER_ADDR").empty() && !env("MASTER_PORT").empty(),
          "WORLD_SIZE = " + std::to_string(o.world_size) + " but MASTER_ADDR or MASTER_PORT is not set",
          "set MASTER_ADDR and MASTER_PORT to rank 0's host and a free port");
  o.host = env("MASTER_ADDR");
  o.port = parse_int(env("MASTER_PORT"), "MASTER_PORT", 1, 65535);
  o.secret = dist_secret();
  return o;
}

namespace {

// c10d's Store over duel's authenticated store (auth_store.h): rank 0 serves
// it on the --dist address only, and every rank (rank 0 too) is a client that
// proved the shared secret.
class AuthStore : public c10d::Store {
 public:
  AuthStore(const DistOptions& o, bool serve, std::chrono::milliseconds timeout) : Store(timeout) {
    if (serve) server_ = std::make_unique<AuthStoreServer>(o.host, int(o.port), o.secret, o.listen_all, o.log);
    client_ = std::make_unique<AuthStoreClient>(o.host, server_ ? server_->port() : int(o.port), o.secret, timeout);
  }
  void set(const std::string& key, const std::vector<uint8_t>& value) override { client_->set(key, value); }
  std::vector<uint8_t> get(const std::string& key) override { return client_->get(key, timeout_); }
  int64_t add(const std::string& key, int64_t value) override { return client_->add(key, value); }
  bool deleteKey(const std::string& key) override { return client_->erase(key); }
  bool check(const std::vector<std::string>& keys) override {
    for (const auto& k : keys)
      if (!client_->check(k)) return false;
    return true;
  }
  int64_t getNumKeys() override { return client_->size(); }
  void wait(const std::vector<std::string>& keys) override { wait(keys, timeout_); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& k : keys) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      require(client_->wait(k, std::max(left, std::chrono::milliseconds(0))),
              "rendezvous key '" + k + "' did not appear within " + std::to_string(timeout.count() / 1000) + " s",
              "start every rank within dist.timeout_s");
    }
  }

 private:
  std::unique_ptr<AuthStoreServer> server_;  // rank 0 only; declared first, destroyed last
  std::unique_ptr<AuthStoreClient> client_;
};

// This machine's address on the route to `host` (no packet is sent): the
// interface the ranks' Gloo connections bind to when dist.interface is unset.
std::string local_address_towards(const std::string& host, int64_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) return host;
  std::string out = host;
  const int fd = ::socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  char name[NI_MAXHOST];
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
      ::getnameinfo(reinterpret_cast<sockaddr*>(&local), len, name, sizeof name, nullptr, 0, NI_NUMERICHOST) == 0)
    out = name;
  if (fd >= 0) ::close(fd);
  ::freeaddrinfo(res);
  return out;
}

class GlooCollective : public Collective {
 public:
  GlooCollective(const DistOptions& o, bool store_is_external) : opt_(o) {
    const auto timeout = std::chrono::milliseconds(int64_t(o.timeout_s * 1000));
    try {
      c10::intrusive_ptr<c10d::Store> store;
      if (!o.file_store.empty()) {
        store = c10::make_intrusive<c10d::FileStore>(o.file_store, int(o.world_size));
        store->setTimeout(timeout);
      } else {
        store = c10::make_intrusive<AuthStore>(o, o.rank == 0 && !store_is_external, timeout);
      }
      auto pgo = c10d::ProcessGroupGloo::Options::create(timeout);
      // The ranks' connections: loopback for a local run; across machines the
      // interface named by dist.interface, else the one that routes to rank 0.
      if (!o.interface.empty())
        pgo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(o.interface));
      else
        pgo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(
            o.file_store.empty() ? local_address_towards(o.host, o.port) : o.host));
      pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("duel", store),
                                                        int(o.rank), int(o.world_size), pgo);
      store_ = store;
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error("rank " + std::to_string(o.rank) + " could not join the " + std::to_string(o.world_size) +
                      "-rank group at " + (o.file_store.empty() ? o.host + ":" + std::to_string(o.port) : o.file_store) +
                      ": " + first_line(e.what()),
                  "start every rank with the same --dist address and --world-size within dist.timeout_s (" +
                      std::to_string(int64_t(o.timeout_s)) + " s), and check that rank 0's port is free and reachable");
    }
  }

  int64_t rank() const override { return opt_.rank; }
  int64_t world_size() const override { return opt_.world_size; }
  double comm_seconds() const override { return comm_s_; }
  void set_bucket_bytes(int64_t b) override { bucket_bytes_ = std::max<int64_t>(b, 1); }

  void average_gradients(const std::vector<torch::Tensor>& params) override {
    // Buckets of same-dtype gradients, flattened into one buffer each.
    std::vector<std::vector<torch::Tensor>> buckets;
    int64_t bytes = 0;
    for (auto& p : params) {
      const auto& g = p.grad();
      if (!g.defined()) continue;
      const int64_t b = g.numel() * int64_t(g.element_size());
      if (buckets.empty() || bytes + b > bucket_bytes_ ||
          buckets.back().front().scalar_type() != g.scalar_type() || buckets.back().front().device() != g.device()) {
        buckets.emplace_back();
        bytes = 0;
      }
      buckets.back().push_back(g);
      bytes += b;
    }
    if (buckets.empty()) return;
    timed("averaging gradients", [&] {
      std::vector<std::vector<at::Tensor>> flat(buckets.size());
      std::vector<c10::intrusive_ptr<c10d::Work>> work;
      for (size_t i = 0; i < buckets.size(); ++i) {
        std::vector<torch::Tensor> parts;
        for (auto& g : buckets[i]) parts.push_back(g.reshape({-1}));
        flat[i] = {torch::cat(parts)};
        work.push_back(pg_->allreduce(flat[i]));
      }
      for (size_t i = 0; i < buckets.size(); ++i) {
        work[i]->wait();
        auto& f = flat[i][0];
        f.div_(double(opt_.world_size));
        int64_t off = 0;
        for (auto& g : buckets[i]) {
          g.copy_(f.slice(0, off, off + g.numel()).view_as(g));
          off += g.numel();
        }
      }
    });
  }

  void sum(torch::Tensor& t) override {
    timed("summing over ranks", [&] {
      std::vector<at::Tensor> v{t.is_contiguous() ? t : t.contiguous()};
      pg_->allreduce(v)->wait();
      if (!v[0].is_same(t)) t.copy_(v[0]);
    });
  }

  void broadcast(torch::Tensor& t) override {
    timed("broadcasting from rank 0", [&] {
      std::vector<at::Tensor> v{t.is_contiguous() ? t : t.contiguous()};
      pg_->broadcast(v)->wait();
      if (!v[0].is_same(t)) t.copy_(v[0]);
    });
  }

  std::string broadcast_bytes(const std::string& bytes) override {
    auto n = torch::tensor({int64_t(bytes.size())}, torch::kInt64);
    broadcast(n);
    auto buf = torch::empty({n.item<int64_t>()}, torch::kUInt8);
    if (opt_.rank == 0) std::memcpy(buf.data_ptr(), bytes.data(), bytes.size());
    broadcast(buf);
    return std::string(reinterpret_cast<const char*>(buf.data_ptr()), size_t(buf.numel()));
  }

  torch::Tensor all_gather(const torch::Tensor& t) override {
    std::vector<std::vector<at::Tensor>> out(1);
    for (int64_t r = 0; r < opt_.world_size; ++r) out[0].push_back(torch::empty_like(t));
    std::vector<at::Tensor> in{t.contiguous()};
    timed("gathering from every rank", [&] { pg_->allgather(out, in)->wait(); });
    return torch::stack(out[0]);
  }

 private:
  static std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
  }
  template <class F>
  void timed(const char* what, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      f();
    } catch (const std::exception& e) {
      throw Error("rank " + std::to_string(opt_.rank) + " of " + std::to_string(opt_.world_size) + ": " + what +
                      " failed (dist.timeout_s = " + std::to_string(int64_t(opt_.timeout_s)) + " s): " + first_line(e.what()),
                  kHint);
    }
    comm_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  DistOptions opt_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  int64_t bucket_bytes_ = 25 << 20;
  double comm_s_ = 0;
};

}  // namespace

std::unique_ptr<Collective> Collective::connect(const DistOptions& options, bool store_is_external) {
  return std::make_unique<GlooCollective>(options, store_is_external);
}

// --- duel train --nproc N: the local launcher ---
namespace {
volatile std::sig_atomic_t g_forward_signal = 0;
void remember_signal(int sig) { g_forward_signal = sig; }
}  // namespace

std::vector<std::string> rank_command_line() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> args, out;
  for (size_t p = 0; p < all.size();) {
    const size_t z = all.find('\0', p);
    args.push_back(all.substr(p, z == std::string::npos ? std::string::npos : z - p));
    if (z == std::string::npos) break;
    p = z + 1;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--nproc") {
      ++i;
      continue;
    }
    if (args[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

int launch_local_ranks(int nproc, const std::vector<std::string>& argv, double timeout_s) {
  require(nproc >= 1 && nproc <= 1024, "--nproc " + std::to_string(nproc) + " is out of range", "pass 1 to 1024");
  // The ranks meet through a file only this user can open (c10d FileStore):
  // no port is opened for the rendezvous, so nothing of a local run is
  // reachable from another machine (tests/cli/dist_exposure.sh).
  const char* tmp = std::getenv("TMPDIR");
  std::string rendezvous = std::string(tmp && *tmp ? tmp : "/tmp") + "/duel-rendezvous-XXXXXX";
  const int fd = mkstemp(rendezvous.data());
  require(fd >= 0, "cannot create the rendezvous file '" + rendezvous + "': " + std::strerror(errno),
          "check that $TMPDIR (or /tmp) is writable");
  ::close(fd);
  struct RemoveAtEnd {
    std::string path;
    ~RemoveAtEnd() { ::unlink(path.c_str()); }
  } remove_at_end{rendezvous};

  const pid_t launcher = getpid();
  std::vector<pid_t> pids;
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = fork();
    require(pid >= 0, std::string("cannot start rank ") + std::to_string(r) + ": " + std::strerror(errno),
            "lower --nproc");
    if (pid == 0) {
      // Its own process group: a terminal's Ctrl-C reaches the launcher alone, which forwards it once.
      setpgid(0, 0);
      // A launcher that dies (even by SIGKILL) takes its ranks with it: they stop as on Ctrl-C.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != launcher) _exit(1);  // it died before prctl
      setenv("DUEL_DIST_FILE_STORE", rendezvous.c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("RANK", std::to_string(r).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      setenv("DUEL_DIST_EXTERNAL_STORE", "1", 1);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv("/proc/self/exe", args.data());
      std::fprintf(stderr, "duel: cannot start rank %d: %s\n", r, std::strerror(errno));
      _exit(127);
    }
    pids.push_back(pid);
  }
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  int status_out = 0;
  size_t running = pids.size();
  std::vector<bool> done(pids.size(), false);
  std::chrono::steady_clock::time_point kill_at = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    if (g_forward_signal != 0) {
      const int sig = g_forward_signal;
      g_forward_signal = 0;
      for (size_t i = 0; i < pids.size(); ++i)
        if (!done[i]) kill(pids[i], sig);
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (size_t i = 0; i < pids.size(); ++i)
        if (pids[i] == pid && !done[i]) {
          done[i] = true;
          --running;
          const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          if (code != 0 && status_out == 0) {
            status_out = code;
            std::fprintf(stderr, "duel: rank %zu exited with status %d; waiting up to %.0f s for the other ranks\n", i,
                         code, timeout_s);
            kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(int64_t(timeout_s * 1000) + 5000);
          }
        }
      continue;
    }
    if (std::chrono::steady_clock::now() > kill_at) {
      for (size_t i = 0; i < pids.size(); ++i)
        if (!done[i]) {
          std::fprintf(stderr, "duel: rank %zu did not stop; killing it\n", i);
          kill(pids[i], SIGKILL);
        }
      kill_at = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status_out;
}

}  // namespace duel

// --- DataParallel: the trainer's side of a data-parallel run ---

namespace duel {

namespace {

// --- distributed training (docs/distributed.md) ---
const bool dist_keys_registered = [] {
  register_key({"dist.timeout_s", ConfigType::Float, 300.0,
                "distributed runs: a rank waiting longer than this for the others (rendezvous or a collective) "
                "fails with a message",
                1.0, 86400.0, {}});
  register_key({"dist.sync_bn", ConfigType::Bool, false,
                "distributed runs: batch norm uses the statistics of the global batch (one all-reduce per layer); "
                "off: each rank normalises its own batch and rank 0's running statistics are kept",
                {}, {}, {}});
  register_key({"dist.bucket_mb", ConfigType::Float, 25.0,
                "distributed runs: gradients are averaged in buckets of at most this many MiB", 0.001, 4096.0, {}});
  register_key({"dist.global_batch", ConfigType::Bool, false,
                "distributed runs: train.batch_size is the global batch, split evenly over the ranks "
                "(false: it is each rank's batch, and the global batch is train.batch_size x world size)",
                {}, {}, {}});
  register_key({"debug.dist_skip_average", ConfigType::String, std::string(""),
                "testing aid: a distributed run does not average the gradients reported under this name (the ranks' "
                "weights then drift apart, which the checkpoint check must catch)",
                {}, {}, {}});
  register_key({"dist.listen_all", ConfigType::Bool, false,
                "runs across machines: let rank 0's rendezvous store listen on every interface (false: only on the "
                "--dist address)",
                {}, {}, {}});
  register_key({"dist.interface", ConfigType::String, std::string(""),
                "runs across machines: network interface of the ranks' Gloo connections (e.g. eth1; empty: the one "
                "that routes to rank 0)",
                {}, {}, {}});
  register_key({"dist.world_size", ConfigType::Int, int64_t(1),
                "set by duel train: the number of ranks the run trains on (a resume must use the same)", 1, 1 << 20,
                {}});
  return true;
}();

// The parameters a StepContext::after_backward(name) call refers to: those of
// the optimizer of that name (cyclegan's "G" steps both generators), else of
// the net of that name (aae's "E" and "G" before the joint "AE" step).
std::map<std::string, std::vector<torch::Tensor>> gradient_groups(GanModel& model) {
  std::map<std::string, std::vector<torch::Tensor>> groups;
  for (auto& [name, net] : model.nets()) groups[name] = net->parameters();
  for (auto& [name, opt] : model.optimizers()) {
    std::vector<torch::Tensor> params;
    for (auto& g : opt->param_groups())
      for (auto& p : g.params()) params.push_back(p);
    groups[name] = params;
  }
  return groups;
}

// Rank 0's parameters and buffers on every rank.
void broadcast_weights(Collective& dist, GanModel& model) {
  torch::NoGradGuard no_grad;
  for (auto& [name, net] : model.nets()) {
    for (auto& p : net->parameters()) dist.broadcast(p);
    for (auto& b : net->buffers()) dist.broadcast(b);
  }
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

DataParallel::DataParallel() = default;
DataParallel::~DataParallel() = default;
DataParallel::DataParallel(DataParallel&&) noexcept = default;
DataParallel& DataParallel::operator=(DataParallel&&) noexcept = default;

DataParallel::DataParallel(const DistOptions& options, bool store_is_external, double timeout_s) {
  DistOptions o = options;
  o.timeout_s = timeout_s;
  collective_ = Collective::connect(o, store_is_external);
}

int64_t DataParallel::rank() const { return collective_ ? collective_->rank() : 0; }
int64_t DataParallel::world() const { return collective_ ? collective_->world_size() : 1; }
double DataParallel::comm_seconds() const { return collective_ ? collective_->comm_seconds() : 0; }

Checkpoint DataParallel::shared_checkpoint(const std::function<Checkpoint()>& read_on_rank0, torch::Device device) {
  if (!collective_) return read_on_rank0();
  std::string bytes, origin;
  if (writer()) {
    origin = read_on_rank0().path();
    bytes = read_bytes(origin);
  }
  bytes = collective_->broadcast_bytes(bytes);
  origin = collective_->broadcast_bytes(origin);
  return Checkpoint::decode(bytes, origin, device);
}

void DataParallel::setup(GanModel& model, const Config& cfg) {
  if (!collective_) return;
  BatchShard shard;
  shard.rank = rank();
  shard.world = world();
  Collective* c = collective_.get();
  shard.sum_over_ranks = [c](torch::Tensor& t) { c->sum(t); };
  shard.sync_bn = cfg.get_bool("dist.sync_bn");
  shard_ = std::make_unique<ScopedBatchShard>(std::move(shard));
  collective_->set_bucket_bytes(int64_t(cfg.get_float("dist.bucket_mb") * 1048576.0));
  broadcast_weights(*collective_, model);
  grad_groups_ = gradient_groups(model);
}

std::function<void(const std::string&)> DataParallel::gradient_averaging(GanModel& model, const std::string& skip) {
  if (!collective_) return {};
  return [this, &model, skip](const std::string& name) {
    auto it = grad_groups_.find(name);
    if (it == grad_groups_.end())
      throw std::logic_error("duel: model " + model.name() + " reported gradients of unknown net '" + name + "'");
    if (name != skip) collective_->average_gradients(it->second);
  };
}

std::pair<bool, bool> DataParallel::agree(bool stop, bool ok) {
  if (!collective_) return {stop, ok};
  auto flags = torch::tensor({stop ? 1.0f : 0.0f, ok ? 0.0f : 1.0f});
  collective_->sum(flags);
  return {flags[0].item<float>() > 0, flags[1].item<float>() == 0};
}

void DataParallel::mean_over_ranks(std::vector<std::pair<std::string, torch::Tensor>>& sums) {
  if (!collective_ || sums.empty()) return;
  std::vector<torch::Tensor> vals;
  for (auto& kv : sums) vals.push_back(kv.second.detach().reshape({}).to(torch::kFloat64));
  auto all = torch::stack(vals);
  collective_->sum(all);
  all.div_(double(world()));
  for (size_t i = 0; i < sums.size(); ++i) sums[i].second = all[int64_t(i)];
}

torch::Tensor DataParallel::rng_state_of(const TrainState& s) const {
  if (!s.rank_rng_states.defined()) return s.rng_state.to(torch::kCPU);
  require(s.rank_rng_states.size(0) == world(),
          "the checkpoint holds the random state of " + std::to_string(s.rank_rng_states.size(0)) + " ranks, not " +
              std::to_string(world()),
          "resume with the number of processes the run was trained on");
  return s.rank_rng_states[rank()].to(torch::kCPU).contiguous();
}

void DataParallel::prepare_checkpoint(GanModel& model, TrainState& st, bool sync_bn) {
  if (!collective_) return;
  st.rank_rng_states = collective_->all_gather(st.rng_state);
  if (!sync_bn) {  // batch norm statistics as rank 0 has them
    torch::NoGradGuard no_grad;
    for (auto& [name, net] : model.nets())
      for (auto& b : net->buffers()) collective_->broadcast(b);
  }
  // The ranks must hold the same weights (a model that steps a net without
  // reporting its backward through after_backward would break this).
  const auto nets = model.nets();
  std::vector<int64_t> digests;
  for (auto& [name, net] : nets) digests.push_back(int64_t(weights_digest(*net)));
  auto all = collective_->all_gather(torch::tensor(digests, torch::kInt64));  // [W, nets]
  for (size_t i = 0; i < nets.size(); ++i)
    if (!torch::equal(all.select(1, int64_t(i)), all[0][int64_t(i)].expand({world()})))
      throw Error("the ranks' weights of net " + nets[i].first + " differ at step " + std::to_string(st.step) +
                      "; not writing a checkpoint",
                  "model " + model.name() + " updates a net without averaging its gradients "
                  "(StepContext::after_backward); train it on one process");
}

}  // namespace duel
