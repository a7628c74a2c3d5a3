#pragma once
// What kube-apiserver fills in when a built-in object is created (its defaulting functions and
// the registry's PrepareForCreate): Pod scheduling defaults and phase, a Namespace's phase, and a
// Service's type, session affinity, IP family, ports' protocol and targetPort, an allocated
// cluster IP (from 10.96.0.0/12, as kubeadm's default service CIDR) and node ports, and its
// empty load-balancer status. Clients such as the Python client read these back.
#include <cpprest/json.h>

#include "sim/object_store.h"
#include "sim/resource_types.h"

namespace nonevent::sim {

void apply_builtin_create_defaults(web::json::value& obj, const ResourceType& type, const ObjectStore& store);

}  // namespace nonevent::sim
