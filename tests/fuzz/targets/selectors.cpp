// Any bytes as a label selector and as a field selector (list and watch queries).
#include <cstdint>
#include <string>

#include "sim/selectors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  (void)nonevent::sim::parse_label_selector(in);
  (void)nonevent::sim::parse_field_selector(in);
  return 0;
}
