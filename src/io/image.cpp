// Image output through stb_image_write, plus the atomic file writer every
// output of duel goes through.
#include "duel/io/image.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "duel/core/error.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_WINDOWS_UTF8
#include <stb_image_write.h>
#include <stb_image.h>

namespace duel {

torch::Tensor make_grid(const torch::Tensor& images, int64_t nrow, int64_t pad) {
  require(images.dim() == 4, "make_grid expects [N, C, H, W] images");
  auto x = images.detach().to(torch::kCPU, torch::kFloat32);
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  if (nrow <= 0) nrow = int64_t(std::ceil(std::sqrt(double(n))));
  const int64_t rows = (n + nrow - 1) / nrow;
  auto u8 = x.add(1).mul(127.5).round().clamp(0, 255).to(torch::kUInt8);
  auto grid = torch::full({c, rows * (h + pad) + pad, nrow * (w + pad) + pad}, 0, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = i / nrow, col = i % nrow;
    grid.slice(1, pad + r * (h + pad), pad + r * (h + pad) + h)
        .slice(2, pad + col * (w + pad), pad + col * (w + pad) + w)
        .copy_(u8[i]);
  }
  return grid;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  namespace fs = std::filesystem;
  fs::path p(path);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + p.filename().string() + ".tmp." + std::to_string(::getpid()))).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error("cannot write '" + path + "': " + std::strerror(errno), "check that the folder exists and is writable");
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t k = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (k < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error("cannot write '" + path + "': " + std::strerror(e),
                  e == ENOSPC ? "the disk is full: free space and resume; the previous file is intact"
                              : "check the output folder");
    }
    off += size_t(k);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot write '" + path + "': " + std::strerror(e), "check the output folder and free disk space");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot rename into '" + path + "': " + std::strerror(e), "check the output folder");
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_png(const std::string& path, const torch::Tensor& img) {
  require(img.dim() == 3 && (img.size(0) == 1 || img.size(0) == 3) && img.scalar_type() == torch::kUInt8,
          "write_png expects uint8 [1 or 3, H, W]");
  auto hwc = img.permute({1, 2, 0}).contiguous();
  const int h = int(hwc.size(0)), w = int(hwc.size(1)), c = int(hwc.size(2));
  std::string out;
  auto sink = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size_t(size));
  };
  if (!stbi_write_png_to_func(sink, &out, w, h, c, hwc.data_ptr<uint8_t>(), w * c))
    throw Error("cannot encode PNG for '" + path + "'");
  write_file_atomic(path, out);
}

void write_image(const std::string& path, const torch::Tensor& image) {
  write_png(path, image.detach().to(torch::kCPU, torch::kFloat32).add(1).mul(127.5).round().clamp(0, 255).to(torch::kUInt8));
}

torch::Tensor read_image(const std::string& path, int channels) {
  int w = 0, h = 0, c = 0;
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &c, channels);
  if (!px) throw Error("cannot read image '" + path + "': " + stbi_failure_reason(), "check the file");
  const int cc = channels ? channels : c;
  auto t = torch::from_blob(px, {h, w, cc}, torch::kUInt8).permute({2, 0, 1}).clone();
  stbi_image_free(px);
  return t;
}

}  // namespace duel
