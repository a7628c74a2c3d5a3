#pragma once
// Decoding of API JSON into the compact views, on the hot path of every list and watch.
// Uses simdjson's on-demand parser (single pass, no DOM); see bench/informer_decode.
// Each codec satisfies the Codec contract of kube/watch_types.h.
#include <optional>
#include <string>
#include <string_view>

#include "kube/watch_types.h"
#include "model/objects.h"

namespace nonevent::model {

template <class T>
struct CodecFor;  // CodecFor<Pod>::decode_list(...) etc.

#define NONEVENT_DECLARE_CODEC(TYPE)                                                  \
  template <>                                                                       \
  struct CodecFor<TYPE> {                                                           \
    static kube::Result<kube::ListPage<TYPE>> decode_list(std::string& body);       \
    static kube::Result<kube::WatchEvent<TYPE>> decode_event(std::string_view line); \
    static kube::Result<std::shared_ptr<const TYPE>> decode(std::string_view json);  \
    static std::string key(const TYPE& o);                                          \
    static const std::string& resource_version(const TYPE& o) {                     \
      return o.meta.resource_version;                                               \
    }                                                                               \
  };

NONEVENT_DECLARE_CODEC(Pod)
NONEVENT_DECLARE_CODEC(Node)
NONEVENT_DECLARE_CODEC(PodDisruptionBudget)
NONEVENT_DECLARE_CODEC(Lease)
NONEVENT_DECLARE_CODEC(GenericObject)
#undef NONEVENT_DECLARE_CODEC

// What a Pod keeps of its status, from the JSON of the status alone: for a write that changed
// only the status, the pod is the one before with these (decoding all of it again was a
// third of what the embedded cluster's informer spent on pods).
struct PodStatusFacts {
  PodPhase phase = PodPhase::kPending;
  bool ready = false;
  bool unschedulable = false;
  std::optional<TimePoint> ready_since;
};
kube::Result<PodStatusFacts> decode_pod_status(std::string_view status_json);
// `before` with `status` and resourceVersion `rv`, everything else shared or copied.
std::shared_ptr<const Pod> pod_with_status(const Pod& before, const PodStatusFacts& status, std::string rv);

// Workloads need to know their kind (list items carry none).
template <WorkloadKind K>
struct WorkloadCodec {
  static kube::Result<kube::ListPage<Workload>> decode_list(std::string& body);
  static kube::Result<kube::WatchEvent<Workload>> decode_event(std::string_view line);
  static kube::Result<std::shared_ptr<const Workload>> decode(std::string_view json);
  static std::string key(const Workload& o);
  static const std::string& resource_version(const Workload& o) { return o.meta.resource_version; }
};

std::string object_key(const ObjectMeta& m);  // "ns/name" or "name"

// The simdjson kernel in use for this CPU ("icelake", "haswell", "westmere", "fallback").
const char* codec_simd_kernel();

}  // namespace nonevent::model
