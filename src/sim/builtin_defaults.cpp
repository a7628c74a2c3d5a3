#include "sim/builtin_defaults.h"

#include <set>
#include <string>

#include "sim/api_request_util.h"

namespace nonevent::sim {

using web::json::value;
using detail::str;

namespace {

void default_pod(value& obj) {
  auto& spec = obj["spec"];
  if (!spec.has_field("schedulerName")) spec["schedulerName"] = value::string("default-scheduler");
  if (!spec.has_field("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = value::number(30);
  if (!spec.has_field("restartPolicy")) spec["restartPolicy"] = value::string("Always");
  if (!obj.has_field("status") || !obj.at("status").has_field("phase")) obj["status"]["phase"] = value::string("Pending");
}

// The cluster IPs and node ports the Services stored now hold.
void taken(const ObjectStore& store, std::set<std::string>& ips, std::set<int64_t>& node_ports) {
  auto all = store.list({.resource = "/services"}, 0, "");
  if (!all.ok()) return;
  for (const auto& s : all.value().items) {
    std::error_code ec;
    const value svc = value::parse(s->json, ec);
    if (ec || !svc.has_field("spec")) continue;
    const value& spec = svc.at("spec");
    if (!str(spec, "clusterIP").empty()) ips.insert(str(spec, "clusterIP"));
    if (spec.has_field("ports") && spec.at("ports").is_array())
      for (const auto& p : spec.at("ports").as_array())
        if (p.has_field("nodePort") && p.at("nodePort").is_integer()) node_ports.insert(p.at("nodePort").as_number().to_int64());
  }
}

void default_service(value& obj, const ObjectStore& store) {
  auto& spec = obj["spec"];
  if (!spec.is_object()) spec = value::object();
  if (str(spec, "type").empty()) spec["type"] = value::string("ClusterIP");
  if (str(spec, "sessionAffinity").empty()) spec["sessionAffinity"] = value::string("None");
  const std::string type = str(spec, "type");
  std::set<std::string> ips;
  std::set<int64_t> node_ports;
  taken(store, ips, node_ports);
  if (type != "ExternalName") {
    if (str(spec, "internalTrafficPolicy").empty()) spec["internalTrafficPolicy"] = value::string("Cluster");
    if (!spec.has_field("ipFamilies")) spec["ipFamilies"][0] = value::string("IPv4");
    if (str(spec, "ipFamilyPolicy").empty()) spec["ipFamilyPolicy"] = value::string("SingleStack");
    if (str(spec, "clusterIP").empty()) {
      // 10.96.0.1 is the kubernetes Service's; the rest in order, skipping those taken.
      for (int n = 10; n < 1 << 20; ++n) {
        const std::string ip = "10." + std::to_string(96 + (n >> 16)) + "." + std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
        if ((n & 255) == 0 || (n & 255) == 255 || ips.count(ip)) continue;
        spec["clusterIP"] = value::string(ip);
        break;
      }
    }
    if (!spec.has_field("clusterIPs") && spec.has_field("clusterIP")) {
      const value ip = spec.at("clusterIP");  // a copy: adding a member may move the others
      spec["clusterIPs"][0] = ip;
    }
  }
  if ((type == "NodePort" || type == "LoadBalancer") && str(spec, "externalTrafficPolicy").empty())
    spec["externalTrafficPolicy"] = value::string("Cluster");
  if (spec.has_field("ports") && spec.at("ports").is_array()) {
    int64_t next_node_port = 30000;
    for (size_t i = 0; i < spec.at("ports").size(); ++i) {
      value& p = spec["ports"][i];
      if (str(p, "protocol").empty()) p["protocol"] = value::string("TCP");
      // 0 and "" are unset, as in Go's non-pointer fields: a protobuf body from a Go client
      // (kubectl create service) carries nodePort 0 and targetPort 0 for "none given".
      auto zero = [&](const char* k) {
        if (!p.has_field(k)) return false;
        const value& v = p.at(k);
        return v.is_null() || (v.is_integer() && v.as_number().to_int64() == 0) || (v.is_string() && v.as_string().empty());
      };
      if (zero("nodePort")) p.erase("nodePort");
      if (zero("targetPort")) p.erase("targetPort");
      if (!p.has_field("targetPort") && p.has_field("port")) {
        const value port = p.at("port");  // a copy, as above
        p["targetPort"] = port;
      }
      if ((type == "NodePort" || type == "LoadBalancer") && !p.has_field("nodePort")) {
        while (node_ports.count(next_node_port)) ++next_node_port;
        node_ports.insert(next_node_port);
        p["nodePort"] = value::number(next_node_port);
      }
    }
  }
  obj["status"] = value::object();
  obj["status"]["loadBalancer"] = value::object();
}

}  // namespace

void apply_builtin_create_defaults(value& obj, const ResourceType& type, const ObjectStore& store) {
  if (!type.group.empty() || type.custom) return;
  if (type.kind == "Pod") default_pod(obj);
  else if (type.kind == "Namespace") obj["status"]["phase"] = value::string("Active");
  else if (type.kind == "Service") default_service(obj, store);
}

}  // namespace nonevent::sim
