// The fuzz targets (see targets.h): IDX (raw and gzipped), CIFAR-10 binary,
// images through stb (PNG, JPEG, BMP), TOML configs, checkpoints (the whole
// file, and payloads behind a valid header so the archive reader and the
// restore checks are reached past the checksum), image-folder layouts and
// image-pair layouts (data.pair).
// Seeds are generated here, so the harness needs no files.
#include "targets.h"

#include "jpeg_seeds.h"
#include "../unit/loopback.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <stb_image_write.h>

#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/rng.h"
#include "duel/data/dataset.h"
#include "duel/data/loader.h"
#include "duel/data/packed.h"
#include "duel/data/pairs.h"
#include "duel/io/image.h"
#include "duel/io/tar.h"
#include "duel/models/capabilities.h"
#include "duel/models/model.h"

namespace fs = std::filesystem;

namespace duel::fuzz {
namespace {

void write_bytes(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), std::streamsize(size));
  if (!f) {
    std::fprintf(stderr, "fuzz harness: cannot write scratch file %s\n", path.c_str());
    std::abort();
  }
}

std::string gzip(const std::string& raw) {
  std::string out(compressBound(uLong(raw.size())) + 64, '\0');
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = uInt(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void put_be32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(char((v >> (8 * i)) & 0xff));
}
void put_le(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s.push_back(char((v >> (8 * i)) & 0xff));
}

// Runs f, turning a duel::Error into its message; everything else escapes.
template <typename F>
std::string refused(F&& f) {
  try {
    f();
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

// --- IDX ---------------------------------------------------------------------

std::string idx_images(int n, int h, int w) {
  std::string s;
  put_be32(s, 0x803);
  put_be32(s, uint32_t(n));
  put_be32(s, uint32_t(h));
  put_be32(s, uint32_t(w));
  for (int i = 0; i < n * h * w; ++i) s.push_back(char((i * 37) & 0xff));
  return s;
}
std::string idx_labels(int n) {
  std::string s;
  put_be32(s, 0x801);
  put_be32(s, uint32_t(n));
  for (int i = 0; i < n; ++i) s.push_back(char(i % 10));
  return s;
}

std::string run_idx(const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/idx-ubyte";
  write_bytes(path, data, size);
  std::string a = refused([&] { parse_idx_images(read_file_maybe_gz(path), path); });
  std::string b = refused([&] { parse_idx_labels(read_file_maybe_gz(path), path); });
  return a.empty() ? a : b;
}
std::vector<std::string> seeds_idx() {
  return {idx_images(2, 5, 4), gzip(idx_images(3, 4, 4)), idx_labels(6), gzip(idx_labels(4)), idx_images(1, 28, 28)};
}

// --- CIFAR-10 binary -----------------------------------------------------------

std::string cifar_records(int n) {
  std::string s;
  for (int r = 0; r < n; ++r) {
    s.push_back(char(r % 10));
    for (int i = 0; i < 3 * 32 * 32; ++i) s.push_back(char((i + r) & 0xff));
  }
  return s;
}

std::string run_cifar(const uint8_t* data, size_t size) {
  const std::string dir = scratch_dir() + "/cifar";
  fs::create_directories(dir);
  write_bytes(dir + "/test_batch.bin", data, size);
  return refused([&] { load_cifar10(dir, "test"); });
}
std::vector<std::string> seeds_cifar() { return {cifar_records(1), cifar_records(2), gzip(cifar_records(1))}; }

// --- packed datasets (.dueldata) ---------------------------------------------------

std::string run_packed(const uint8_t* data, size_t size) {
  const std::string f = scratch_dir() + "/fuzz.dueldata";
  write_bytes(f, data, size);
  return refused([&] {
    ImageSet s = open_packed(f);
    if (s.size() > 0) s.rows(torch::tensor(std::vector<int64_t>{0, s.size() - 1}, torch::kInt64));
    verify_packed(f);
  });
}
std::vector<std::string> seeds_packed() {
  const std::string f = scratch_dir() + "/seed.dueldata";
  std::vector<std::string> out;
  for (int64_t n : {1, 3}) {
    PackedWriter w(f, 1, 2, 3);
    w.append(torch::arange(n * 6, torch::kInt64).reshape({n, 1, 2, 3}).to(torch::kUInt8), torch::arange(n, torch::kInt64));
    w.finish({"x", "y", "z"}, "seed");
    std::ifstream in(f, std::ios::binary);
    out.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return out;
}

// --- CIFAR-10 python batches (the pickle reader) and tar archives ----------------

std::string run_pickle(const uint8_t* data, size_t size) {
  return refused([&] { parse_cifar10_python_batch(std::vector<uint8_t>(data, data + size), "fuzz"); });
}
std::vector<std::string> seeds_pickle() {
  std::vector<uint8_t> px(2 * 3072);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 13);
  return {test::py2_cifar_pickle(px, {3, 7}), test::py2_cifar_pickle({}, {})};
}

std::string run_tar(const uint8_t* data, size_t size) {
  const std::string dir = scratch_dir() + "/tar";
  fs::remove_all(dir);
  fs::create_directories(dir + "/out");
  write_bytes(dir + "/a.tgz", data, size);
  return refused([&] { extract_tar(dir + "/a.tgz", dir + "/out"); });
}
std::vector<std::string> seeds_tar() {
  const std::string dir = scratch_dir() + "/tar-seeds";
  fs::create_directories(dir);
  std::vector<std::string> out;
  out.push_back(test::tar_gz({{"a/b.txt", "hello"}, {"c", std::string(700, 'x')}}, dir + "/1.tgz"));  // plain tar
  std::ifstream f(dir + "/1.tgz", std::ios::binary);
  out.emplace_back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());  // gzipped
  return out;
}

// --- images (stb) ----------------------------------------------------------------

void append_to_string(void* ctx, void* data, int size) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size_t(size));
}

std::string encode_image(const char* format, int w, int h, int c) {
  std::vector<uint8_t> px(size_t(w * h * c));
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 29 + i / 7) & 0xff);
  std::string out;
  const std::string f = format;
  if (f == "png") stbi_write_png_to_func(append_to_string, &out, w, h, c, px.data(), w * c);
  else stbi_write_bmp_to_func(append_to_string, &out, w, h, c, px.data());
  return out;
}

const std::vector<std::string>& image_seeds() {
  static const std::vector<std::string> seeds = {
      encode_image("png", 5, 4, 1), encode_image("png", 6, 6, 3), encode_image("png", 3, 5, 4),
      encode_image("png", 4, 4, 2), encode_image("bmp", 5, 3, 3), encode_image("bmp", 4, 4, 4),
      kJpegRgb8x8, kJpegGray9x7};
  return seeds;
}

std::string run_image(const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/image.png";
  write_bytes(path, data, size);
  const int channels[] = {0, 1, 3};
  return refused([&] { read_image(path, channels[size % 3]); });
}
std::vector<std::string> seeds_image() { return image_seeds(); }

// --- TOML configs --------------------------------------------------------------

std::string run_toml(const uint8_t* data, size_t size) {
  return refused([&] {
    Config cfg = Config::from_string(std::string(reinterpret_cast<const char*>(data), size), "fuzz.toml");
    // Property: what a config writes, it reads back to the same text.
    const std::string text = cfg.to_toml();
    if (Config::from_string(text, "round-trip").to_toml() != text)
      throw std::logic_error("config does not survive a to_toml round trip:\n" + text);
  });
}
std::vector<std::string> seeds_toml() {
  return {Config().to_toml(),
          "[train]\nsteps = 10\nbatch_size = 16\n[optim]\ng_lr = 2e-4\n",
          "run.seed = 3\ndata = { dataset = \"mnist\", path = \"/tmp/x\" }\n",
          "[data]\ndataset = \"folder:/a b/\\u00e9\"\nlimit = 0x10\n[model]\nlatent_dim = 1_000\n",
          "[[train]]\nsteps = [1, 2]\n",
          "[monitor]\nwarnings = true\nwindow = +inf\n",
          "[train]\nlabel_smoothing = 1979-05-27T07:32:00Z\n",
          "x = '''\nmulti\nline'''\n"};
}

// --- checkpoints -----------------------------------------------------------------

// A small model with every kind of state a checkpoint holds: parameters,
// buffers (BatchNorm's running stats and int64 counter), Adam state, extra state.
class TinyModel : public GanModel, public NoiseSampler {
 public:
  TinyModel()
      : g_(torch::nn::Linear(4, 6), torch::nn::BatchNorm1d(6), torch::nn::Linear(6, 3)),
        d_(torch::nn::Linear(3, 1)),
        og_(g_->parameters(), torch::optim::AdamOptions(1e-3)),
        od_(d_->parameters(), torch::optim::AdamOptions(1e-3)) {}
  std::string name() const override { return "tiny"; }
  std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>> nets() override {
    return {{"G", g_.ptr()}, {"D", d_.ptr()}};
  }
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers() override {
    return {{"G", &og_}, {"D", &od_}};
  }
  Scalars step(const Batch&, StepContext&) override {
    auto loss = d_->forward(g_->forward(torch::randn({5, 4}))).mean();
    og_.zero_grad();
    od_.zero_grad();
    loss.backward();
    og_.step();
    od_.step();
    return {{"loss", loss.detach()}};
  }
  torch::Tensor sample(const SampleRequest& r) override { return g_->forward(r.noise); }
  torch::Tensor make_noise(int64_t n, torch::Device) const override { return torch::randn({n, 4}); }
  std::map<std::string, torch::Tensor> extra_state() override { return {{"u", extra_}}; }
  void load_extra_state(const std::map<std::string, torch::Tensor>& s) override {
    auto it = s.find("u");
    if (it != s.end()) extra_ = it->second;
  }

 private:
  torch::nn::Sequential g_;
  torch::nn::Linear d_;
  torch::optim::Adam og_, od_;
  torch::Tensor extra_ = torch::ones({3});
};

const std::string& tiny_checkpoint() {
  static const std::string bytes = [] {
    torch::manual_seed(1);
    TinyModel m;
    StepContext ctx;
    m.step(Batch{}, ctx);
    TrainState st;
    st.step = 3;
    st.loader = {1, 2};
    st.shape = DataShape{1, 28, 10};
    st.fixed_noise = m.make_noise(4, torch::kCPU);
    st.fixed_labels = torch::tensor({0, 1, 2, 3}, torch::kInt64);
    st.rng_state = get_rng_state();
    Config cfg;
    return Checkpoint::encode(m, cfg, st);
  }();
  return bytes;
}

constexpr size_t kCkHeader = 24;

std::string run_checkpoint(const uint8_t* data, size_t size) {
  if (size == 0) return "empty";
  std::string bytes;
  if (data[0] & 1) {
    bytes.assign(reinterpret_cast<const char*>(data) + 1, size - 1);  // the whole file
  } else {
    // A payload behind a valid header: the mutations reach the archive reader.
    const std::string payload(reinterpret_cast<const char*>(data) + 1, size - 1);
    bytes = std::string("DUELCKPT", 8);
    put_le(bytes, kCheckpointFormat, 4);
    put_le(bytes, crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(payload.data()), uInt(payload.size())), 4);
    put_le(bytes, payload.size(), 8);
    bytes += payload;
  }
  return refused([&] {
    Checkpoint ck = Checkpoint::decode(bytes, "fuzz.duel");
    Config::from_string(ck.config_toml(), "fuzz.duel");
    TinyModel m;
    ck.restore(m, /*optimizers=*/true);
    set_rng_state(ck.state().rng_state);
    StepContext ctx;
    m.step(Batch{}, ctx);  // restored optimizer state must be usable
  });
}
std::vector<std::string> seeds_checkpoint() {
  const std::string& file = tiny_checkpoint();
  return {std::string(1, '\1') + file, std::string(1, '\0') + file.substr(kCkHeader)};
}

// --- image-folder layouts ----------------------------------------------------------
//
// The input is a script that builds a folder tree, then load_image_folder
// reads it. Byte 0 picks data.image_size and data.channels; then records:
//   op 0: make class folder k            op 4: empty file
//   op 1: file with raw bytes (u16 len)  op 5: folder named like an image
//   op 2: the same one folder deeper     op 6: a FIFO named like an image
//   op 3: a symbolic link (loop, dangling, to a file)
//   op 7: a copy of built-in seed image k

// Puts a file into the layout, replacing whatever entry had the name (a
// folder, a FIFO, a link); a name that cannot be written is left as it is.
void put_file(const fs::path& path, const void* data, size_t size) {
  std::error_code ec;
  fs::remove_all(path, ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, data, size);
  (void)ignored;
  ::close(fd);
}

struct Reader {
  const uint8_t* p;
  size_t n, i = 0;
  bool more() const { return i < n; }
  uint8_t byte() { return i < n ? p[i++] : 0; }
};

// --- label CSVs of image folders (data.labels) ----------------------------------------

std::string run_labels_csv(const uint8_t* data, size_t size) {
  const std::string root = scratch_dir() + "/csv";
  if (!fs::exists(root + "/img/sub/b.png")) {  // three tiny images, made once
    fs::create_directories(root + "/img/sub");
    for (const char* n : {"a.png", "sub/b.png", "c.bmp"})
      write_bytes(root + "/img/" + n, reinterpret_cast<const uint8_t*>(image_seeds()[0].data()), image_seeds()[0].size());
  }
  write_bytes(root + "/labels.csv", data, size);
  return refused([&] {
    load_image_folder(root + "/img", 8, 1, root + "/labels.csv", size % 2 == 0);
  });
}
std::vector<std::string> seeds_labels_csv() {
  return {"path,label\na.png,cat\nsub/b.png,dog\nc.bmp,cat\n", "a.png,1\r\nsub/b.png,2\r\n", "a.png,x\n./sub/../c.bmp,y\n",
          "path,label\n", "a.png\n", ",\n,,\n"};
}

std::string run_folder(const uint8_t* data, size_t size) {
  const std::string root = scratch_dir() + "/folder";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root);
  Reader r{data, size};
  const int64_t sizes[] = {0, 4, 8, 16, 28, 33};
  const uint8_t opt = r.byte();
  const int64_t image_size = sizes[opt % 6], channels = (opt / 6) % 3 == 2 ? 3 : (opt / 6) % 3;
  const char* classes[] = {"", "cat", "dog", "Zebra", ".hidden"};
  const char* names[] = {"a.png", "b.PNG", "c.jpg", "d.jpeg", "e.bmp", "f.txt", ".g.png", "h.png.bak", "i j.png", "k.JpG"};
  auto folder = [&](uint8_t k) {
    fs::path p = fs::path(root) / classes[k % 5];
    fs::create_directories(p, ec);
    return p;
  };
  for (int records = 0; r.more() && records < 64; ++records) {
    const uint8_t op = r.byte() % 8;
    fs::path dir = folder(r.byte());
    const std::string name = names[r.byte() % 10];
    switch (op) {
      case 0: break;
      case 1:
      case 2: {
        if (op == 2) fs::create_directories(dir /= "nested", ec);
        size_t len = size_t(r.byte()) | (size_t(r.byte()) << 8);
        len = std::min(len, r.n - r.i);
        put_file(dir / name, r.p + r.i, len);
        r.i += len;
        break;
      }
      case 3: {
        const char* targets[] = {"..", ".", "missing.png", "a.png"};
        fs::create_symlink(targets[r.byte() % 4], dir / name, ec);
        break;
      }
      case 4: put_file(dir / name, "", 0); break;
      case 5: fs::create_directories(dir / name, ec); break;
      case 6: ::mkfifo((dir / name).c_str(), 0644); break;
      case 7: {
        const auto& img = image_seeds()[r.byte() % image_seeds().size()];
        put_file(dir / name, img.data(), img.size());
        break;
      }
    }
  }
  return refused([&] { load_image_folder(root, image_size, channels); });
}

std::string layout(uint8_t opt, std::initializer_list<std::initializer_list<uint8_t>> records) {
  std::string s(1, char(opt));
  for (auto& rec : records)
    for (uint8_t b : rec) s.push_back(char(b));
  return s;
}
std::vector<std::string> seeds_folder() {
  std::string raw = layout(0, {{1, 0, 0}});  // a loose PNG given as raw bytes
  const std::string& png = image_seeds()[1];
  raw.push_back(char(png.size() & 0xff));
  raw.push_back(char(png.size() >> 8));
  raw += png;
  return {
      raw,
      layout(3, {{7, 1, 0, 1}, {7, 1, 1, 1}, {7, 2, 0, 1}, {7, 3, 2, 6}}),  // three classes, resized to 16
      layout(0, {{7, 0, 0, 0}, {7, 0, 1, 0}}),                              // loose gray images
      layout(7, {{7, 1, 0, 1}, {7, 0, 1, 1}}),                              // loose + class: refused
      layout(1, {{7, 1, 0, 0}, {7, 1, 1, 1}}),                              // different sizes
      layout(2, {{7, 1, 0, 1}, {3, 2, 0, 0}, {4, 2, 1}, {6, 1, 3}, {5, 3, 2}}),
  };
}

// --- image-pair layouts (data.pair) ---------------------------------------------
//
// The input is a script that builds folders A and B, then one of the pair
// readers parses them: load_paired_folders (A/B matched by name),
// load_side_by_side (A|B halves of A's images) or load_unpaired_folders,
// followed by check_pairs and, when they pass, one loader batch with the
// crop and flip the input picks. Byte 0: reader (% 3), data.image_size,
// data.channels; byte 1: data.crop, data.flip, BA order. Then records of
// an op byte, a folder byte (A or B, top level, sub/, train/ or test/) and
// a name byte:
//   op 0: file with raw bytes (u16 len)   op 2: generated image w, h, c
//   op 1: a copy of built-in seed image k op 3: empty file
//   op 4: remove the entry                op 5: folder named like an image

std::string run_pairs(const uint8_t* data, size_t size) {
  const std::string root = scratch_dir() + "/pairs";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(root + "/A");
  fs::create_directories(root + "/B");
  Reader r{data, size};
  const int64_t sizes[] = {0, 4, 6, 8, 9};
  const uint8_t opt = r.byte(), aug = r.byte();
  const int reader = opt % 3;
  const int64_t image_size = sizes[(opt / 3) % 5], channels = (opt / 15) % 3 == 2 ? 3 : (opt / 15) % 3;
  const int64_t crop = aug % 8;
  const bool flip = (aug / 8) % 2, b_first = (aug / 16) % 2;
  const char* subdirs[] = {"", "sub", "train", "test"};
  const char* names[] = {"a.png", "a.jpg", "b.png", "b.bmp", "c.PNG", "d.jpeg", "e.txt", ".f.png"};
  for (int records = 0; r.more() && records < 32; ++records) {
    const uint8_t op = r.byte() % 6, where = r.byte();
    fs::path dir = fs::path(root) / (where % 2 ? "B" : "A") / subdirs[(where / 2) % 4];
    fs::create_directories(dir, ec);
    const fs::path file = dir / names[r.byte() % 8];
    switch (op) {
      case 0: {
        size_t len = size_t(r.byte()) | (size_t(r.byte()) << 8);
        len = std::min(len, r.n - r.i);
        put_file(file, r.p + r.i, len);
        r.i += len;
        break;
      }
      case 1: {
        const auto& img = image_seeds()[r.byte() % image_seeds().size()];
        put_file(file, img.data(), img.size());
        break;
      }
      case 2: {
        const int w = 1 + r.byte() % 12, h = 1 + r.byte() % 12, c = 1 + r.byte() % 4;
        const std::string img = encode_image(r.byte() % 2 ? "bmp" : "png", w, h, c);
        put_file(file, img.data(), img.size());
        break;
      }
      case 3: put_file(file, "", 0); break;
      case 4: fs::remove_all(file, ec); break;
      case 5: fs::create_directories(file, ec); break;
    }
  }
  return refused([&] {
    const std::string a = root + "/A", b = root + "/B";
    ImageSet s = reader == 0   ? load_paired_folders(a, b, image_size, channels)
                 : reader == 1 ? load_side_by_side(a, b_first, image_size, channels)
                               : load_unpaired_folders(a, b, image_size, channels);
    check_pairs(s, crop);
    LoaderOptions o;
    o.batch_size = 1;
    o.prefetch = 0;
    o.crop = crop;
    o.flip = flip;
    Loader loader(s, o);
    Batch batch = loader.next();
    const int64_t side = crop > 0 ? crop : s.images.size(2);
    if (batch.images.size(2) != side || batch.targets.size(2) != side || batch.targets.size(3) != side)
      throw std::logic_error("loader batch of the wrong size");
  });
}

std::vector<std::string> seeds_pairs() {
  // Generated images: op 2, folder, name, w-1, h-1, c-1, format.
  using Record = std::vector<uint8_t>;
  auto gen = [](uint8_t where, uint8_t name, uint8_t w, uint8_t h, uint8_t c) {
    return Record{2, where, name, uint8_t(w - 1), uint8_t(h - 1), uint8_t(c - 1), 0};
  };
  auto script = [](uint8_t opt, uint8_t aug, const std::vector<Record>& records) {
    std::string s{char(opt), char(aug)};
    for (auto& rec : records)
      for (uint8_t b : rec) s.push_back(char(b));
    return s;
  };
  return {
      // paired folders: a and b.png/b.bmp in A and B, 6x6, crop 4, flip
      script(0, 4 + 8, {gen(0, 0, 6, 6, 1), gen(1, 0, 6, 6, 3), gen(0, 2, 6, 6, 1), gen(1, 3, 6, 6, 3)}),
      // paired folders with a B image missing, and with train/ and test/ subfolders
      script(0, 0, {gen(0, 0, 6, 6, 1), gen(1, 0, 6, 6, 1), gen(0, 2, 6, 6, 1)}),
      script(3, 0, {gen(4, 0, 5, 7, 3), gen(5, 0, 5, 7, 3), gen(6, 2, 5, 7, 3), gen(7, 2, 5, 7, 3)}),
      // side by side: 8x4 images (4x4 halves), an odd width, BA order with a crop
      script(1, 0, {gen(0, 0, 8, 4, 3), gen(0, 2, 8, 4, 3)}),
      script(1, 0, {gen(0, 0, 8, 4, 3), gen(0, 2, 7, 4, 3)}),
      script(1 + 3, 16 + 8 + 3, {gen(0, 0, 12, 6, 1), gen(2, 2, 12, 6, 1)}),
      // unpaired folders of different counts and sizes, resized to 8
      script(2 + 9, 5, {gen(0, 0, 6, 6, 1), gen(1, 0, 9, 9, 3), gen(1, 2, 9, 9, 3), Record{1, 1, 4, 6}}),
  };
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"idx", "IDX images/labels, raw or gzip (read_file_maybe_gz, parse_idx_*)", run_idx, seeds_idx},
      {"cifar", "CIFAR-10 binary batches (load_cifar10)", run_cifar, seeds_cifar},
      {"pickle", "CIFAR-10 python batches through the strict pickle reader (parse_cifar10_python_batch)", run_pickle,
       seeds_pickle},
      {"tar", "tar archives, plain or gzipped (extract_tar)", run_tar, seeds_tar},
      {"packed", "packed datasets (open_packed, gather, verify_packed)", run_packed, seeds_packed},
      {"labels_csv", "label CSVs of image folders (data.labels: list_labelled_images)", run_labels_csv, seeds_labels_csv},
      {"image", "PNG/JPEG/BMP through stb (read_image)", run_image, seeds_image},
      {"toml", "TOML configs (Config::from_string) and their round trip", run_toml, seeds_toml},
      {"checkpoint", "checkpoints (Checkpoint::decode, restore into a model, one step)", run_checkpoint,
       seeds_checkpoint},
      {"folder", "image-folder layouts (load_image_folder)", run_folder, seeds_folder},
      {"pairs", "image-pair layouts (load_paired_folders, load_side_by_side, load_unpaired_folders, loader crops)",
       run_pairs, seeds_pairs},
  };
  return all;
}

const Target* find_target(const std::string& name) {
  for (auto& t : targets())
    if (name == t.name) return &t;
  return nullptr;
}

const std::string& scratch_dir() {
  // Never destroyed, so the exit handler that removes the folder can still read it.
  static const std::string* dir = [] {
    std::error_code ec;
    fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "duel-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      std::perror("fuzz harness: mkdtemp");
      std::abort();
    }
    return new std::string(tmpl);
  }();
  static const bool cleanup_registered = [] {
    std::atexit([] {
      std::error_code e;
      fs::remove_all(*dir, e);
    });
    return true;
  }();
  (void)cleanup_registered;
  return *dir;
}

}  // namespace duel::fuzz
