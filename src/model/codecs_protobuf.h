#pragma once
// Pods in Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf), into the same
// compact model::Pod the JSON codec makes. An operator's biggest cache is its pods; client-go's
// controllers read them as protobuf for the same reason (kube-controller-manager's
// --kube-api-content-type). Only pods: every other type stays JSON (RestListWatch asks for
// protobuf only where the informer's codec reads it).
//
// Bodies are recognised by their shape, so the JSON codec's entry points take either:
//   a list or object: the magic "k8s\0", then runtime.Unknown {typeMeta, raw = the message};
//   a watch frame (the stream's 4-byte length prefix already removed): meta/v1 WatchEvent
//   {type, object = RawExtension {raw = a body as above}}.
#include <memory>
#include <string_view>

#include "kube/watch_types.h"
#include "model/objects.h"

namespace nonevent::model {

// The magic every protobuf body starts with.
bool is_protobuf_body(std::string_view body);
// A watch frame starts with WatchEvent's field 1 (type, length-delimited): byte 0x0a, which
// no JSON text starts with.
bool is_protobuf_watch_frame(std::string_view frame);

kube::Result<kube::ListPage<Pod>> decode_pod_list_protobuf(std::string_view body);
kube::Result<kube::WatchEvent<Pod>> decode_pod_event_protobuf(std::string_view frame);
kube::Result<std::shared_ptr<const Pod>> decode_pod_protobuf(std::string_view body);

}  // namespace nonevent::model
