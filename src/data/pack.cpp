// `duel data pack`: any dataset duel reads, decoded once into a .dueldata file.
#include <chrono>
#include <filesystem>
#include <thread>

#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/packed.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

// Decodes files[begin, end) on `threads` threads, each a contiguous share, in order.
torch::Tensor decode_parallel(const std::vector<std::string>& files, size_t begin, size_t end, int64_t size,
                              int64_t channels, int64_t threads) {
  const size_t n = end - begin, k = size_t(std::max<int64_t>(1, std::min<int64_t>(threads, int64_t(n))));
  std::vector<torch::Tensor> parts(k);
  std::vector<std::exception_ptr> errors(k);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < k; ++t)
    pool.emplace_back([&, t] {
      const size_t a = begin + n * t / k, b = begin + n * (t + 1) / k;
      try {
        parts[t] = read_image_files(std::vector<std::string>(files.begin() + long(a), files.begin() + long(b)), size, channels);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return torch::cat(parts);
}

void say(const PackOptions& o, const std::string& s) {
  if (o.info) o.info(s);
}

PackResult pack_folder(const Config& cfg, const std::string& dir, const std::string& out, const PackOptions& o) {
  const LabelledFiles lf = list_labelled_images(dir, cfg.get_string("data.labels"), cfg.get_string("data.unlabelled") == "skip");
  if (!lf.note.empty()) say(o, lf.note);
  say(o, "packing " + std::to_string(lf.paths.size()) + " images of " + dir);
  std::unique_ptr<PackedWriter> w;
  int64_t channels = o.channels;
  const size_t chunk = size_t(std::max<int64_t>(1, o.chunk));
  for (size_t begin = 0; begin < lf.paths.size(); begin += chunk) {
    const size_t end = std::min(lf.paths.size(), begin + chunk);
    // The first chunk fixes size and channels; with channels 0 it is decoded on one
    // thread, so that one choice of gray or RGB covers all of it.
    auto imgs = decode_parallel(lf.paths, begin, end, o.size, channels, channels == 0 ? 1 : o.threads);
    if (!w) {
      channels = imgs.size(1);
      w = std::make_unique<PackedWriter>(out, channels, imgs.size(2), imgs.size(3));
    }
    require(imgs.size(2) == w->height() && imgs.size(3) == w->width(),
            "the images from '" + lf.paths[begin] + "' on are " + std::to_string(imgs.size(3)) + "x" +
                std::to_string(imgs.size(2)) + " but earlier ones " + std::to_string(w->width()) + "x" + std::to_string(w->height()),
            "give --size N so that every image is resized and cropped to N x N");
    torch::Tensor labels;
    if (!lf.labels.empty())
      labels = torch::tensor(std::vector<int64_t>(lf.labels.begin() + long(begin), lf.labels.begin() + long(end)), torch::kInt64);
    w->append(imgs, labels);
    if ((begin / chunk) % 20 == 19) say(o, "  " + std::to_string(end) + " / " + std::to_string(lf.paths.size()));
  }
  w->finish(lf.classes, "folder " + dir);
  PackResult r;
  r.count = w->count(), r.channels = channels, r.classes = int64_t(lf.classes.size());
  return r;
}

PackResult pack_whole(const Config& cfg, const std::string& out, const PackOptions& o) {
  ImageSet s = open_single_dataset(cfg, cfg.get_string("data.split"));
  say(o, "packing " + s.description);
  const int64_t step = std::max<int64_t>(1, o.chunk) * 8;
  std::unique_ptr<PackedWriter> w;
  for (int64_t i = 0; i < s.size(); i += step) {
    const int64_t e = std::min(s.size(), i + step);
    auto imgs = resize_images(s.images.slice(0, i, e), o.size, o.channels);
    if (!w) w = std::make_unique<PackedWriter>(out, imgs.size(1), imgs.size(2), imgs.size(3));
    w->append(imgs, s.has_labels() ? s.labels.slice(0, i, e) : torch::Tensor());
  }
  require(w != nullptr, s.description + " holds no images", "nothing to pack");
  w->finish(s.class_names, s.description);
  PackResult r;
  r.count = w->count(), r.channels = s.images.size(1), r.classes = s.num_classes;
  return r;
}

}  // namespace

PackResult pack_dataset(const Config& cfg, const std::string& out, const PackOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string name = cfg.get_string("data.dataset");
  require(name.rfind("packed:", 0) != 0, "'" + name + "' is packed already", "pack an image folder or a named dataset");
  PackResult r = name.rfind("folder:", 0) == 0 ? pack_folder(cfg, name.substr(7), out, o) : pack_whole(cfg, out, o);
  const ImageSet back = open_packed(out);
  r.size = back.images.size(2);
  std::error_code ec;
  r.bytes = int64_t(fs::file_size(out, ec));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace duel
