#pragma once
// The small description of a simulated cluster: zones, node pools and timings. Nodes are
// made from it; workloads come from ordinary manifests.
//
//   zones: [us-east-1a, us-east-1b, us-east-1c]
//   nodePools:
//   - name: general
//     nodesPerZone: 3
//     cpu: "8"
//     memory: 32Gi
//     pods: 110
//     labels: {node.kubernetes.io/instance-type: m6i.2xlarge}
//     taints: [{key: dedicated, value: db, effect: NoSchedule}]
//     imageVersion: bash-4.3-24           # label nonevent.dev/image-version
//     osImage: Debian GNU/Linux 12 (bookworm)
//   timings: {podStartSeconds: 5, podReadySeconds: 5, terminationSeconds: 5,
//             nodeRebootSeconds: 120, nodeProvisionSeconds: 180}
#include <cpprest/json.h>

#include <string>
#include <vector>

#include "kube/clock.h"

namespace nonevent::sim {

struct NodePool {
  std::string name;
  int nodes_per_zone = 1;
  std::vector<std::string> zones;  // empty: every zone
  std::string cpu = "4", memory = "16Gi";
  int pods = 110;
  web::json::value labels = web::json::value::object();
  web::json::value taints = web::json::value::array();
  std::string image_version = "v1";
  std::string os_image = "Debian GNU/Linux 12 (bookworm)";
  std::string kernel_version = "6.1.0-27-cloud-amd64";
  std::string kubelet_version = "v1.32.4";
};

struct Timings {
  double pod_start_s = 2, pod_ready_s = 3, termination_s = 2, node_reboot_s = 60, node_provision_s = 120;
};

struct ClusterSpec {
  std::vector<std::string> zones;
  std::vector<NodePool> pools;
  Timings timings;
};

// Parses a cluster file. Throws std::runtime_error naming the file and the field at fault.
ClusterSpec load_cluster_spec(const std::string& path);
ClusterSpec parse_cluster_spec(const std::string& yaml_text, const std::string& origin);
// Node objects for every pool and zone ("<pool>-<zone>-<n>"), Ready.
std::vector<web::json::value> make_nodes(const ClusterSpec& spec, kube::TimePoint now);

}  // namespace nonevent::sim
