#pragma once
// Bodies in the API server's protobuf encoding (application/vnd.kubernetes.protobuf): the
// "k8s\0" magic, a runtime.Unknown envelope {typeMeta {apiVersion, kind}, raw}, then the
// object's own message in `raw` (k8s.io/apimachinery/pkg/runtime/serializer/protobuf). Every
// built-in kind Kubernetes 1.32 has a message for is read and written (proto_schemas.h,
// proto_json.h); custom resources have none, as on a real server.
#include <cpprest/json.h>

#include <optional>
#include <string>

namespace nonevent::sim {

inline constexpr const char* kProtobufContentType = "application/vnd.kubernetes.protobuf";

bool is_protobuf_content_type(const std::string& content_type);
// Whether an Accept header puts plain protobuf first (client-go's typed clients send
// "application/vnd.kubernetes.protobuf,application/json"); `only` is set when it accepts
// nothing the server could answer in JSON instead.
bool prefers_protobuf(const std::string& accept, bool* only = nullptr);
// The object as JSON, or nullopt with `error` saying what could not be read.
std::optional<web::json::value> decode_protobuf_body(const std::string& body, std::string& error);
// The object (its apiVersion and kind name the message) as a protobuf body, or nullopt with
// `error` when Kubernetes has no message for it or a value does not fit its schema.
std::optional<std::string> encode_protobuf_body(const web::json::value& object, std::string& error);

// A watch stream in protobuf (application/vnd.kubernetes.protobuf;stream=watch), as
// kube-apiserver writes one: each event a meta/v1 WatchEvent {type, object = RawExtension
// {raw = the object as a protobuf body above}}, preceded by its length (4 bytes, big-endian).
inline constexpr const char* kProtobufWatchContentType = "application/vnd.kubernetes.protobuf;stream=watch";
// One JSON watch event line ({"type":...,"object":...}) as such a frame, or nullopt with `error`.
std::optional<std::string> encode_protobuf_watch_frame(std::string_view json_event, std::string& error);

}  // namespace nonevent::sim
