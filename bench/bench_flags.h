#pragma once
// The benchmarks' command line: `--name value` pairs of integers. Anything else (a typo,
// --help, a missing value) prints the usage and exits 2: a benchmark that silently ran its
// default 5,000-node scenario for twenty minutes after a typo was how this file came to be.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

namespace nonevent::bench {

inline void parse_flags(int argc, char** argv, const char* usage, std::initializer_list<std::pair<const char*, long*>> flags) {
  auto fail = [&](const std::string& why) {
    if (!why.empty()) std::fprintf(stderr, "%s: %s\n", argv[0], why.c_str());
    std::fprintf(stderr, "usage: %s\n", usage);
    std::exit(2);
  };
  for (int i = 1; i < argc; i += 2) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) fail("");
    const std::pair<const char*, long*>* flag = nullptr;
    for (const auto& f : flags)
      if (!std::strcmp(argv[i], f.first)) flag = &f;
    if (!flag) fail(std::string("unknown flag ") + argv[i]);
    if (i + 1 >= argc) fail(std::string(argv[i]) + " needs a value");
    char* end = nullptr;
    const long v = std::strtol(argv[i + 1], &end, 10);
    if (!end || *end || v <= 0) fail(std::string(argv[i]) + ": not a positive integer: " + argv[i + 1]);
    *flag->second = v;
  }
}

}  // namespace nonevent::bench
