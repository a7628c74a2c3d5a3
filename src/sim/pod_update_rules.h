#pragma once
// What kube-apiserver lets an update change in an existing pod's spec (1.32,
// pkg/apis/core/validation ValidatePodUpdate): container and init container images,
// activeDeadlineSeconds (set, or lowered), tolerations (additions only),
// terminationGracePeriodSeconds (to 1 from a negative value) and the removal of scheduling
// gates. Everything else, spec.nodeName included (a pod is assigned through pods/binding),
// is refused with 422. A rehearsal on the embedded cluster must fail where the real cluster
// would.
#include <cpprest/json.h>

#include <string>

namespace nonevent::sim {

// Empty when `new_pod`'s spec keeps to the rules against `old_pod`'s; else the field at
// fault and why, in the API server's words ("spec: Forbidden: pod updates may not ...").
std::string pod_update_error(const web::json::value& old_pod, const web::json::value& new_pod);

}  // namespace nonevent::sim
