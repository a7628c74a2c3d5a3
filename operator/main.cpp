// The `nonevent` binary: one executable, subcommands (commands.h).
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "commands.h"
#include "kube/rest_config.h"

namespace {
// Run as `kubectl-nonevent` (a symlink kubectl finds on PATH for `kubectl nonevent ...`), the
// binary names itself so in help and errors; the subcommands and flags are the same.
std::string program_name(const char* argv0) {
  const std::string_view path(argv0 ? argv0 : "");
  const auto slash = path.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return base.rfind("kubectl-nonevent", 0) == 0 ? "kubectl nonevent" : "nonevent";
}
}  // namespace

int main(int argc, char** argv) {
  const std::string name = program_name(argc > 0 ? argv[0] : nullptr);
  CLI::App app{"nonevent — zone maintenance and node patching as non-events", name};
  app.require_subcommand(1);
  app.fallthrough(false);
  nonevent::cli::Run run;
  nonevent::cli::add_version(app, run);
  nonevent::cli::add_kube(app, run);
  nonevent::cli::add_operator(app, run);
  nonevent::cli::add_plan(app, run);
  nonevent::cli::add_rehearse(app, run);
  nonevent::cli::add_status(app, run);
  nonevent::cli::add_campaign_control(app, run);
  nonevent::cli::add_sim(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, std::cout, std::cerr);  // help on stdout, exit 0
  } catch (const CLI::ParseError& e) {
    app.exit(e, std::cout, std::cerr);  // the flag at fault, then "Run with --help for more information."
    return 2;
  }
  const std::string cmd = app.get_subcommands().empty() ? "" : app.get_subcommands().front()->get_name();
  try {
    return run ? run() : 2;
  } catch (const nonevent::cli::UsageError& e) {
    std::fprintf(stderr, "%s %s: %s\n", name.c_str(), cmd.c_str(), e.what());
    return 2;
  } catch (const nonevent::kube::ConfigError& e) {
    std::fprintf(stderr, "%s %s: %s\n", name.c_str(), cmd.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    // Never an abort: whatever the input, the process says what went wrong and exits 1.
    std::fprintf(stderr, "%s %s: %s\n", name.c_str(), cmd.c_str(), e.what());
    return 1;
  }
}
