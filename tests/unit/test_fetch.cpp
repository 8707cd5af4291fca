// Downloads, archives, pickles and `duel data get`, against an HTTP server on
// 127.0.0.1 serving fixture files (tests/unit/loopback.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "error_of.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/fetch.h"
#include "duel/io/download.h"
#include "duel/io/pickle.h"
#include "duel/io/sha256.h"
#include "duel/io/tar.h"
#include "loopback.h"

namespace fs = std::filesystem;

namespace duel {
namespace {

using test::CannedAnswer;
using test::LoopbackServer;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("duel_fetch_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string bytes_of(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char((i * 2654435761u + seed) >> 13);
  return s;
}

// Only `dest` may exist afterwards: no temporary file is left beside it.
size_t files_in(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() || e.is_directory();
  return n;
}

using test::error_of;

TEST(Download, RightChecksumIsKept) {
  LoopbackServer srv;
  const std::string body = bytes_of(200000, 1);
  srv.route("/f.bin", {200, body});
  const fs::path dir = fresh_dir("right");
  download_verified({srv.url("/f.bin"), sha256_hex(body.data(), body.size()), int64_t(body.size())}, (dir / "f.bin").string());
  EXPECT_EQ(read_all(dir / "f.bin"), body);
  EXPECT_EQ(files_in(dir), 1u);
}

TEST(Download, EveryFailureNamesTheCauseAndLeavesNothing) {
  LoopbackServer srv;
  const std::string body = bytes_of(50000, 2);
  const std::string good = sha256_hex(body.data(), body.size());
  srv.route("/wrong", {200, bytes_of(50000, 3)});
  srv.route("/short", {200, body.substr(0, 20000), int64_t(body.size())});
  srv.route("/slow", {200, body, -1, 200});
  const fs::path dir = fresh_dir("fail");
  const std::string dest = (dir / "f.bin").string();
  DownloadOptions quick;
  quick.stall_timeout_s = 1;
  auto get = [&](const std::string& path, int64_t size = -1) {
    return error_of([&] { download_verified({srv.url(path), good, size}, dest, quick); });
  };
  EXPECT_NE(get("/wrong").find("has SHA-256"), std::string::npos) << get("/wrong");
  EXPECT_NE(get("/short").find("broke off after 20000 bytes"), std::string::npos) << get("/short");
  EXPECT_NE(get("/missing").find("answered HTTP 404"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(get("/slow").find("stalled"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(get("/wrong", 100).find("sent more than the expected 100 bytes"), std::string::npos);
  EXPECT_NE(error_of([&] { download_verified({"http://127.0.0.1:1/x", good, -1}, dest, quick); }).find("cannot connect"),
            std::string::npos);
  EXPECT_NE(error_of([&] { download_verified({"ftp://127.0.0.1/x", good, -1}, dest, quick); }).find("only http://"),
            std::string::npos);
  EXPECT_EQ(files_in(dir), 0u) << "a failed download left a file behind";
}

TEST(Tar, ExtractsWantedFilesAndRefusesUnsafeNames) {
  const fs::path dir = fresh_dir("tar");
  test::tar_gz({{"top/a.txt", "alpha"}, {"top/sub/b.bin", bytes_of(1500, 4)}, {"other.txt", "x"}}, (dir / "a.tgz").string());
  fs::create_directories(dir / "out");
  auto got = extract_tar((dir / "a.tgz").string(), (dir / "out").string(),
                         [](const std::string& n) { return n.rfind("top/", 0) == 0; });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(read_all(dir / "out/top/a.txt"), "alpha");
  EXPECT_EQ(read_all(dir / "out/top/sub/b.bin"), bytes_of(1500, 4));
  EXPECT_FALSE(fs::exists(dir / "out/other.txt"));
  test::tar_gz({{"../evil.txt", "x"}}, (dir / "evil.tgz").string());
  EXPECT_NE(error_of([&] { extract_tar((dir / "evil.tgz").string(), (dir / "out").string()); }).find("unsafe path"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "evil.txt"));
  // A damaged header and a cut-off archive are errors, not garbage files.
  std::string raw = test::tar_gz({{"a.txt", bytes_of(3000, 5)}}, (dir / "ok.tgz").string());
  raw[10] ^= 1;
  gzFile g = gzopen((dir / "bad.tgz").string().c_str(), "wb");
  gzwrite(g, raw.data(), unsigned(raw.size()));
  gzclose(g);
  EXPECT_NE(error_of([&] { extract_tar((dir / "bad.tgz").string(), (dir / "out").string()); }).find("checksum"), std::string::npos);
  raw[10] ^= 1;
  g = gzopen((dir / "cut.tgz").string().c_str(), "wb");
  gzwrite(g, raw.data(), 1500);
  gzclose(g);
  EXPECT_NE(error_of([&] { extract_tar((dir / "cut.tgz").string(), (dir / "out").string()); }).find("truncated"), std::string::npos);
}

// n CIFAR images of known pixels and labels, as the python and binary versions store them.
struct CifarFixture {
  std::vector<uint8_t> pixels;
  std::vector<int> labels;
  explicit CifarFixture(int n, unsigned seed) {
    for (int i = 0; i < n * 3072; ++i) pixels.push_back(uint8_t((i * 7 + seed * 13) % 251));
    for (int i = 0; i < n; ++i) labels.push_back(int((i + seed) % 10));
  }
  std::string binary() const {
    std::string out;
    for (size_t i = 0; i < labels.size(); ++i) {
      out += char(labels[i]);
      out.append(reinterpret_cast<const char*>(pixels.data()) + i * 3072, 3072);
    }
    return out;
  }
};

TEST(Pickle, ReadsCifarBatchesAsPython2WroteThem) {
  const CifarFixture fx(3, 1);
  const std::string p = test::py2_cifar_pickle(fx.pixels, fx.labels);
  const ImageSet s = parse_cifar10_python_batch(std::vector<uint8_t>(p.begin(), p.end()), "batch");
  ASSERT_EQ(s.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_EQ(s.images[2][1][5][7].item<int>(), fx.pixels[2 * 3072 + 1 * 1024 + 5 * 32 + 7]);
  EXPECT_EQ(s.labels[2].item<int64_t>(), fx.labels[2]);
}

TEST(Pickle, RefusesWhatDatasetsDoNotHold) {
  auto err = [](const std::string& bytes) {
    return error_of([&] { parse_pickle(std::vector<uint8_t>(bytes.begin(), bytes.end()), "f.pkl"); });
  };
  using namespace std::string_literals;
  EXPECT_NE(err("\x80\x02"s "cposix\nsystem\nU\x02ls\x85R."s).find("'posix.system', which duel does not run"), std::string::npos);
  EXPECT_NE(err("\x80\x02]q\x01h\x01" "a."s).find("inside itself"), std::string::npos) << err("\x80\x02]q\x01h\x01" "a."s);
  EXPECT_NE(err("\x80\x02" + std::string(100, ']') + std::string(99, 'a') + ".").find("nested more than 64"), std::string::npos);
  EXPECT_NE(err("\x80\x02U\x10short"s).find("past the end"), std::string::npos);
  EXPECT_NE(err("\x80\x02K\x01K\x02."s).find("ends with 2 values"), std::string::npos);
  EXPECT_NE(err("\x80\x02i"s).find("opcode 0x69"), std::string::npos);
  EXPECT_NE(err("\x80\x02h\x05."s).find("never stored"), std::string::npos);
}

std::string gz_bytes(const std::string& raw, const fs::path& scratch) {
  gzFile g = gzopen(scratch.string().c_str(), "wb");
  gzwrite(g, raw.data(), unsigned(raw.size()));
  gzclose(g);
  return read_all(scratch);
}

std::string be32(uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 255), char((v >> 8) & 255), char(v & 255)};
}

// A mirror of four MNIST-shaped IDX files (n train, m test digits), gzipped, with their digests.
DatasetSource mnist_mirror(LoopbackServer& srv, const fs::path& scratch, int n, int m) {
  DatasetSource src;
  for (const auto& [pre, count] : std::vector<std::pair<std::string, int>>{{"train", n}, {"t10k", m}}) {
    std::string img = be32(0x803) + be32(uint32_t(count)) + be32(28) + be32(28) + bytes_of(size_t(count) * 784, 7);
    std::string lab = be32(0x801) + be32(uint32_t(count));
    for (int i = 0; i < count; ++i) lab += char(i % 10);
    for (const auto& [name, raw] : std::vector<std::pair<std::string, std::string>>{
             {pre + "-images-idx3-ubyte.gz", img}, {pre + "-labels-idx1-ubyte.gz", lab}}) {
      const std::string z = gz_bytes(raw, scratch / name);
      srv.route("/mnist/" + name, {200, z});
      src.files.push_back({name, sha256_hex(z.data(), z.size()), int64_t(z.size())});
    }
  }
  return src;
}

TEST(Fetch, MnistFromTheSecondMirrorWhenTheFirstFails) {
  LoopbackServer empty, good;
  const fs::path dir = fresh_dir("mnist");
  DatasetSource src = mnist_mirror(good, dir, 30, 12);
  src.mirrors = {empty.url("/mnist/"), good.url("/mnist")};
  FetchOptions o;
  o.root = (dir / "home").string();
  o.source = "official";
  o.source_table = &src;
  const FetchResult r = fetch_dataset("mnist", o);
  EXPECT_EQ(r.source, "official");
  EXPECT_EQ(r.train, 30);
  EXPECT_EQ(r.test, 12);
  EXPECT_EQ(empty.requests(), 4);  // each file tried there first, answered 404, then the next mirror
  const ImageSet t = load_idx(r.dir + "/t10k-images-idx3-ubyte.gz", r.dir + "/t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(t.size(), 12);
  EXPECT_TRUE(fs::exists(manifest_path(r.dir)));
  // A second get finds the complete copy and fetches nothing.
  const int before = good.requests();
  EXPECT_EQ(fetch_dataset("mnist", o).source, "present");
  EXPECT_EQ(good.requests(), before);
}

TEST(Fetch, AFailedFetchLeavesNoDatasetFolder) {
  LoopbackServer srv;
  const fs::path dir = fresh_dir("mnist_bad");
  DatasetSource src = mnist_mirror(srv, dir, 20, 10);
  src.mirrors = {srv.url("/mnist/")};
  src.files[3].sha256 = std::string(64, '0');  // the last file is "tampered with"
  FetchOptions o;
  o.root = (dir / "home").string();
  o.source = "official";
  o.source_table = &src;
  EXPECT_NE(error_of([&] { fetch_dataset("mnist", o); }).find("t10k-labels-idx1-ubyte.gz"), std::string::npos);
  EXPECT_EQ(files_in(dir / "home"), 0u) << "a half-fetched dataset was left behind";
}

TEST(Fetch, Cifar10ArchiveGivesTheSameTensorsAsTheBinaryVersion) {
  LoopbackServer srv;
  const fs::path dir = fresh_dir("cifar");
  std::vector<std::pair<std::string, std::string>> py;
  fs::create_directories(dir / "bin");
  std::vector<std::string> names = {"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"};
  for (size_t i = 0; i < names.size(); ++i) {
    const CifarFixture fx(2 + int(i), unsigned(i));
    py.push_back({"cifar-10-batches-py/" + names[i], test::py2_cifar_pickle(fx.pixels, fx.labels)});
    std::ofstream(dir / "bin" / (names[i] + ".bin"), std::ios::binary) << fx.binary();
  }
  py.push_back({"cifar-10-batches-py/readme.html", "<p>readme</p>"});
  test::tar_gz(py, (dir / "cifar-10-python.tar.gz").string());
  const std::string z = read_all(dir / "cifar-10-python.tar.gz");
  srv.route("/kriz/cifar-10-python.tar.gz", {200, z});
  DatasetSource src{{srv.url("/kriz/")}, {{"cifar-10-python.tar.gz", sha256_hex(z.data(), z.size()), int64_t(z.size())}}};
  FetchOptions o;
  o.root = (dir / "home").string();
  o.source_table = &src;
  const FetchResult r = fetch_dataset("cifar10", o);
  EXPECT_EQ(r.train, 2 + 3 + 4 + 5 + 6);
  EXPECT_EQ(r.test, 7);
  for (const std::string split : {"train", "test"}) {
    const ImageSet a = load_cifar10(r.dir, split), b = load_cifar10((dir / "bin").string(), split);
    EXPECT_TRUE(torch::equal(a.images, b.images)) << split;
    EXPECT_TRUE(torch::equal(a.labels, b.labels)) << split;
  }
}

}  // namespace
}  // namespace duel
