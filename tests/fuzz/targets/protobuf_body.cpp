// Any bytes as an application/vnd.kubernetes.protobuf body: decoded to JSON (and that JSON
// written back to protobuf) or refused with an error, never a crash.
#include <cstdint>
#include <string>

#include "sim/protobuf_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto object = nonevent::sim::decode_protobuf_body(std::string(reinterpret_cast<const char*>(data), size), error);
  if (object) (void)nonevent::sim::encode_protobuf_body(*object, error);
  return 0;
}
