#include "sim/cluster_spec.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kube/rest_config.h"
#include "sim/yaml_json.h"

namespace nonevent::sim {

using web::json::value;

ClusterSpec load_cluster_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cluster file " + path + ": cannot read it");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_cluster_spec(ss.str(), path);
}

namespace {

template <class Fail>
void parse_disruptors(const value& d, DisruptorsSpec& out, const Fail& fail) {
  if (!d.is_object()) fail("disruptors", "must be a mapping");
  auto section = [&](const std::string& name, const value& v) {
    if (!v.is_object()) fail("disruptors." + name, "must be a mapping ({} turns it on with its defaults)");
    return v.as_object();
  };
  auto seconds = [&](const std::string& where, const value& v) {
    if (!v.is_number() || v.as_double() < 0) fail(where, "must be a non-negative number of seconds");
    return v.as_double();
  };
  auto count = [&](const std::string& where, const value& v) {
    if (!v.is_integer() || v.as_integer() < 0) fail(where, "must be a non-negative integer");
    return static_cast<int>(v.as_integer());
  };
  for (const auto& [k, v] : d.as_object()) {
    const std::string where = "disruptors." + k;
    if (k == "clusterAutoscaler") {
      ClusterAutoscalerSpec ca;
      for (const auto& [f, x] : section(k, v)) {
        const std::string at = where + "." + f;
        if (f == "scaleDownUnneededSeconds") ca.scale_down_unneeded_s = seconds(at, x);
        else if (f == "scaleDownUtilizationThreshold") {
          if (!x.is_number() || x.as_double() < 0 || x.as_double() > 1) fail(at, "must be a number from 0 to 1");
          ca.utilization_threshold = x.as_double();
        } else if (f == "minNodesPerGroup") ca.min_nodes_per_group = count(at, x);
        else if (f == "maxNodesPerGroup") ca.max_nodes_per_group = count(at, x);
        else if (f == "scaleUp") {
          if (!x.is_boolean()) fail(at, "must be true or false");
          ca.scale_up = x.as_bool();
        } else if (f == "scaleUpDelaySeconds") ca.scale_up_delay_s = seconds(at, x);
        else fail(at, "unknown field");
      }
      out.cluster_autoscaler = ca;
    } else if (k == "karpenter") {
      KarpenterSpec kp;
      for (const auto& [f, x] : section(k, v)) {
        if (f == "consolidateAfterSeconds") kp.consolidate_after_s = seconds(where + "." + f, x);
        else fail(where + "." + f, "unknown field");
      }
      out.karpenter = kp;
    } else if (k == "kured") {
      KuredSpec ku;
      for (const auto& [f, x] : section(k, v)) {
        if (f == "periodSeconds") ku.period_s = seconds(where + "." + f, x);
        else fail(where + "." + f, "unknown field");
      }
      out.kured = ku;
    } else if (k == "nodeMaintenance") {
      if (!section(k, v).empty()) fail(where, "takes no settings ({} turns it on)");
      out.node_maintenance = true;
    } else {
      fail(where, "unknown disruptor (expected clusterAutoscaler, karpenter, kured, nodeMaintenance)");
    }
  }
}

}  // namespace

ClusterSpec parse_cluster_spec(const std::string& text, const std::string& origin) {
  std::vector<value> docs;
  try {
    docs = parse_yaml_documents(text);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("cluster file " + origin + ": " + e.what());
  }
  if (docs.size() != 1 || !docs[0].is_object())
    throw std::runtime_error("cluster file " + origin + ": expected one YAML mapping");
  const auto& d = docs[0];
  auto fail = [&](const std::string& field, const std::string& why) {
    throw std::runtime_error("cluster file " + origin + ": " + field + ": " + why);
  };
  for (const auto& [k, v] : d.as_object())
    if (k != "zones" && k != "nodePools" && k != "timings" && k != "disruptors")
      fail(k, "unknown field (expected zones, nodePools, timings, disruptors)");
  ClusterSpec spec;
  if (!d.has_field("zones") || !d.at("zones").is_array() || d.at("zones").size() == 0)
    fail("zones", "a non-empty list of zone names is required");
  for (const auto& z : d.at("zones").as_array()) {
    if (!z.is_string() || z.as_string().empty()) fail("zones", "every zone must be a non-empty string");
    spec.zones.push_back(z.as_string());
  }
  if (!d.has_field("nodePools") || !d.at("nodePools").is_array() || d.at("nodePools").size() == 0)
    fail("nodePools", "at least one node pool is required");
  size_t i = 0;
  for (const auto& p : d.at("nodePools").as_array()) {
    const std::string where = "nodePools[" + std::to_string(i++) + "]";
    if (!p.is_object()) fail(where, "must be a mapping");
    NodePool pool;
    for (const auto& [k, v] : p.as_object()) {
      auto want_string = [&] {
        if (!v.is_string() && !v.is_number()) fail(where + "." + k, "must be a string");
        return v.is_string() ? v.as_string() : v.serialize();
      };
      if (k == "name") pool.name = want_string();
      else if (k == "nodesPerZone") {
        if (!v.is_integer() || v.as_integer() < 0) fail(where + ".nodesPerZone", "must be a non-negative integer");
        pool.nodes_per_zone = v.as_integer();
      } else if (k == "zones") {
        for (const auto& z : v.as_array()) {
          if (std::find(spec.zones.begin(), spec.zones.end(), z.as_string()) == spec.zones.end())
            fail(where + ".zones", "unknown zone \"" + z.as_string() + "\"");
          pool.zones.push_back(z.as_string());
        }
      } else if (k == "cpu") pool.cpu = want_string();
      else if (k == "memory") pool.memory = want_string();
      else if (k == "pods") pool.pods = v.as_integer();
      else if (k == "labels") pool.labels = v;
      else if (k == "taints") pool.taints = v;
      else if (k == "imageVersion") pool.image_version = want_string();
      else if (k == "osImage") pool.os_image = want_string();
      else if (k == "kernelVersion") pool.kernel_version = want_string();
      else if (k == "kubeletVersion") pool.kubelet_version = want_string();
      else fail(where + "." + k, "unknown field");
    }
    if (pool.name.empty()) fail(where + ".name", "required");
    spec.pools.push_back(pool);
  }
  if (d.has_field("timings")) {
    for (const auto& [k, v] : d.at("timings").as_object()) {
      if (!v.is_number() || v.as_double() < 0) fail("timings." + k, "must be a non-negative number of seconds");
      const double s = v.as_double();
      if (k == "podStartSeconds") spec.timings.pod_start_s = s;
      else if (k == "podReadySeconds") spec.timings.pod_ready_s = s;
      else if (k == "terminationSeconds") spec.timings.termination_s = s;
      else if (k == "nodeRebootSeconds") spec.timings.node_reboot_s = s;
      else if (k == "nodeProvisionSeconds") spec.timings.node_provision_s = s;
      else fail("timings." + k, "unknown field");
    }
  }
  if (d.has_field("disruptors")) parse_disruptors(d.at("disruptors"), spec.disruptors, fail);
  return spec;
}

std::vector<value> make_nodes(const ClusterSpec& spec, kube::TimePoint now) {
  std::vector<value> out;
  const auto ts = kube::format_rfc3339(now);
  int ip = 10;
  for (const auto& pool : spec.pools) {
    const auto& zones = pool.zones.empty() ? spec.zones : pool.zones;
    for (const auto& zone : zones) {
      for (int n = 0; n < pool.nodes_per_zone; ++n) {
        const std::string name = pool.name + "-" + zone + "-" + std::to_string(n);
        value node = value::object();
        node["apiVersion"] = value::string("v1");
        node["kind"] = value::string("Node");
        auto& meta = node["metadata"];
        meta["name"] = value::string(name);
        value labels = pool.labels.is_object() ? pool.labels : value::object();
        labels["kubernetes.io/hostname"] = value::string(name);
        labels["kubernetes.io/os"] = value::string("linux");
        labels["kubernetes.io/arch"] = value::string("amd64");
        labels["topology.kubernetes.io/zone"] = value::string(zone);
        labels["nonevent.dev/pool"] = value::string(pool.name);
        labels["nonevent.dev/image-version"] = value::string(pool.image_version);
        meta["labels"] = labels;
        // What kubelet and the attach-detach controller annotate every node with (a JSON-patch
        // `add` under /metadata/annotations/... needs the map to exist, as on a real node).
        meta["annotations"]["node.alpha.kubernetes.io/ttl"] = value::string("0");
        meta["annotations"]["volumes.kubernetes.io/controller-managed-attach-detach"] = value::string("true");
        if (pool.taints.is_array() && pool.taints.size() > 0) node["spec"]["taints"] = pool.taints;
        node["spec"]["providerID"] = value::string("nonevent-sim://" + zone + "/" + name);
        auto& st = node["status"];
        for (const char* k : {"capacity", "allocatable"}) {
          st[k]["cpu"] = value::string(pool.cpu);
          st[k]["memory"] = value::string(pool.memory);
          st[k]["pods"] = value::string(std::to_string(pool.pods));
        }
        const char* types[] = {"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"};
        for (int c = 0; c < 4; ++c) {
          value cond = value::object();
          cond["type"] = value::string(types[c]);
          cond["status"] = value::string(c == 3 ? "True" : "False");
          cond["reason"] = value::string(c == 3 ? "KubeletReady" : "KubeletHasSufficientResources");
          cond["lastHeartbeatTime"] = value::string(ts);
          cond["lastTransitionTime"] = value::string(ts);
          st["conditions"][c] = cond;
        }
        st["addresses"][0]["type"] = value::string("InternalIP");
        st["addresses"][0]["address"] = value::string("10.0." + std::to_string(ip / 250) + "." + std::to_string(ip % 250 + 1));
        ++ip;
        st["addresses"][1]["type"] = value::string("Hostname");
        st["addresses"][1]["address"] = value::string(name);
        // Required by the 1.32 schema (clients such as the Python one refuse nodes without them).
        const std::string id = kube::base64_encode(name).substr(0, 8);
        st["nodeInfo"]["machineID"] = value::string("ec2" + std::to_string(ip) + id);
        st["nodeInfo"]["systemUUID"] = value::string("ec2" + std::to_string(ip) + "-0000-4000-8000-" + std::to_string(100000 + ip));
        st["nodeInfo"]["bootID"] = value::string("boot-" + std::to_string(ip) + "-1");
        st["nodeInfo"]["osImage"] = value::string(pool.os_image);
        st["nodeInfo"]["kernelVersion"] = value::string(pool.kernel_version);
        st["nodeInfo"]["kubeletVersion"] = value::string(pool.kubelet_version);
        st["nodeInfo"]["kubeProxyVersion"] = value::string(pool.kubelet_version);
        st["nodeInfo"]["containerRuntimeVersion"] = value::string("containerd://1.7.24");
        st["nodeInfo"]["operatingSystem"] = value::string("linux");
        st["nodeInfo"]["architecture"] = value::string("amd64");
        out.push_back(node);
      }
    }
  }
  return out;
}

}  // namespace nonevent::sim
