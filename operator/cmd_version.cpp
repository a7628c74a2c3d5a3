#include <cstdio>

#include "commands.h"
#include "model/codecs.h"

#ifndef NONEVENT_VERSION
#define NONEVENT_VERSION "0.0.0-dev"
#endif

namespace nonevent::cli {

void add_version(CLI::App& root, Run& run) {
  auto* app = root.add_subcommand("version", "print the version and build facts");
  app->callback([&run] {
    run = [] {
      std::printf("nonevent %s (json kernel %s)\n", NONEVENT_VERSION, model::codec_simd_kernel());
      return 0;
    };
  });
}

}  // namespace nonevent::cli
