#include "flags.h"

namespace nonevent::cli {

std::shared_ptr<kube::Clock> clock_from_flags(const Flags& f) {
  double scale = 1;
  if (f.has("--time-scale")) {
    try {
      scale = std::stod(f.get("--time-scale"));
    } catch (const std::exception&) {
      scale = 0;
    }
    if (scale <= 0) throw UsageError("--time-scale must be a number greater than 0");
  }
  std::optional<kube::TimePoint> epoch;
  if (f.has("--time-epoch")) {
    try {
      epoch = std::chrono::system_clock::time_point(std::chrono::seconds(std::stoll(f.get("--time-epoch"))));
    } catch (const std::exception&) {
      throw UsageError("--time-epoch must be Unix seconds");
    }
  }
  if (scale == 1) return kube::real_clock();
  return std::make_shared<kube::ScaledClock>(scale, epoch);
}

}  // namespace nonevent::cli
