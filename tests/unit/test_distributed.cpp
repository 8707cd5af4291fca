// Pieces of data-parallel training that need no second process: the loader's
// shards, sharded random draws, synchronised batch norm's gradient, and the
// parsing of distributed settings. The multi-process behaviour is covered by
// tests/cli/distributed.sh.
#include <gtest/gtest.h>
#include <chrono>
#include <mutex>
#include <thread>
#include <torch/torch.h>

#include <cstdlib>
#include <set>

#include "duel/core/error.h"
#include "duel/core/shard.h"
#include "duel/data/loader.h"
#include "duel/nn/sync_batch_norm.h"
#include "duel/train/auth_store.h"
#include "duel/train/distributed.h"

using namespace duel;

namespace {

ImageSet numbered(int64_t n) {  // image i is filled with the value i
  ImageSet s;
  s.images = torch::arange(n, torch::kInt64).to(torch::kUInt8).reshape({n, 1, 1, 1}).expand({n, 1, 2, 2}).contiguous();
  s.labels = torch::arange(n, torch::kInt64);
  return s;
}


}  // namespace

TEST(Distributed, ShardsAreDisjointAndTogetherFormTheGlobalBatch) {
  LoaderOptions global;
  global.batch_size = 12;
  global.prefetch = 0;
  global.seed = 3;
  Loader whole(numbered(50), global);
  LoaderOptions part = global;
  part.batch_size = 4;
  part.shards = 3;
  std::vector<std::unique_ptr<Loader>> ranks;
  for (int64_t r = 0; r < 3; ++r) {
    part.shard = r;
    ranks.push_back(std::make_unique<Loader>(numbered(50), part));
  }
  EXPECT_EQ(ranks[0]->batches_per_epoch(), whole.batches_per_epoch());  // 50 / 12 = 4
  for (int step = 0; step < 9; ++step) {  // more than two epochs
    auto g = whole.next();
    std::vector<torch::Tensor> labels;
    for (auto& l : ranks) {
      auto b = l->next();
      EXPECT_EQ(b.images.size(0), 4);
      EXPECT_EQ(b.epoch, g.epoch);
      labels.push_back(b.labels);
    }
    EXPECT_TRUE(torch::equal(torch::cat(labels), g.labels)) << "step " << step;
    std::set<int64_t> seen;
    for (auto& l : labels)
      for (int64_t i = 0; i < l.size(0); ++i) seen.insert(l[i].item<int64_t>());
    EXPECT_EQ(seen.size(), 12u);
  }
}

TEST(Distributed, ShardedCropsAndFlipsMatchTheGlobalBatch) {
  ImageSet s;
  s.images = torch::randint(0, 255, {40, 1, 8, 8}, torch::kInt64).to(torch::kUInt8);
  LoaderOptions global;
  global.batch_size = 8;
  global.prefetch = 0;
  global.crop = 5;
  global.flip = true;
  Loader whole(s, global);
  LoaderOptions part = global;
  part.batch_size = 4;
  part.shards = 2;
  part.shard = 1;
  Loader second(s, part);
  for (int step = 0; step < 3; ++step) {
    auto g = whole.next(), b = second.next();
    EXPECT_TRUE(torch::equal(b.images, g.images.slice(0, 4, 8)));
  }
}

TEST(Distributed, LoaderRefusesShardsWithoutDropLast) {
  LoaderOptions o;
  o.batch_size = 4;
  o.shards = 2;
  o.drop_last = false;
  try {
    Loader l(numbered(20), o);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.drop_last"), std::string::npos);
  }
}

// The trainer sets the shard of a distributed run through a ScopedBatchShard:
// when the run ends, nothing is left pointing into it.
TEST(Distributed, ScopedBatchShardPutsThePreviousShardBack) {
  int calls = 0;
  {
    BatchShard s;
    s.rank = 1;
    s.world = 3;
    s.sync_bn = true;
    s.sum_over_ranks = [&](torch::Tensor&) { ++calls; };
    ScopedBatchShard scope(std::move(s));
    EXPECT_EQ(batch_shard().rank, 1);
    EXPECT_EQ(batch_shard().world, 3);
    ASSERT_TRUE(bool(batch_shard().sum_over_ranks));
    torch::Tensor t = torch::zeros({1});
    batch_shard().sum_over_ranks(t);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(batch_shard().rank, 0);
  EXPECT_EQ(batch_shard().world, 1);
  EXPECT_FALSE(batch_shard().sync_bn);
  EXPECT_FALSE(bool(batch_shard().sum_over_ranks));
}

TEST(Distributed, DrawForBatchSlicesTheGlobalDraw) {
  ScopedBatchShard shard{BatchShard{}};  // the tests change batch_shard(); it is put back after
  auto draw = [](int64_t m) { return torch::randn({m, 3}); };
  torch::manual_seed(11);
  auto all = draw(8);  // what one process with the global batch draws
  batch_shard().world = 2;
  for (int64_t r = 0; r < 2; ++r) {
    batch_shard().rank = r;
    torch::manual_seed(11);
    EXPECT_TRUE(torch::equal(draw_for_batch(4, draw), all.slice(0, 4 * r, 4 * r + 4)));
  }
  batch_shard().world = 1;
  batch_shard().rank = 0;
  torch::manual_seed(11);
  EXPECT_TRUE(torch::equal(draw_for_batch(8, draw), all));
}

// With a one-rank "all-reduce" (the identity), the synchronised path must
// compute what LibTorch's batch norm computes: output, input gradient,
// parameter gradients and running statistics.
TEST(Distributed, SyncBatchNormMatchesBatchNormOnOneRank) {
  ScopedBatchShard shard{BatchShard{}};  // the tests change batch_shard(); it is put back after
  torch::manual_seed(5);
  SyncBatchNorm2d sync(6);
  torch::nn::BatchNorm2d ref(6);
  {
    torch::NoGradGuard no_grad;
    sync->weight.uniform_(0.5, 1.5);
    sync->bias.uniform_(-0.5, 0.5);
    ref->weight.copy_(sync->weight);
    ref->bias.copy_(sync->bias);
  }
  auto x = (torch::randn({5, 6, 3, 4}) * 3 + 1).requires_grad_(true);
  auto x2 = x.detach().clone().requires_grad_(true);
  auto w = torch::randn({5, 6, 3, 4});
  int calls = 0;
  batch_shard().sync_bn = true;
  batch_shard().sum_over_ranks = [&](torch::Tensor&) { ++calls; };
  auto y = sync->forward(x);
  (y * w).sum().backward();
  EXPECT_EQ(calls, 2);  // statistics forward, gradient sums backward
  batch_shard().sum_over_ranks = nullptr;
  auto y2 = ref->forward(x2);
  (y2 * w).sum().backward();
  EXPECT_LT((y - y2).abs().max().item<double>(), 1e-5);
  EXPECT_LT((x.grad() - x2.grad()).abs().max().item<double>(), 1e-5);
  EXPECT_LT((sync->weight.grad() - ref->weight.grad()).abs().max().item<double>(), 1e-4);
  EXPECT_LT((sync->bias.grad() - ref->bias.grad()).abs().max().item<double>(), 1e-4);
  EXPECT_LT((sync->running_mean - ref->running_mean).abs().max().item<double>(), 1e-6);
  EXPECT_LT((sync->running_var - ref->running_var).abs().max().item<double>(), 1e-5);
  // Unsynchronised (and in eval mode) it is batch norm itself, bit for bit.
  sync->eval();
  ref->eval();
  EXPECT_TRUE(torch::equal(sync->forward(x.detach()), ref->forward(x.detach())));
}

// Two ranks simulated in one process: each normalises its half of a batch
// with statistics summed over both halves; together they must equal one
// batch norm over the whole batch, gradients included.
TEST(Distributed, SyncBatchNormOverTwoHalvesEqualsTheWholeBatch) {
  ScopedBatchShard shard{BatchShard{}};  // the tests change batch_shard(); it is put back after
  batch_shard().sync_bn = true;
  torch::manual_seed(8);
  auto x = torch::randn({8, 3, 2, 2}) * 2 - 1;
  auto w = torch::randn({8, 3, 2, 2});
  torch::nn::BatchNorm2d ref(3);
  auto xr = x.clone().requires_grad_(true);
  (ref->forward(xr) * w).sum().backward();

  SyncBatchNorm2d rank0(3), rank1(3);
  std::vector<torch::Tensor> fwd(2), bwd(2);
  auto x0 = x.slice(0, 0, 4).clone().requires_grad_(true);
  auto x1 = x.slice(0, 4, 8).clone().requires_grad_(true);
  int call = 0;
  // Forward: each rank's local statistics, then both ranks normalise with their sum.
  batch_shard().sum_over_ranks = [&](torch::Tensor& t) {
    if (call == 0) fwd[0] = t.clone();
    ++call;
  };
  rank0->forward(x0.detach());
  call = 0;
  batch_shard().sum_over_ranks = [&](torch::Tensor& t) {
    if (call == 0) fwd[1] = t.clone();
    ++call;
  };
  rank1->forward(x1.detach());
  auto total = fwd[0] + fwd[1];
  batch_shard().sum_over_ranks = [&](torch::Tensor& t) {
    if (t.numel() == total.numel()) t.copy_(total);  // forward: [2C + 1]
  };
  auto y0 = rank0->forward(x0);
  auto y1 = rank1->forward(x1);
  // Backward sums: each rank's local [sum g, sum g x_hat], added.
  std::vector<torch::Tensor> local;
  batch_shard().sum_over_ranks = [&](torch::Tensor& t) { local.push_back(t.clone()); };
  (y0 * w.slice(0, 0, 4)).sum().backward(torch::Tensor(), /*retain_graph=*/true);
  (y1 * w.slice(0, 4, 8)).sum().backward(torch::Tensor(), true);
  ASSERT_EQ(local.size(), 2u);
  auto gsum = local[0] + local[1];
  x0.mutable_grad() = torch::Tensor();
  x1.mutable_grad() = torch::Tensor();
  batch_shard().sum_over_ranks = [&](torch::Tensor& t) { t.copy_(gsum); };
  (y0 * w.slice(0, 0, 4)).sum().backward();
  (y1 * w.slice(0, 4, 8)).sum().backward();
  EXPECT_LT((torch::cat({y0, y1}) - ref->forward(x)).abs().max().item<double>(), 1e-5);  // ref is training: same stats
  EXPECT_LT((torch::cat({x0.grad(), x1.grad()}) - xr.grad()).abs().max().item<double>(), 1e-5);
}

TEST(Distributed, ParsesAddressesAndEnvironment) {
  auto [h, p] = parse_dist_url("tcp://10.0.0.2:29500");
  EXPECT_EQ(h, "10.0.0.2");
  EXPECT_EQ(p, 29500);
  auto [h6, p6] = parse_dist_url("tcp://[::1]:1234");
  EXPECT_EQ(h6, "::1");
  EXPECT_EQ(p6, 1234);
  for (const char* bad : {"10.0.0.2:29500", "tcp://host", "tcp://host:0", "tcp://host:70000", "tcp://:5", "tcp://h:5x"})
    EXPECT_THROW(parse_dist_url(bad), Error) << bad;

  unsetenv("DUEL_DIST_SECRET");
  EXPECT_THROW(resolve_dist_options("tcp://h:7", 4, 3), Error);  // a TCP rendezvous needs the secret
  setenv("DUEL_DIST_SECRET", "short", 1);
  EXPECT_THROW(resolve_dist_options("tcp://h:7", 4, 3), Error);
  setenv("DUEL_DIST_SECRET", "unit-test-secret-0123456789", 1);
  auto o = resolve_dist_options("tcp://h:7", 4, 3);
  EXPECT_EQ(o.secret, "unit-test-secret-0123456789");
  EXPECT_EQ(o.world_size, 4);
  EXPECT_EQ(o.rank, 3);
  EXPECT_TRUE(o.enabled());
  EXPECT_THROW(resolve_dist_options("tcp://h:7", 4, 4), Error);
  EXPECT_THROW(resolve_dist_options("", 2, 0), Error);

  unsetenv("WORLD_SIZE");
  EXPECT_FALSE(resolve_dist_options("", -1, -1).enabled());
  setenv("WORLD_SIZE", "2", 1);
  setenv("RANK", "1", 1);
  setenv("MASTER_ADDR", "127.0.0.1", 1);
  setenv("MASTER_PORT", "29511", 1);
  setenv("LOCAL_RANK", "1", 1);
  auto e = resolve_dist_options("", -1, -1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 29511);
  setenv("RANK", "2", 1);
  EXPECT_THROW(resolve_dist_options("", -1, -1), Error);
  for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "DUEL_DIST_SECRET"})
    unsetenv(v);
}

// The handshake's proof is HMAC-SHA256 (RFC 4231, test case 2).
TEST(AuthStore, ProofIsHmacSha256) {
  const std::string data = "what do ya want for nothing?";
  auto mac = store_proof("Jefe", std::vector<uint8_t>(data.begin(), data.end()));
  std::string hex;
  for (uint8_t b : mac) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// The store serves ranks that prove the secret, refuses others, and listens where it is told.
TEST(AuthStore, ServesRanksWithTheSecretOnly) {
  std::vector<std::string> log;
  std::mutex log_mutex;
  AuthStoreServer server("127.0.0.1", 0, "s3cret-s3cret-s3cret", false, [&](const std::string& m) {
    std::lock_guard<std::mutex> lock(log_mutex);
    log.push_back(m);
  });
  ASSERT_GT(server.port(), 0);
  const auto t = std::chrono::milliseconds(5000);
  AuthStoreClient a("127.0.0.1", server.port(), "s3cret-s3cret-s3cret", t);
  AuthStoreClient b("127.0.0.1", server.port(), "s3cret-s3cret-s3cret", t);
  a.set("k", {1, 2, 3});
  EXPECT_EQ(b.get("k", t), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(a.add("n", 5), 5);
  EXPECT_EQ(b.add("n", -2), 3);
  EXPECT_TRUE(b.check("k"));
  EXPECT_FALSE(b.check("absent"));
  EXPECT_EQ(a.size(), 2);
  EXPECT_FALSE(a.wait("later", std::chrono::milliseconds(100)));
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    b.set("later", {9});
  });
  EXPECT_EQ(a.get("later", t), std::vector<uint8_t>{9});  // get waits for the key
  setter.join();
  EXPECT_TRUE(a.erase("k"));
  EXPECT_FALSE(a.check("k"));
  EXPECT_THROW(a.get("never", std::chrono::milliseconds(100)), Error);
  EXPECT_THROW(AuthStoreClient("127.0.0.1", server.port(), "another-secret-0123", t), Error);
  EXPECT_EQ(server.dropped(), 1);
  EXPECT_EQ(b.get("n", t), (std::vector<uint8_t>{'3'}));  // the refused client changed nothing
  EXPECT_THROW(AuthStoreServer("0.0.0.0", 0, "s3cret-s3cret-s3cret", false, nullptr), Error);
  AuthStoreServer all("0.0.0.0", 0, "s3cret-s3cret-s3cret", true, nullptr);  // asked for explicitly
  EXPECT_GT(all.port(), 0);
}
