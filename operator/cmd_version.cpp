#include <cstdio>

#include "commands.h"
#include "model/codecs.h"

#ifndef NONEVENT_VERSION
#define NONEVENT_VERSION "0.0.0-dev"
#endif

namespace nonevent::cli {

int cmd_version(const std::vector<std::string>&) {
  std::printf("nonevent %s (json kernel %s)\n", NONEVENT_VERSION, model::codec_simd_kernel());
  return 0;
}

}  // namespace nonevent::cli
