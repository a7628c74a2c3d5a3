// Any bytes as a kubeconfig file: loaded, or refused with a ConfigError naming what is wrong.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "kube/rest_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/nonevent-fuzz-kubeconfig-" + std::to_string(getpid());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    (void)nonevent::kube::load_kubeconfig({.kubeconfig_path = path, .context = ""});
  } catch (const nonevent::kube::ConfigError&) {
  }
  return 0;
}
