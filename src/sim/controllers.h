#pragma once
// The simulated cluster's control loops (each in its own file).
#include <memory>

#include "sim/simulation.h"

namespace nonevent::sim {

std::unique_ptr<SimController> make_deployment_controller();
std::unique_ptr<SimController> make_replica_set_controller();
std::unique_ptr<SimController> make_stateful_set_controller();
std::unique_ptr<SimController> make_daemon_set_controller();
std::unique_ptr<SimController> make_job_controller();
std::unique_ptr<SimController> make_pdb_controller();
std::unique_ptr<SimController> make_scheduler();
// The kubelets of shard `shard` of `shards` (nodes split by a hash of their names).
std::unique_ptr<SimController> make_kubelets(size_t shard = 0, size_t shards = 1);
std::unique_ptr<SimController> make_node_lifecycle_controller();
std::unique_ptr<SimController> make_provisioner();
std::unique_ptr<SimController> make_node_agent();
std::unique_ptr<SimController> make_machine_controller();

// A pod template's hash, as the pod-template-hash and controller-revision-hash labels carry it
// (stable for the same template text; 10 characters of kube's safe alphabet).
std::string template_hash(const web::json::value& tmpl);

// Pods stamped from a workload's template (shared by the workload controllers).
web::json::value pod_from_template(const web::json::value& owner, const std::string& name,
                                   kube::TimePoint now);

// A new Node shaped like `like` (labels, capacity, conditions) named `name`, with the image
// version the ConfigMap kube-system/nonevent-sim-provisioner's data.imageVersion gives when
// set (how a test rolls out a new image), else `like`'s. Shared by the node makers.
web::json::value new_node_like(Simulation& sim, const web::json::value& like, const std::string& name);

}  // namespace nonevent::sim
