#include "flags.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "controllers/window_spec.h"
#include "kube/log.h"

namespace nonevent::cli {

void add_clock_flags(CLI::App& app, ClockFlags& f) {
  app.add_option("--time-scale", f.scale, "run the clock X times faster than real time (rehearsals against a scaled sim)")
      ->check(CLI::PositiveNumber);
  app.add_option("--time-epoch", f.epoch, "with --time-scale: the Unix second both clocks start from (give every process the same)");
}

std::shared_ptr<kube::Clock> clock_from(const ClockFlags& f, const std::string& command) {
  std::optional<kube::TimePoint> epoch;
  if (f.epoch) epoch = kube::TimePoint(std::chrono::seconds(*f.epoch));
  if (f.scale == 1) return kube::real_clock();
  if (!epoch)
    std::fprintf(stderr,
                 "nonevent %s: warning: --time-scale without --time-epoch starts the scaled clock from now; another process "
                 "(sim serve, operator) given the same scale will disagree on the time unless both get --time-epoch\n",
                 command.c_str());
  return std::make_shared<kube::ScaledClock>(f.scale, epoch);
}

void add_kubeconfig_flags(CLI::App& app, KubeconfigFlags& f) {
  app.add_option("--kubeconfig", f.kubeconfig, "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)");
  app.add_option("--context", f.context, "the kubeconfig context to use (default: its current-context)");
}

void add_log_flags(CLI::App& app, LogFlags& f) {
  app.add_option("--log-level", f.level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_flag("-v,--verbose", f.verbose, "the same as --log-level debug (every eviction wait, every pod the policy holds)");
  app.add_option("--log-format", f.format, "text (key=value) or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
}

void configure_logging(const LogFlags& f) {
  logging::Level level = logging::Level::kInfo;
  logging::parse_level(f.verbose ? "debug" : f.level, level);
  logging::configure(level, f.format == "json" ? logging::Format::kJson : logging::Format::kText);
}

double positive_seconds(const std::string& flag, const std::string& text) {
  auto d = controllers::parse_duration(text);
  if (!d || *d <= kube::Duration::zero()) throw UsageError(flag + ": \"" + text + "\" is not a positive duration such as 30s, 10m or 2h");
  return std::chrono::duration<double>(*d).count();
}

std::string read_file(const std::string& path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read " + path);
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace nonevent::cli
