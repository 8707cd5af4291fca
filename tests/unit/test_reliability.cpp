// Reliability: hostile and damaged inputs end in a duel::Error that names the
// problem (each fuzzer finding has its case here), checkpoints refuse values
// they could not have been written with, a failed write keeps the previous
// file, and resuming orders checkpoints by step.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>

#include <stb_image_write.h>
#include <torch/serialize/output-archive.h>

#include "error_of.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/core/files.h"
#include "duel/core/rng.h"
#include "duel/data/dataset.h"
#include "duel/io/image.h"
#include "duel/models/model.h"
#include "duel/train/trainer.h"

using namespace duel;
namespace fs = std::filesystem;

namespace {

Config tiny_mlp(int64_t hidden = 16) {
  Config c;
  c.set_from_string("model.name=mlp");
  c.set_from_string("model.latent_dim=8");
  c.set_from_string("model.mlp_hidden=" + std::to_string(hidden));
  return c;
}

std::unique_ptr<GanModel> trained_mlp(int64_t hidden = 16) {
  torch::manual_seed(3);
  auto model = create_model(tiny_mlp(hidden), DataShape{1, 28, 0});
  StepContext ctx;
  model->step(Batch{torch::rand({4, 1, 28, 28}) * 2 - 1, {}, 0}, ctx);  // optimizer state exists
  return model;
}

TrainState tiny_state() {
  TrainState st;
  st.step = 5;
  st.loader = {0, 1};
  st.shape = DataShape{1, 28, 0};
  st.fixed_noise = torch::randn({4, 8});
  st.rng_state = get_rng_state();
  return st;
}

std::string with_header(const std::string& payload) {
  std::string f("DUELCKPT", 8);
  auto put = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) f.push_back(char((v >> (8 * i)) & 0xff));
  };
  put(kCheckpointFormat, 4);
  put(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(payload.data()), uInt(payload.size())), 4);
  put(payload.size(), 8);
  return f + payload;
}

// A checkpoint payload with every field a reader needs; `tweak` replaces or drops fields.
std::string payload(const std::map<std::string, c10::IValue>& tweak) {
  std::map<std::string, c10::IValue> fields = {
      {"format", int64_t(1)},       {"model", std::string("mlp")},        {"config", Config().to_toml()},
      {"step", int64_t(5)},         {"loader_epoch", int64_t(0)},         {"loader_batch", int64_t(1)},
      {"shape_channels", int64_t(1)}, {"shape_size", int64_t(28)},          {"shape_classes", int64_t(0)},
      {"fixed_noise", torch::randn({4, 8})}, {"rng_state", get_rng_state()}, {"extra_names", std::string()}};
  for (auto& [k, v] : tweak) fields[k] = v;
  torch::serialize::OutputArchive a;
  for (auto& [k, v] : fields) {
    if (v.isNone()) continue;  // dropped
    if (v.isTensor()) a.write(k, v.toTensor());
    else a.write(k, v);
  }
  std::ostringstream o;
  a.save_to(o);
  return o.str();
}

using test::error_of;

#define EXPECT_ERROR(statement, text)                                 \
  do {                                                                \
    const std::string message_ = error_of([&] { statement; });        \
    EXPECT_NE(message_.find(text), std::string::npos) << message_;    \
  } while (0)

fs::path scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("duel-reliability-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string png_bytes(int w, int h, int c) {
  std::vector<uint8_t> px(size_t(w * h * c), 128);
  std::string out;
  stbi_write_png_to_func([](void* ctx, void* d, int n) { static_cast<std::string*>(ctx)->append((char*)d, size_t(n)); },
                         &out, w, h, c, px.data(), w * c);
  return out;
}

}  // namespace

// --- checkpoints -------------------------------------------------------------------

TEST(ReliabilityCheckpoint, RefusesValuesItCouldNotHaveWritten) {
  EXPECT_NO_THROW(Checkpoint::decode(with_header(payload({})), "ok.duel"));
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"step", std::string("ten")}})), "a.duel"),
               "checkpoint 'a.duel' has an invalid 'step'");
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"loader_batch", int64_t(-1)}})), "a.duel"),
               "invalid 'loader_batch'");
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"shape_channels", int64_t(1) << 40}})), "a.duel"),
               "invalid 'shape_channels'");
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"model", int64_t(3)}})), "a.duel"), "invalid 'model'");
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"lr_scale", 4.0}})), "a.duel"), "invalid 'lr_scale'");
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"config", c10::IValue()}})), "a.duel"), "lacks 'config'");
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"rng_state", torch::zeros({7}, torch::kUInt8)}})), "a.duel"),
               "malformed RNG state");
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"fixed_noise", torch::full({4, 8}, NAN)}})), "a.duel"),
               "malformed sampling noise");
  EXPECT_ERROR(Checkpoint::decode(with_header(payload({{"fixed_labels", torch::full({4}, 3, torch::kInt64)}})),
                                  "a.duel"),
               "malformed sampling labels");  // 0 classes
  EXPECT_ERROR(Checkpoint::decode(with_header("not a zip archive at all"), "a.duel"), "has an unreadable archive");
}

TEST(ReliabilityCheckpoint, RestoreRefusesOtherShapesInsteadOfAdoptingThem) {
  auto small = trained_mlp(16), big = trained_mlp(32);
  auto ck = Checkpoint::decode(Checkpoint::encode(*small, tiny_mlp(16), tiny_state()), "small.duel");
  EXPECT_ERROR(ck.restore(*big, true), "but the model has");
  EXPECT_EQ(big->nets()[0].second->parameters()[0].size(0), 32);  // nothing was swapped in
}

TEST(ReliabilityCheckpoint, RestoreRefusesNonFiniteWeights) {
  auto model = trained_mlp();
  {
    torch::NoGradGuard g;
    model->nets()[1].second->parameters()[0].view(-1)[3] = NAN;
  }
  auto ck = Checkpoint::decode(Checkpoint::encode(*model, tiny_mlp(), tiny_state()), "nan.duel");
  auto other = trained_mlp();
  EXPECT_ERROR(ck.restore(*other, true), "non-finite weights in net D");
}

TEST(ReliabilityCheckpoint, RestoreRefusesOptimizerStateOfAnotherShape) {
  // The nets of one model with the optimizer state of a wider one.
  auto small = trained_mlp(16), big = trained_mlp(32);
  torch::serialize::OutputArchive root;
  auto st = tiny_state();
  for (auto& [k, v] : std::map<std::string, c10::IValue>{{"format", int64_t(1)}, {"model", std::string("mlp")},
                                                          {"config", tiny_mlp().to_toml()}, {"step", int64_t(5)},
                                                          {"loader_epoch", int64_t(0)}, {"loader_batch", int64_t(1)},
                                                          {"shape_channels", int64_t(1)}, {"shape_size", int64_t(28)},
                                                          {"shape_classes", int64_t(0)}, {"extra_names", std::string()}})
    root.write(k, v);
  root.write("fixed_noise", st.fixed_noise);
  root.write("rng_state", st.rng_state);
  for (auto& [name, net] : small->nets()) {
    torch::serialize::OutputArchive a;
    net->save(a);
    root.write("net." + name, a);
  }
  for (auto& [name, opt] : big->optimizers()) {
    torch::serialize::OutputArchive a;
    opt->save(a);
    root.write("optim." + name, a);
  }
  std::ostringstream o;
  root.save_to(o);
  auto ck = Checkpoint::decode(with_header(o.str()), "mixed.duel");
  auto target = trained_mlp(16);
  EXPECT_ERROR(ck.restore(*target, true), "holds optimizer state for 'G' of shape [32");
}

// Fuzzer finding: a TorchScript type name damaged inside the archive made
// LibTorch throw torch::jit::ErrorReport, which is no c10::Error.
TEST(ReliabilityCheckpoint, DamagedTorchScriptIsAnError) {
  auto model = trained_mlp();
  std::string p = Checkpoint::encode(*model, tiny_mlp(), tiny_state()).substr(24);
  auto at = p.find("exp_avg_sq : Tensor");
  ASSERT_NE(at, std::string::npos);
  p[at + 15] = '3';  // Tensor -> Ten3or
  EXPECT_ERROR(Checkpoint::decode(with_header(p), "ts.duel"), "checkpoint 'ts.duel' has an unreadable archive");
}

// Fuzzer finding: one changed byte (__buffers__ -> __buffers_O) in a module's
// TorchScript source crashes LibTorch's reader (a segfault in
// ScriptTypeParser::parseClassConstant), or, depending on what memory it
// reads, makes it throw; the forked probe contains both.
TEST(ReliabilityCheckpoint, ArchiveThatCrashesLibTorchIsAnError) {
  auto model = trained_mlp();
  std::string p = Checkpoint::encode(*model, tiny_mlp(), tiny_state()).substr(24);
  auto at = p.find("__buffers__ = []\n  step : int");
  ASSERT_NE(at, std::string::npos);
  p[at + 10] = 'O';
  EXPECT_ERROR(Checkpoint::decode(with_header(p), "segv.duel"), "checkpoint 'segv.duel' has an unreadable archive");
}

TEST(ReliabilityCheckpoint, ReadRefusesAHugeFileByItsHeader) {
  auto dir = scratch("huge");
  {
    std::ofstream f(dir / "big.duel", std::ios::binary);
    f << "DUELCKPT";
    f.write("\x01\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\x7f", 16);  // a payload length of 2^63
  }
  fs::resize_file(dir / "big.duel", uint64_t(1) << 40);  // sparse: a terabyte on paper
  EXPECT_ERROR(Checkpoint::read((dir / "big.duel").string()), "is truncated or padded");
  fs::remove_all(dir);
}

TEST(ReliabilityResume, NewestCheckpointByStepNotByName) {
  auto dir = scratch("order");
  fs::create_directories(dir / "checkpoints");
  auto model = trained_mlp();
  auto st = tiny_state();
  Checkpoint::write((dir / "checkpoints/step-999999.duel").string(), *model, tiny_mlp(), st);
  st.step = 1000000;
  Checkpoint::write((dir / "checkpoints/step-1000000.duel").string(), *model, tiny_mlp(), st);
  EXPECT_EQ(find_resume_checkpoint(dir.string()), (dir / "checkpoints/step-1000000.duel").string());
  // Damaged files are skipped, each with its reason.
  write(dir / "checkpoints/step-1000001.duel", "garbage");
  std::vector<std::string> skipped;
  EXPECT_EQ(find_resume_checkpoint(dir.string(), &skipped), (dir / "checkpoints/step-1000000.duel").string());
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("step-1000001.duel' is not a duel checkpoint"), std::string::npos) << skipped[0];
  fs::remove_all(dir);
}

// --- data and images ------------------------------------------------------------

// Fuzzer finding: an IDX label file declaring 0 labels passed a null pointer to memcpy (UBSan).
TEST(ReliabilityData, EmptyIdxLabelFile) {
  std::vector<uint8_t> b = {0, 0, 8, 1, 0, 0, 0, 0};
  EXPECT_EQ(parse_idx_labels(b, "empty").numel(), 0);
  std::vector<uint8_t> huge = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x10, 0, 0, 0, 0x10, 0};
  EXPECT_ERROR(parse_idx_images(huge, "huge"), "is truncated");  // checked before any allocation
}

// Fuzzer finding: stb_image 2.27 writes past its Huffman size table when a
// JPEG's DHT segment declares more than 256 codes.
TEST(ReliabilityImage, JpegHuffmanTableOverflowIsRefused) {
  auto dir = scratch("jpeg");
  std::string jpg = "\xff\xd8\xff\xc4";
  jpg += std::string("\x01\x13\x00", 3);  // segment length 0x113, class 0 table 0
  jpg += std::string(16, '\x20');        // 16 lengths of 32 codes: 512 codes
  jpg += std::string(0x113 - 19, '\x01');
  jpg += "\xff\xd9";
  write(dir / "bad.jpg", jpg);
  EXPECT_ERROR(read_image((dir / "bad.jpg").string()), "corrupt JPEG (a Huffman table declares 512 codes)");
  // The same behind 0xFF fill bytes, which stb skips before the start-of-image marker (libFuzzer's finding).
  write(dir / "fill.jpg", std::string(40, '\xff') + jpg.substr(1));
  EXPECT_ERROR(read_image((dir / "fill.jpg").string()), "corrupt JPEG (a Huffman table declares 512 codes)");
  fs::remove_all(dir);
}

TEST(ReliabilityImage, SizeFieldsAreCheckedAgainstTheFile) {
  auto dir = scratch("png");
  std::string png = png_bytes(2, 2, 1);
  // A chunk length past the end of the file (stb would allocate it first).
  std::string long_chunk = png;
  long_chunk[8 + 25 + 0] = 0x3f;  // the IDAT length's high byte: ~1 GiB
  write(dir / "chunk.png", long_chunk);
  EXPECT_ERROR(read_image((dir / "chunk.png").string()), "a chunk runs past the end of the file");
  // A header declaring 8000x8000 RGB pixels in a file of ~70 bytes.
  std::string big = png_bytes(2, 2, 3);
  for (int i : {16, 20}) big[i + 2] = 0x1f, big[i + 3] = 0x40;  // width and height 8000
  write(dir / "big.png", big);
  EXPECT_ERROR(read_image((dir / "big.png").string()), "more than its");
  fs::remove_all(dir);
}

// Fuzzer finding: a BMP header whose size stb reports as negative made the
// size check itself overflow (UBSan, in duel's own code).
TEST(ReliabilityImage, NegativeImageSizeIsRefused) {
  auto dir = scratch("bmp");
  const unsigned char bmp[] = {0x42, 0x4d, 0xba, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbf, 0x7a,
                               0x00, 0x00, 0x00, 0x6c, 0x00, 0x00, 0x00, 0x04, 0x00, 0xf1, 0x5e,
                               0x17, 0xe8, 0x9f, 0x9b, 0x01, 0x00, 0x20, 0x00, 0x03, 0x00};
  write(dir / "neg.bmp", std::string(reinterpret_cast<const char*>(bmp), sizeof bmp));
  EXPECT_ERROR(read_image((dir / "neg.bmp").string()), "x-1684019177 pixels");
  fs::remove_all(dir);
}

// Fuzzer finding: a link loop named like an image made the folder scan throw
// std::filesystem_error; such entries are now skipped like any non-image.
TEST(ReliabilityImage, FolderWithLinkLoopsAndOddEntries) {
  auto dir = scratch("folder");
  fs::create_directories(dir / "cat");
  write(dir / "cat/a.png", png_bytes(4, 4, 3));
  fs::create_symlink("b.png", dir / "cat/b.png");  // a loop
  fs::create_symlink("missing.png", dir / "cat/c.png");
  fs::create_directories(dir / "cat/d.png");  // a folder named like an image
  auto s = load_image_folder(dir.string(), 0, 0);
  EXPECT_EQ(s.size(), 1);
  EXPECT_EQ(s.num_classes, 1);
  fs::remove_all(dir);
}

// --- configs ------------------------------------------------------------------------

// Fuzzer finding: toml++ 3.3.0 reaches __builtin_unreachable() for some
// non-ASCII characters where whitespace may stand (tomlplusplus#295).
TEST(ReliabilityConfig, NonAsciiOutsideStringsIsRefusedInsideIsKept) {
  EXPECT_ERROR(Config::from_string("\xcf\x82", "g.toml"),
               "cannot parse config g.toml:1:1: a non-ASCII character outside a string or comment");
  EXPECT_ERROR(Config::from_string("[train]\nsteps = 3\xc3\xa9\n", "g.toml"), "g.toml:2:10: a non-ASCII character");
  EXPECT_ERROR(Config::from_string("[data]\npath = \"\"\"a\\\n  \xc2\xa7\"\"\"\n", "g.toml"),
               "after a backslash in a multi-line string");
  // A quote inside a bare value starts no string for toml++ (libFuzzer's finding).
  EXPECT_ERROR(Config::from_string("x= -''train.b'@\xc8\xaa", "q.toml"), "q.toml:1:16: a non-ASCII character outside");
  const char nul_bracket[] = "[train]\nx = 1979-\0'++[\0--e9\xef\xb6\xbf" "2";  // '[' and NUL end no value
  EXPECT_ERROR(Config::from_string(std::string(nul_bracket, sizeof nul_bracket - 1), "b.toml"),
               "b.toml:2:20: a non-ASCII character outside");
  EXPECT_ERROR(Config::from_string("x = 1 \xc3\xa9", "c.toml"), "c.toml:1:7: a non-ASCII character outside");
  auto c = Config::from_string("# caf\xc3\xa9 \xcf\x82\n[data]\npath = \"/tmp/caf\xc3\xa9\" # \xc2\xa7\n"
                               "dataset = 'folder:/d/\xcf\x82'\n",
                               "ok.toml");
  EXPECT_EQ(c.get_string("data.path"), "/tmp/caf\xc3\xa9");
  EXPECT_EQ(c.get_string("data.dataset"), "folder:/d/\xcf\x82");
  auto arr = Config::from_string("[data]\npath=\"/\xc3\xa9\" # \xc3\xa9\ndataset = 'folder:/\xcf\x82'\n", "arr.toml");
  EXPECT_EQ(arr.get_string("data.path"), "/\xc3\xa9");
  auto m = Config::from_string("[data]\npath = \"\"\"\n/a/caf\xc3\xa9\\\n  /b\"\"\"\n", "ml.toml");
  EXPECT_EQ(m.get_string("data.path"), "/a/caf\xc3\xa9/b");
}

// --- writes -----------------------------------------------------------------------

TEST(ReliabilityWrite, FailedWriteKeepsThePreviousFileAndNoTemporary) {
  auto dir = scratch("write");
  const std::string path = (dir / "out.bin").string();
  write_file_atomic(path, "previous");
  // A file-size limit makes write() fail with EFBIG, as a full disk fails with ENOSPC.
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{}, low{4096, 4096};
  getrlimit(RLIMIT_FSIZE, &old);
  low.rlim_max = old.rlim_max;
  setrlimit(RLIMIT_FSIZE, &low);
  const std::string msg = error_of([&] { write_file_atomic(path, std::string(100000, 'x')); });
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_NE(msg.find("cannot write '" + path + "' (write): File too large; the disk may be full"), std::string::npos)
      << msg;
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "previous");
  int entries = 0;
  for (auto& e : fs::directory_iterator(dir)) entries += e.path().filename() != "out.bin";
  EXPECT_EQ(entries, 0) << "a temporary file was left";
  EXPECT_ERROR(write_file_atomic((dir / "no/such/folder/x").string(), "x"), "No such file or directory");
  fs::remove_all(dir);
}
