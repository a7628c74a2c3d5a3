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
//   disruptors:                          # the cluster's other node movers, each off unless set
//     clusterAutoscaler: {scaleDownUnneededSeconds: 600, scaleDownUtilizationThreshold: 0.5,
//                         minNodesPerGroup: 0, maxNodesPerGroup: 20, scaleUp: true}
//     karpenter: {consolidateAfterSeconds: 30}
//     kured: {periodSeconds: 60}           # reboots nodes annotated sim.nonevent.dev/reboot-required
//     nodeMaintenance: {}                  # serves NodeMaintenance CRs as medik8s NMO does
#include <cpprest/json.h>

#include <optional>
#include <unordered_map>
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
  // Per controller (its uid: a ReplicaSet, a StatefulSet), the pods' time from started to
  // Ready where it is not pod_ready_s (a rehearsal's, from its snapshot).
  std::unordered_map<std::string, double> ready_s_by_owner;
};

// The other disruptors (sim/disruptors.h says what each does and whose rules it follows).
struct ClusterAutoscalerSpec {
  double scale_down_unneeded_s = 600;        // --scale-down-unneeded-time
  double utilization_threshold = 0.5;        // --scale-down-utilization-threshold
  int min_nodes_per_group = 0;               // a node group is a pool in a zone
  int max_nodes_per_group = 1000;
  bool scale_up = true;
  double scale_up_delay_s = 10;              // pods Pending this long ask for a node
};
struct KarpenterSpec {
  double consolidate_after_s = 30;  // NodePool disruption.consolidateAfter (WhenEmpty)
};
struct KuredSpec {
  double period_s = 60;  // --period: how often each node checks its sentinel
};
struct DisruptorsSpec {
  std::optional<ClusterAutoscalerSpec> cluster_autoscaler;
  std::optional<KarpenterSpec> karpenter;
  std::optional<KuredSpec> kured;
  bool node_maintenance = false;
};

struct ClusterSpec {
  std::vector<std::string> zones;
  std::vector<NodePool> pools;
  Timings timings;
  DisruptorsSpec disruptors;
};

// Parses a cluster file. Throws std::runtime_error naming the file and the field at fault.
ClusterSpec load_cluster_spec(const std::string& path);
ClusterSpec parse_cluster_spec(const std::string& yaml_text, const std::string& origin);
// Node objects for every pool and zone ("<pool>-<zone>-<n>"), Ready.
std::vector<web::json::value> make_nodes(const ClusterSpec& spec, kube::TimePoint now);

}  // namespace nonevent::sim
