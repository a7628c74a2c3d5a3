#pragma once
// One registration per `nonevent` subcommand: it adds the subcommand and its flags to the root
// App and, when that subcommand is the one parsed, sets `run` to what it does. Each run
// returns the process exit code and writes errors to stderr saying what was wrong and how to
// fix it.
#include "flags.h"

namespace nonevent::cli {

void add_version(CLI::App& root, Run& run);
void add_kube(CLI::App& root, Run& run);
void add_sim(CLI::App& root, Run& run);
void add_operator(CLI::App& root, Run& run);
void add_plan(CLI::App& root, Run& run);
void add_rehearse(CLI::App& root, Run& run);
void add_status(CLI::App& root, Run& run);
void add_campaign_control(CLI::App& root, Run& run);  // pause, resume, abort

}  // namespace nonevent::cli
