// log.report while training: see include/duel/apps/train_report.h.
#include "duel/apps/train_report.h"

#include <iomanip>
#include <sstream>

#include "duel/core/config.h"
#include "duel/apps/report.h"
#include "duel/models/model.h"
#include "duel/checkpoint/checkpoint.h"
#include "duel/train/run_folder.h"

namespace duel {

namespace {

class ReportCallback : public TrainCallback {
 public:
  void on_grid(const TrainRun& run, const GridEvent& g) override {
    if (g.periodic) refresh(run);
  }
  void on_finish(const TrainRun& run) override {
    refresh(run);
    if (count_ == 0) return;
    std::ostringstream o;
    o << std::fixed << std::setprecision(3) << "report: " << run.folder.report() << " (written " << count_
      << (count_ == 1 ? " time, " : " times, ") << seconds_ / double(count_) << " s each on average)";
    run.info(o.str());
  }

 private:
  void refresh(const TrainRun& run) {
    if (!run.writer || !run.config.get_bool("log.report")) return;
    ReportOptions ro;
    ro.max_grids = run.config.get_int("log.report_grids");
    ro.generator = {&run.model, run.shape, run.state.step, run.device, ""};
    if (!real_made_) {  // read the training images once per run, not at every refresh
      real_png_ = real_images_png(run.config, &run.model, &real_note_);
      real_made_ = true;
    }
    ro.real_png = real_png_;
    ro.real_images = false;  // when none could be made, the report does not try again
    try {
      seconds_ += write_report(run.folder.root(), ro).seconds;
      ++count_;
    } catch (const std::exception& e) {
      run.warn(std::string("report.html not refreshed: ") + e.what());
    }
  }
  int64_t count_ = 0;
  double seconds_ = 0;
  bool real_made_ = false;
  std::string real_png_, real_note_;
};

}  // namespace

std::shared_ptr<TrainCallback> make_report_callback() { return std::make_shared<ReportCallback>(); }

}  // namespace duel
