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
std::unique_ptr<SimController> make_kubelets();
std::unique_ptr<SimController> make_node_lifecycle_controller();
std::unique_ptr<SimController> make_provisioner();
std::unique_ptr<SimController> make_node_agent();
std::unique_ptr<SimController> make_machine_controller();

// Pods stamped from a workload's template (shared by the workload controllers).
web::json::value pod_from_template(const web::json::value& owner, const std::string& name,
                                   kube::TimePoint now);

}  // namespace nonevent::sim
