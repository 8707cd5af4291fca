// Loader implementation: a bounded producer/consumer queue fed by one worker.
#include "duel/data/loader.h"

#include <numeric>
#include <random>

#include "duel/core/error.h"
#include "duel/core/threads.h"

namespace duel {

Loader::Loader(ImageSet data, LoaderOptions options) : data_(std::move(data)), opt_(options) {
  require(data_.size() > 0, "the dataset is empty", "check data.dataset and data.limit");
  require(opt_.batch_size > 0, "train.batch_size must be positive");
  require(!opt_.drop_last || data_.size() >= opt_.batch_size,
          "the dataset has " + std::to_string(data_.size()) + " images, fewer than one batch of " +
              std::to_string(opt_.batch_size),
          "lower train.batch_size or set data.drop_last=false");
  produced_ = consumed_;
  start_worker();
}

Loader::~Loader() { stop_worker(); }

int64_t Loader::batches_per_epoch() const {
  int64_t n = data_.size();
  return opt_.drop_last ? n / opt_.batch_size : (n + opt_.batch_size - 1) / opt_.batch_size;
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

Batch Loader::make(LoaderPosition pos) {
  if (order_epoch_ != pos.epoch) {
    order_ = epoch_order(data_.size(), opt_.seed, pos.epoch, opt_.shuffle);
    order_epoch_ = pos.epoch;
  }
  int64_t begin = pos.batch * opt_.batch_size;
  int64_t end = std::min<int64_t>(begin + opt_.batch_size, data_.size());
  auto idx = torch::from_blob(order_.data() + begin, {end - begin}, torch::kInt64);
  Batch b;
  b.epoch = pos.epoch;
  b.images = to_unit_range(data_.images.index_select(0, idx));
  if (opt_.channels_last) b.images = b.images.contiguous(torch::MemoryFormat::ChannelsLast);
  if (data_.has_labels()) b.labels = data_.labels.index_select(0, idx);
  if (opt_.device != torch::kCPU) {
    b.images = b.images.to(opt_.device, /*non_blocking=*/true);
    if (b.labels.defined()) b.labels = b.labels.to(opt_.device, true);
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
