// The one owner of a run folder's layout. Every path inside a run is spelled
// here and nowhere else, so the trainer, the report, evaluation and the CLI
// agree on it (docs/design.md):
//
//   <run>/config.toml          fully resolved config
//   <run>/metrics.csv          one row per logged step (means over the interval)
//   <run>/events.jsonl         the same rows plus warnings and run events
//   <run>/samples/step-NNNNNN.png, final.png
//   <run>/checkpoints/step-NNNNNN.duel, latest.duel, best.duel
//   <run>/eval/step-NNNNNN.json  (duel eval; step-NNNNNN.2.json, ... for more evaluations of one step)
//   <run>/tensorboard/         (log.tensorboard)
//   <run>/report.html          (log.report, duel report)
//   <run>/.lock                the trainer's lock (train/run_lock.h)
//
// It also does the few things that are about the layout rather than about
// training: refusing or clearing an existing run, creating the folders,
// naming, ordering and pruning numbered checkpoints.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace duel {

class RunFolder {
 public:
  explicit RunFolder(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  std::string config() const { return file("config.toml"); }
  std::string metrics() const { return file("metrics.csv"); }
  std::string events() const { return file("events.jsonl"); }
  std::string report() const { return file("report.html"); }
  std::string samples_dir() const { return file("samples"); }
  std::string sample(int64_t step) const { return file("samples/" + step_name("step-", step, ".png")); }
  std::string final_sample() const { return file("samples/final.png"); }
  std::string checkpoints_dir() const { return file("checkpoints"); }
  std::string checkpoint(int64_t step) const { return file("checkpoints/" + step_name("step-", step, ".duel")); }
  std::string latest() const { return file("checkpoints/latest.duel"); }
  std::string best() const { return file("checkpoints/best.duel"); }
  std::string eval_dir() const { return file("eval"); }
  // Where a new evaluation of step `step` goes: eval/step-NNNNNN.json, or
  // when that is taken eval/step-NNNNNN.2.json, .3.json, ...: an evaluation
  // (say n=2,000) never overwrites an earlier one (say n=10,000).
  std::string eval_result(int64_t step) const;
  std::string tensorboard_dir() const { return file("tensorboard"); }

  // The run folder holding a checkpoint (the parent of checkpoints/), or the
  // checkpoint's own folder when it lies elsewhere; an absolute path.
  static std::string of_checkpoint(const std::string& checkpoint_path);
  // The run folder a path names for --resume and for commands that take a
  // run: a folder as given, and for a checkpoint file in <run>/checkpoints/
  // or for that checkpoints/ folder itself, <run> (two levels or one up).
  static std::string named_by(const std::string& path);
  // "<prefix>NNNNNN<ext>", the step zero-padded to six digits.
  static std::string step_name(const std::string& prefix, int64_t step, const std::string& ext);
  // The step of a "step-N.duel" name, -1 for any other name.
  static int64_t numbered_step(const std::filesystem::path& p);

  // Whether the folder holds files of a run (to clear); refuses one that
  // holds a checkpoint (without force) and a path that is not a folder
  // (duel::Error). A folder without a checkpoint (a start that failed) is no
  // run and may be reused.
  bool check_existing(bool force) const;
  // Whether checkpoints/ holds a .duel file (latest, best or numbered).
  bool has_checkpoint() const;
  // A new run: clears an existing one (with force) and creates samples/ and checkpoints/.
  void prepare(bool force) const;
  // Removes the temporary files a kill left in checkpoints/.
  void remove_stale_temp_files() const;
  // Numbered checkpoints, oldest first (by step, not by name).
  std::vector<std::filesystem::path> numbered_checkpoints() const;
  // Points latest.duel at a written numbered checkpoint (an atomic rename of
  // a hard link) and deletes all but the newest `keep` numbered ones.
  void publish_checkpoint(const std::string& numbered, int64_t keep) const;

 private:
  std::string file(const std::string& name) const { return (std::filesystem::path(root_) / name).string(); }
  std::string root_;
};

}  // namespace duel
