#pragma once
// Request bodies in the API server's protobuf encoding (application/vnd.kubernetes.protobuf:
// the "k8s\0" magic, a runtime.Unknown envelope, then the object). client-go's typed
// clientsets send some objects this way — Helm stores its releases as Secrets through one —
// as does `kubectl create namespace` — so the embedded cluster reads those kinds: Secret,
// ConfigMap and Namespace (v1). Other kinds get 415 naming the kind. Answers stay JSON, which
// those clients also accept.
#include <cpprest/json.h>

#include <optional>
#include <string>

namespace nonevent::sim {

bool is_protobuf_content_type(const std::string& content_type);
// The object as JSON, or nullopt with `error` saying what could not be read.
std::optional<web::json::value> decode_protobuf_body(const std::string& body, std::string& error);

}  // namespace nonevent::sim
