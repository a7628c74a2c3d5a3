// Any bytes as a watch event line and as a list page, through the operator's model codecs
// (simdjson on the hot path; pods also in protobuf, told apart by the first bytes, with seeds of
// both in the corpus): an error value, never a crash.
#include <cstdint>
#include <string>

#include "model/codecs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  (void)nonevent::model::CodecFor<nonevent::model::Pod>::decode_event(line);
  (void)nonevent::model::CodecFor<nonevent::model::Node>::decode_event(line);
  (void)nonevent::model::CodecFor<nonevent::model::PodDisruptionBudget>::decode_event(line);
  (void)nonevent::model::CodecFor<nonevent::model::GenericObject>::decode_event(line);
  std::string page(line);
  (void)nonevent::model::CodecFor<nonevent::model::Pod>::decode_list(page);
  (void)nonevent::model::CodecFor<nonevent::model::Pod>::decode(line);
  page.assign(line);
  (void)nonevent::model::CodecFor<nonevent::model::Node>::decode_list(page);
  (void)nonevent::model::decode_pod_status(line);
  return 0;
}
