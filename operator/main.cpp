// The `nonevent` binary: one executable, subcommands (commands.h).
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "kube/rest_config.h"

int main(int argc, char** argv) {
  CLI::App app{"nonevent — zone maintenance and node patching as non-events", "nonevent"};
  app.require_subcommand(1);
  app.fallthrough(false);
  nonevent::cli::Run run;
  nonevent::cli::add_version(app, run);
  nonevent::cli::add_kube(app, run);
  nonevent::cli::add_operator(app, run);
  nonevent::cli::add_plan(app, run);
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
    std::fprintf(stderr, "nonevent %s: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const nonevent::kube::ConfigError& e) {
    std::fprintf(stderr, "nonevent %s: %s\n", cmd.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    // Never an abort: whatever the input, the process says what went wrong and exits 1.
    std::fprintf(stderr, "nonevent %s: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
