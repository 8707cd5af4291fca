// Loader implementation: a bounded producer/consumer queue fed by one worker.
#include "duel/data/loader.h"

#include <numeric>
#include <random>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/threads.h"

namespace duel {

namespace {

// This part's config keys (include/duel/core/config.h).
const bool keys_registered = [] {
  register_int_key("data.crop", 0, 0, 1024,
                   "random square crop of this side in the loader, the same window for A and B when paired (0: off)");
  register_bool_key("data.flip", false, "random horizontal flips in the loader, the same for A and B when paired");
  register_bool_key("data.drop_last", true, "drop the last incomplete batch of each epoch");
  register_int_key("data.prefetch", -1, -1, 64,
                   "batches prepared ahead on a background thread (0: none; -1: auto = 2 on CUDA, 0 on CPU)");
  return true;
}();

}  // namespace

Loader::Loader(ImageSet data, LoaderOptions options) : data_(std::move(data)), opt_(options) {
  require(data_.size() > 0, "the dataset is empty", "check data.dataset and data.limit");
  require(opt_.batch_size > 0, "train.batch_size must be positive");
  require(opt_.shards >= 1 && opt_.shard >= 0 && opt_.shard < opt_.shards, "loader shard out of range");
  require(opt_.shards == 1 || opt_.drop_last, "a distributed run needs data.drop_last = true",
          "every rank must get a full batch: set data.drop_last = true");
  const int64_t global = opt_.batch_size * opt_.shards;
  require(!opt_.drop_last || data_.size() >= global,
          "the dataset has " + std::to_string(data_.size()) + " images, fewer than one batch of " +
              std::to_string(global) + (opt_.shards > 1 ? " (" + std::to_string(opt_.batch_size) + " per rank x " +
                                                              std::to_string(opt_.shards) + " ranks)"
                                                        : std::string()),
          "lower train.batch_size or set data.drop_last=false");
  if (data_.targets.defined()) {
    require(data_.targets.dim() == 4 && data_.targets.size(0) > 0, "the B images of " + data_.description + " are empty");
    if (data_.paired)
      require(data_.targets.size(0) == data_.size(),
              "paired data has " + std::to_string(data_.size()) + " A images but " +
                  std::to_string(data_.targets.size(0)) + " B images");
  }
  require(opt_.crop >= 0, "data.crop must not be negative");
  if (opt_.crop > 0) {
    auto fits = [&](const torch::Tensor& t, const char* which) {
      require(opt_.crop <= t.size(2) && opt_.crop <= t.size(3),
              "data.crop = " + std::to_string(opt_.crop) + " is larger than the " + which + " (" +
                  std::to_string(t.size(3)) + "x" + std::to_string(t.size(2)) + ")",
              "lower data.crop or raise data.image_size");
    };
    fits(data_.images, data_.targets.defined() ? "A images" : "images");
    if (data_.targets.defined()) fits(data_.targets, "B images");
  }
  if ((opt_.crop > 0 || opt_.flip) && data_.targets.defined() && data_.paired)
    require(data_.targets.size(2) == data_.images.size(2) && data_.targets.size(3) == data_.images.size(3),
            "data.crop/data.flip need paired A and B images of one size",
            "set data.image_size to resize both to one size");
  produced_ = consumed_;
  start_worker();
}

Loader::~Loader() { stop_worker(); }

int64_t Loader::batches_per_epoch() const {
  const int64_t n = data_.size(), global = opt_.batch_size * opt_.shards;
  return opt_.drop_last ? n / global : (n + global - 1) / global;
}

std::vector<int64_t> Loader::epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    // Fisher-Yates with our own draw so the order is the same on every
    // standard library (std::shuffle's algorithm is unspecified).
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + uint64_t(epoch) + 1);
    for (int64_t i = n - 1; i > 0; --i) {
      int64_t j = int64_t(rng() % uint64_t(i + 1));
      std::swap(order[i], order[j]);
    }
  }
  return order;
}

LoaderPosition Loader::advance(LoaderPosition pos) const {
  if (++pos.batch >= batches_per_epoch()) {
    pos.batch = 0;
    ++pos.epoch;
  }
  return pos;
}

namespace {

// One 64-bit seed from (seed, epoch, batch, stream) (splitmix64 steps), so
// each batch's random choices depend on its position alone.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch, uint64_t stream) {
  return mix(mix(mix(mix(seed) ^ uint64_t(epoch)) ^ uint64_t(batch)) ^ stream);
}

struct Window {
  int64_t top = 0, left = 0;
  bool flip = false;
};

std::vector<Window> draw_windows(std::mt19937_64& rng, int64_t n, int64_t h, int64_t w, int64_t crop, bool flip) {
  std::vector<Window> out(static_cast<size_t>(n));
  for (auto& win : out) {
    if (crop > 0) {
      win.top = int64_t(rng() % uint64_t(h - crop + 1));
      win.left = int64_t(rng() % uint64_t(w - crop + 1));
    }
    if (flip) win.flip = (rng() >> 63) != 0;
  }
  return out;
}

// uint8 [n, C, H, W] -> [n, C, crop, crop] (or H x W when crop is 0), each
// image cut at its window and flipped where its window says.
torch::Tensor apply_windows(const torch::Tensor& x, const std::vector<Window>& wins, int64_t crop) {
  std::vector<torch::Tensor> out;
  out.reserve(wins.size());
  for (size_t i = 0; i < wins.size(); ++i) {
    auto img = x[int64_t(i)];
    if (crop > 0) img = img.slice(1, wins[i].top, wins[i].top + crop).slice(2, wins[i].left, wins[i].left + crop);
    if (wins[i].flip) img = img.flip({2});
    out.push_back(img);
  }
  return torch::stack(out).contiguous();
}

}  // namespace

Batch Loader::make(LoaderPosition pos) {
  if (order_epoch_ != pos.epoch) {
    order_ = epoch_order(data_.size(), opt_.seed, pos.epoch, opt_.shuffle);
    order_epoch_ = pos.epoch;
  }
  // The global batch [gbegin, gend) of the order, and this shard's rows [begin, end) of it.
  const int64_t gbegin = pos.batch * opt_.batch_size * opt_.shards;
  const int64_t gend = std::min<int64_t>(gbegin + opt_.batch_size * opt_.shards, data_.size());
  const int64_t begin = gbegin + opt_.shard * opt_.batch_size;
  const int64_t end = std::min<int64_t>(begin + opt_.batch_size, gend);
  const int64_t n = end - begin, offset = begin - gbegin, n_global = gend - gbegin;
  auto idx = torch::from_blob(order_.data() + begin, {n}, torch::kInt64);
  torch::Tensor a = data_.rows(idx), t;
  if (data_.targets.defined()) {
    if (data_.paired) {
      t = data_.targets.index_select(0, idx);
    } else {  // unpaired: B images drawn with replacement, independently of A's order
      std::mt19937_64 rng(batch_seed(opt_.seed, pos.epoch, pos.batch, 1));
      std::vector<int64_t> bi(static_cast<size_t>(n_global));
      for (auto& j : bi) j = int64_t(rng() % uint64_t(data_.targets.size(0)));
      bi = std::vector<int64_t>(bi.begin() + offset, bi.begin() + offset + n);
      t = data_.targets.index_select(0, torch::tensor(bi, torch::kInt64));
    }
  }
  if (opt_.crop > 0 || opt_.flip) {
    std::mt19937_64 rng(batch_seed(opt_.seed, pos.epoch, pos.batch, 2));
    auto mine = [&](std::vector<Window> w) {  // this shard's windows of the global batch's
      return std::vector<Window>(w.begin() + offset, w.begin() + offset + n);
    };
    const auto wa = draw_windows(rng, n_global, a.size(2), a.size(3), opt_.crop, opt_.flip);
    a = apply_windows(a, mine(wa), opt_.crop);
    if (t.defined())
      t = apply_windows(
          t, mine(data_.paired ? wa : draw_windows(rng, n_global, t.size(2), t.size(3), opt_.crop, opt_.flip)),
          opt_.crop);
  }
  Batch b;
  b.epoch = pos.epoch;
  b.images = to_unit_range(a);
  if (t.defined()) b.targets = to_unit_range(t);
  if (opt_.channels_last) {
    b.images = b.images.contiguous(torch::MemoryFormat::ChannelsLast);
    if (b.targets.defined()) b.targets = b.targets.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  if (data_.has_labels()) b.labels = data_.labels.index_select(0, idx);
  if (data_.has_captions()) {
    std::mt19937_64 rng(batch_seed(opt_.seed, pos.epoch, pos.batch, 3));
    // Drawn for the global batch and sliced, like crops and flips (sharded loaders).
    auto global_idx = torch::from_blob(order_.data() + gbegin, {n_global}, torch::kInt64);
    b.text = data_.captions.draw(global_idx, rng).slice(0, offset, offset + n).contiguous();  // [n, L]
  }
  if (opt_.device != torch::kCPU) {
    b.images = b.images.to(opt_.device, /*non_blocking=*/true);
    if (b.targets.defined()) b.targets = b.targets.to(opt_.device, true);
    if (b.labels.defined()) b.labels = b.labels.to(opt_.device, true);
    if (b.text.defined()) b.text = b.text.to(opt_.device, true);
  }
  return b;
}

void Loader::worker_loop() {
  single_threaded_here();
  try {
    while (true) {
      LoaderPosition pos;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || int64_t(queue_.size()) < opt_.prefetch; });
        if (stop_) return;
        pos = produced_;
        produced_ = advance(produced_);
      }
      Batch b = make(pos);
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(b));
      }
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    worker_error_ = std::current_exception();
    cv_.notify_all();
  }
}

void Loader::start_worker() {
  if (opt_.prefetch <= 0) return;
  stop_ = false;
  worker_ = std::thread([this] { worker_loop(); });
}

void Loader::stop_worker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
  queue_.clear();
}

Batch Loader::next() {
  Batch b;
  if (opt_.prefetch <= 0) {
    b = make(consumed_);
  } else {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || worker_error_; });
    if (queue_.empty() && worker_error_) std::rethrow_exception(worker_error_);
    b = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    cv_.notify_all();
  }
  consumed_ = advance(consumed_);
  return b;
}

void Loader::seek(LoaderPosition pos) {
  stop_worker();
  require(pos.epoch >= 0 && pos.batch >= 0 && pos.batch < batches_per_epoch(),
          "loader position (epoch " + std::to_string(pos.epoch) + ", batch " + std::to_string(pos.batch) +
              ") is outside the dataset's " + std::to_string(batches_per_epoch()) + " batches per epoch",
          "resume with the same data and batch size as the checkpoint");
  consumed_ = produced_ = pos;
  start_worker();
}

}  // namespace duel
