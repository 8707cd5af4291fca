// The run folder's layout (include/duel/train/run_folder.h): file names,
// creating and clearing a run, and the numbered checkpoints' naming, order
// and pruning. Nothing here knows a model or a tensor.
#include "duel/train/run_folder.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <system_error>

#include "duel/core/error.h"

namespace fs = std::filesystem;

namespace duel {

std::string RunFolder::of_checkpoint(const std::string& checkpoint_path) {
  const fs::path dir = fs::absolute(checkpoint_path).lexically_normal().parent_path();
  if (dir.filename() == "checkpoints") return dir.parent_path().string();
  return dir.string();
}

std::string RunFolder::named_by(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::path(path).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();  // a trailing slash
  if (fs::is_regular_file(p, ec) && p.parent_path().filename() == "checkpoints") return named_by(p.parent_path().string());
  if (p.filename() == "checkpoints" && fs::is_directory(p, ec) && !fs::exists(p / "checkpoints", ec)) {
    const fs::path run = p.parent_path();
    return run.empty() ? "." : run.string();
  }
  return path;
}

std::string RunFolder::eval_result(int64_t step) const {
  std::error_code ec;
  std::string path = file("eval/" + step_name("step-", step, ".json"));
  for (int k = 2; fs::exists(path, ec); ++k) path = file("eval/" + step_name("step-", step, "." + std::to_string(k) + ".json"));
  return path;
}

std::string RunFolder::step_name(const std::string& prefix, int64_t step, const std::string& ext) {
  std::ostringstream o;
  o << prefix << std::setw(6) << std::setfill('0') << step << ext;
  return o.str();
}

// Sorting by this step (not by name) keeps the order right past step 999999, where names grow a digit.
int64_t RunFolder::numbered_step(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.rfind("step-", 0) != 0 || p.extension() != ".duel") return -1;
  const std::string digits = name.substr(5, name.size() - 5 - 5);
  if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

bool RunFolder::check_existing(bool force) const {
  std::error_code ec;
  if (!fs::exists(root_, ec)) return false;
  require(fs::is_directory(root_, ec), "run path '" + root_ + "' exists and is not a folder", "choose another --out");
  // A start that failed before its first checkpoint left no run: its folder is reused.
  if (has_checkpoint() && !force)
    throw Error("run folder '" + root_ + "' already holds a run",
                "continue it with `duel train --resume " + root_ + "`, or overwrite it with --force");
  return fs::exists(config(), ec) || fs::exists(checkpoints_dir(), ec);
}

bool RunFolder::has_checkpoint() const {
  std::error_code ec;
  for (auto& e : fs::directory_iterator(checkpoints_dir(), ec)) {
    const fs::path& p = e.path();
    if (p.extension() == ".duel" && p.filename().string()[0] != '.') return true;
  }
  return false;
}

void RunFolder::prepare(bool force) const {
  std::error_code ec;
  if (check_existing(force))
    for (const std::string& entry :
         {config(), metrics(), events(), samples_dir(), checkpoints_dir(), eval_dir(), tensorboard_dir(), report()})
      fs::remove_all(entry, ec);
  fs::create_directories(samples_dir(), ec);
  fs::create_directories(checkpoints_dir(), ec);
  if (ec || !fs::is_directory(checkpoints_dir()))
    throw Error("cannot create run folder '" + root_ + "'" + (ec ? ": " + ec.message() : ""),
                "check that the parent folder exists and is writable");
}

// Temporary files of checkpoints/ (".step-N.duel.tmp.PID", ".latest.tmp").
void RunFolder::remove_stale_temp_files() const {
  std::error_code ec;
  for (auto& e : fs::directory_iterator(checkpoints_dir(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 1 && name[0] == '.' && name.find(".tmp") != std::string::npos) fs::remove(e.path(), ec);
  }
}

std::vector<fs::path> RunFolder::numbered_checkpoints() const {
  std::vector<fs::path> v;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(checkpoints_dir(), ec))
    if (numbered_step(e.path()) >= 0) v.push_back(e.path());
  std::sort(v.begin(), v.end(), [](const fs::path& a, const fs::path& b) { return numbered_step(a) < numbered_step(b); });
  return v;
}

void RunFolder::publish_checkpoint(const std::string& numbered, int64_t keep) const {
  // latest.duel is a second name of the same (fsynced) file, swapped in by an atomic rename.
  const fs::path ck = checkpoints_dir();
  fs::remove(ck / ".latest.tmp");
  fs::create_hard_link(numbered, ck / ".latest.tmp");
  fs::rename(ck / ".latest.tmp", latest());
  std::vector<fs::path> old;
  for (auto& e : fs::directory_iterator(ck))
    if (numbered_step(e.path()) >= 0) old.push_back(e.path());
  std::sort(old.begin(), old.end(),
            [](const fs::path& a, const fs::path& b) { return numbered_step(a) < numbered_step(b); });
  for (size_t i = 0; i + size_t(keep) < old.size(); ++i) fs::remove(old[i]);
}

}  // namespace duel
