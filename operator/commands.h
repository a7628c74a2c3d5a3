#pragma once
// One function per `nonevent` subcommand. Each returns the process exit code and writes
// errors to stderr with what was wrong and how to fix it.
#include <string>
#include <vector>

namespace nonevent::cli {

int cmd_version(const std::vector<std::string>& args);
int cmd_kube(const std::vector<std::string>& args);
int cmd_sim(const std::vector<std::string>& args);
int cmd_operator(const std::vector<std::string>& args);
int cmd_plan(const std::vector<std::string>& args);

}  // namespace nonevent::cli
