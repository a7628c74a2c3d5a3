#pragma once
// The command line, on CLI11 (Debian's libcli11-dev): each subcommand registers its flags on
// the root App and says what to run once they parse (commands.h). Help goes to stdout with
// exit 0; a mistake names the flag and exits 2 (main.cpp). The flags several commands share
// are here.
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "kube/clock.h"

namespace nonevent::cli {

// A mistake on the command line found after parsing (exit 2, like CLI11's own errors).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a subcommand runs once its flags have parsed; returns the exit code.
using Run = std::function<int()>;

// --time-scale X [--time-epoch UNIX]: a clock running X times real time from a shared epoch,
// so `sim serve` and an operator rehearsing against it agree on the time.
struct ClockFlags {
  double scale = 1;
  std::optional<int64_t> epoch;
};
void add_clock_flags(CLI::App& app, ClockFlags& f);
// Real time when the scale is 1. A scale without an epoch starts from now, which two processes
// cannot agree on: said on stderr.
std::shared_ptr<kube::Clock> clock_from(const ClockFlags& f, const std::string& command);

// --kubeconfig F --context C, as kubectl reads them.
struct KubeconfigFlags {
  std::string kubeconfig, context;
};
void add_kubeconfig_flags(CLI::App& app, KubeconfigFlags& f);

// --log-level debug|info|warn|error, -v (debug), --log-format text|json.
struct LogFlags {
  std::string level = "info", format = "text";
  bool verbose = false;
};
void add_log_flags(CLI::App& app, LogFlags& f);
void configure_logging(const LogFlags& f);

// A Go-style duration flag value ("90s", "10m", "2h"): positive, or UsageError naming `flag`.
double positive_seconds(const std::string& flag, const std::string& text);

// A file's text for -f and similar flags; "-" is standard input. UsageError when unreadable.
std::string read_file(const std::string& path);

}  // namespace nonevent::cli
