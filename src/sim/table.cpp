#include "sim/table.h"

#include "sim/json_util.h"

#include <functional>

namespace nonevent::sim {

using web::json::value;

std::string human_age(kube::TimePoint created, kube::TimePoint now) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(now - created).count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  const long m = s / 60;
  if (m < 10) return std::to_string(m) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  if (m < 180) return std::to_string(m) + "m";
  const long h = m / 60;
  if (h < 48) return std::to_string(h) + "h";
  return std::to_string(h / 24) + "d";
}

namespace {

using json::at;
using json::num;

// Cell text: strings as they are, other values (minAvailable: 2) as their JSON.
std::string str(const value& v, std::initializer_list<const char*> path, const std::string& def = "") {
  const value* x = at(v, path);
  if (!x || x->is_null()) return def;
  return x->is_string() ? x->as_string() : x->serialize();
}

std::string age_of(const value& obj, kube::TimePoint now) {
  auto t = kube::parse_rfc3339(str(obj, {"metadata", "creationTimestamp"}));
  return t ? human_age(*t, now) : "<unknown>";
}

struct Column {
  std::string name, type, format, description;
  int priority = 0;
  std::function<value(const value&)> cell;
};

value s(const std::string& x) { return value::string(x); }
value n(int64_t x) { return value::number(x); }

std::vector<Column> columns_for(const ResourceType& t, kube::TimePoint now) {
  auto name = Column{"Name", "string", "name", "Name must be unique within a namespace.", 0,
                     [](const value& o) { return s(str(o, {"metadata", "name"})); }};
  auto age = Column{"Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0,
                    [now](const value& o) { return s(age_of(o, now)); }};
  if (t.kind == "Pod" && t.group.empty()) {
    return {name,
            {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0,
             [](const value& o) {
               int total = 0, ready = 0;
               if (const value* cs = at(o, {"spec", "containers"}); cs && cs->is_array()) total = static_cast<int>(cs->size());
               if (const value* st = at(o, {"status", "containerStatuses"}); st && st->is_array())
                 for (const auto& c : st->as_array())
                   if (c.has_field("ready") && c.at("ready").as_bool()) ++ready;
               return s(std::to_string(ready) + "/" + std::to_string(total));
             }},
            {"Status", "string", "", "The aggregate status of the containers in this pod.", 0,
             [](const value& o) {
               if (at(o, {"metadata", "deletionTimestamp"})) return s("Terminating");
               auto reason = str(o, {"status", "reason"});
               return s(reason.empty() ? str(o, {"status", "phase"}, "Pending") : reason);
             }},
            {"Restarts", "string", "", "The number of times the containers in this pod have been restarted.", 0,
             [](const value& o) {
               int64_t r = 0;
               if (const value* st = at(o, {"status", "containerStatuses"}); st && st->is_array())
                 for (const auto& c : st->as_array()) r += num(c, {"restartCount"});
               return s(std::to_string(r));
             }},
            age,
            {"IP", "string", "", "IP address allocated to the pod.", 1, [](const value& o) { return s(str(o, {"status", "podIP"}, "<none>")); }},
            {"Node", "string", "", "Name of the Node this pod is assigned to.", 1, [](const value& o) { return s(str(o, {"spec", "nodeName"}, "<none>")); }},
            {"Nominated Node", "string", "", "Name of the node nominated by the scheduler.", 1, [](const value& o) { return s(str(o, {"status", "nominatedNodeName"}, "<none>")); }},
            {"Readiness Gates", "string", "", "Pod readiness gates.", 1, [](const value&) { return s("<none>"); }}};
  }
  if (t.kind == "Node") {
    return {name,
            {"Status", "string", "", "The status of the node", 0,
             [](const value& o) {
               std::string st = "Unknown";
               if (const value* cs = at(o, {"status", "conditions"}); cs && cs->is_array())
                 for (const auto& c : cs->as_array())
                   if (str(c, {"type"}) == "Ready") st = str(c, {"status"}) == "True" ? "Ready" : "NotReady";
               if (at(o, {"spec", "unschedulable"}) && at(o, {"spec", "unschedulable"})->is_boolean() &&
                   at(o, {"spec", "unschedulable"})->as_bool())
                 st += ",SchedulingDisabled";
               return s(st);
             }},
            {"Roles", "string", "", "The roles of the node", 0,
             [](const value& o) {
               std::string roles;
               if (const value* l = at(o, {"metadata", "labels"}); l && l->is_object())
                 for (const auto& [k, v] : l->as_object())
                   if (k.rfind("node-role.kubernetes.io/", 0) == 0) roles += (roles.empty() ? "" : ",") + k.substr(24);
               return s(roles.empty() ? "<none>" : roles);
             }},
            age,
            {"Version", "string", "", "Kubelet Version reported by the node.", 0, [](const value& o) { return s(str(o, {"status", "nodeInfo", "kubeletVersion"})); }},
            {"Internal-IP", "string", "", "List of internal IPs.", 1,
             [](const value& o) {
               if (const value* a = at(o, {"status", "addresses"}); a && a->is_array())
                 for (const auto& x : a->as_array())
                   if (str(x, {"type"}) == "InternalIP") return s(str(x, {"address"}));
               return s("<none>");
             }},
            {"External-IP", "string", "", "List of external IPs.", 1, [](const value&) { return s("<none>"); }},
            {"OS-Image", "string", "", "OS Image reported by the node.", 1, [](const value& o) { return s(str(o, {"status", "nodeInfo", "osImage"})); }},
            {"Kernel-Version", "string", "", "Kernel Version reported by the node.", 1, [](const value& o) { return s(str(o, {"status", "nodeInfo", "kernelVersion"})); }},
            {"Container-Runtime", "string", "", "Container Runtime Version reported by the node.", 1, [](const value& o) { return s(str(o, {"status", "nodeInfo", "containerRuntimeVersion"})); }}};
  }
  if (t.kind == "Deployment") {
    return {name,
            {"Ready", "string", "", "Number of the pod with ready state", 0,
             [](const value& o) { return s(std::to_string(num(o, {"status", "readyReplicas"})) + "/" + std::to_string(num(o, {"spec", "replicas"}))); }},
            {"Up-to-date", "integer", "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0,
             [](const value& o) { return n(num(o, {"status", "updatedReplicas"})); }},
            {"Available", "integer", "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0,
             [](const value& o) { return n(num(o, {"status", "availableReplicas"})); }},
            age};
  }
  if (t.kind == "ReplicaSet" || t.kind == "ReplicationController") {
    return {name,
            {"Desired", "integer", "", "Number of desired pods.", 0, [](const value& o) { return n(num(o, {"spec", "replicas"})); }},
            {"Current", "integer", "", "Number of actual pods.", 0, [](const value& o) { return n(num(o, {"status", "replicas"})); }},
            {"Ready", "integer", "", "Number of ready pods.", 0, [](const value& o) { return n(num(o, {"status", "readyReplicas"})); }},
            age};
  }
  if (t.kind == "StatefulSet") {
    return {name,
            {"Ready", "string", "", "Number of the pod with ready state", 0,
             [](const value& o) { return s(std::to_string(num(o, {"status", "readyReplicas"})) + "/" + std::to_string(num(o, {"spec", "replicas"}))); }},
            age};
  }
  if (t.kind == "DaemonSet") {
    return {name,
            {"Desired", "integer", "", "The total number of nodes that should be running the daemon pod.", 0, [](const value& o) { return n(num(o, {"status", "desiredNumberScheduled"})); }},
            {"Current", "integer", "", "The number of nodes running the daemon pod.", 0, [](const value& o) { return n(num(o, {"status", "currentNumberScheduled"})); }},
            {"Ready", "integer", "", "The number of nodes that should be running the daemon pod and have it ready.", 0, [](const value& o) { return n(num(o, {"status", "numberReady"})); }},
            {"Up-to-date", "integer", "", "The total number of nodes running the updated daemon pod.", 0, [](const value& o) { return n(num(o, {"status", "updatedNumberScheduled"})); }},
            {"Available", "integer", "", "The number of nodes running the daemon pod and available.", 0, [](const value& o) { return n(num(o, {"status", "numberAvailable"})); }},
            age};
  }
  if (t.kind == "PodDisruptionBudget") {
    return {name,
            {"Min Available", "string", "", "The minimum number of pods that must be available.", 0, [](const value& o) { return s(str(o, {"spec", "minAvailable"}, "N/A")); }},
            {"Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0, [](const value& o) { return s(str(o, {"spec", "maxUnavailable"}, "N/A")); }},
            {"Allowed Disruptions", "integer", "", "Calculated number of pods that may be disrupted at this time.", 0, [](const value& o) { return n(num(o, {"status", "disruptionsAllowed"})); }},
            age};
  }
  if (t.kind == "Service" && t.group.empty()) {
    return {name,
            {"Type", "string", "", "The type of service.", 0, [](const value& o) { return s(str(o, {"spec", "type"}, "ClusterIP")); }},
            {"Cluster-IP", "string", "", "The cluster IP.", 0, [](const value& o) { return s(str(o, {"spec", "clusterIP"}, "<none>")); }},
            {"External-IP", "string", "", "The external IP.", 0,
             [](const value& o) {
               std::string ips;
               if (const value* in = at(o, {"status", "loadBalancer", "ingress"}); in && in->is_array())
                 for (const auto& i : in->as_array()) ips += (ips.empty() ? "" : ",") + str(i, {"ip"}, str(i, {"hostname"}));
               return s(!ips.empty() ? ips : str(o, {"spec", "type"}) == "LoadBalancer" ? "<pending>" : "<none>");
             }},
            {"Port(s)", "string", "", "The port(s) of the service.", 0,
             [](const value& o) {
               std::string ports;
               if (const value* ps = at(o, {"spec", "ports"}); ps && ps->is_array())
                 for (const auto& p : ps->as_array()) {
                   std::string one = str(p, {"port"});
                   if (const std::string np = str(p, {"nodePort"}); !np.empty()) one += ":" + np;
                   ports += (ports.empty() ? "" : ",") + one + "/" + str(p, {"protocol"}, "TCP");
                 }
               return s(ports.empty() ? "<none>" : ports);
             }},
            age};
  }
  if (t.kind == "Job") {
    return {name,
            {"Status", "string", "", "Status of the job.", 0,
             [](const value& o) {
               std::string status = "Running";
               if (const value* cs = at(o, {"status", "conditions"}); cs && cs->is_array())
                 for (const auto& c : cs->as_array())
                   if (str(c, {"status"}) == "True" && (str(c, {"type"}) == "Complete" || str(c, {"type"}) == "Failed")) status = str(c, {"type"});
               return s(status);
             }},
            {"Completions", "string", "", "The completion status of the job.", 0,
             [](const value& o) { return s(std::to_string(num(o, {"status", "succeeded"})) + "/" + std::to_string(num(o, {"spec", "completions"}, 1))); }},
            age};
  }
  if (t.kind == "HorizontalPodAutoscaler") {
    return {name,
            {"Reference", "string", "", "Reference to the scaled object.", 0,
             [](const value& o) { return s(str(o, {"spec", "scaleTargetRef", "kind"}) + "/" + str(o, {"spec", "scaleTargetRef", "name"})); }},
            // No metrics pipeline runs here: the current values are never known.
            {"Targets", "string", "", "The current and target values of the metrics.", 0, [](const value&) { return s("<unknown>"); }},
            {"MinPods", "string", "", "The lower limit for the number of pods.", 0, [](const value& o) { return s(str(o, {"spec", "minReplicas"}, "<unset>")); }},
            {"MaxPods", "integer", "", "The upper limit for the number of pods.", 0, [](const value& o) { return n(num(o, {"spec", "maxReplicas"})); }},
            {"Replicas", "integer", "", "The current number of replicas.", 0, [](const value& o) { return n(num(o, {"status", "currentReplicas"})); }},
            age};
  }
  if (t.kind == "Namespace") {
    return {name, {"Status", "string", "", "The status of the namespace", 0, [](const value& o) { return s(str(o, {"status", "phase"}, "Active")); }}, age};
  }
  if (t.kind == "Event" && t.group.empty()) {
    return {{"Last Seen", "string", "", "Time since the event was last seen.", 0,
             [now](const value& o) {
               auto ts = kube::parse_rfc3339(str(o, {"lastTimestamp"}));
               if (!ts) ts = kube::parse_rfc3339(str(o, {"eventTime"}));
               return s(ts ? human_age(*ts, now) : "<unknown>");
             }},
            {"Type", "string", "", "Type of this event.", 0, [](const value& o) { return s(str(o, {"type"})); }},
            {"Reason", "string", "", "Reason for this event.", 0, [](const value& o) { return s(str(o, {"reason"})); }},
            {"Object", "string", "", "The object the event is about.", 0,
             [](const value& o) {
               std::string kind = str(o, {"involvedObject", "kind"});
               for (auto& c : kind) c = static_cast<char>(std::tolower(c));
               return s(kind + "/" + str(o, {"involvedObject", "name"}));
             }},
            {"Message", "string", "", "A human-readable description of the status of this operation.", 0, [](const value& o) { return s(str(o, {"message"})); }},
            name};
  }
  if (t.kind == "Lease") {
    return {name, {"Holder", "string", "", "The holder of the lease.", 0, [](const value& o) { return s(str(o, {"spec", "holderIdentity"})); }}, age};
  }
  if (t.kind == "CustomResourceDefinition") {
    return {name, {"Created At", "date", "", "", 0, [](const value& o) { return s(str(o, {"metadata", "creationTimestamp"})); }}};
  }
  if (t.custom && !t.printer_columns.empty()) {
    std::vector<Column> cols{name};
    for (const auto& pc : t.printer_columns) {
      auto path = pc.json_path;
      const bool is_date = pc.type == "date";
      cols.push_back({pc.name, pc.type == "date" ? "string" : pc.type, pc.format, pc.description, pc.priority,
                      [path, is_date, now](const value& o) {
                        // Simple JSONPath: .a.b.c (arrays are joined with ",").
                        const value* cur = &o;
                        size_t start = path.empty() || path[0] != '.' ? 0 : 1;
                        while (cur && start < path.size()) {
                          auto dot = path.find('.', start);
                          if (dot == std::string::npos) dot = path.size();
                          const std::string key = path.substr(start, dot - start);
                          cur = cur->is_object() && cur->has_field(key) ? &cur->at(key) : nullptr;
                          start = dot + 1;
                        }
                        if (!cur || cur->is_null()) return value::null();
                        if (is_date && cur->is_string()) {
                          auto ts = kube::parse_rfc3339(cur->as_string());
                          return s(ts ? human_age(*ts, now) : cur->as_string());
                        }
                        if (cur->is_array()) {
                          std::string joined;
                          for (const auto& e : cur->as_array())
                            joined += (joined.empty() ? "" : ",") + (e.is_string() ? e.as_string() : e.serialize());
                          return s(joined);
                        }
                        return *cur;
                      }});
    }
    return cols;
  }
  return {name, age};
}

}  // namespace

value render_table(const ResourceType& type, const std::vector<value>& objects, kube::TimePoint now,
                   const std::string& include_object, const std::string& resource_version,
                   const std::string& continue_token) {
  const auto cols = columns_for(type, now);
  value table = value::object();
  table["kind"] = s("Table");
  table["apiVersion"] = s("meta.k8s.io/v1");
  value meta = value::object();
  if (!resource_version.empty()) meta["resourceVersion"] = s(resource_version);
  if (!continue_token.empty()) meta["continue"] = s(continue_token);
  table["metadata"] = meta;
  value defs = value::array();
  for (size_t i = 0; i < cols.size(); ++i) {
    value d = value::object();
    d["name"] = s(cols[i].name);
    d["type"] = s(cols[i].type);
    d["format"] = s(cols[i].format);
    d["description"] = s(cols[i].description);
    d["priority"] = n(cols[i].priority);
    defs[i] = d;
  }
  table["columnDefinitions"] = defs;
  value rows = value::array();
  for (size_t r = 0; r < objects.size(); ++r) {
    const auto& o = objects[r];
    value row = value::object();
    value cells = value::array();
    for (size_t i = 0; i < cols.size(); ++i) cells[i] = cols[i].cell(o);
    row["cells"] = cells;
    if (include_object == "Object") {
      row["object"] = o;
    } else if (include_object != "None") {
      value partial = value::object();
      partial["kind"] = s("PartialObjectMetadata");
      partial["apiVersion"] = s("meta.k8s.io/v1");
      partial["metadata"] = o.has_field("metadata") ? o.at("metadata") : value::object();
      row["object"] = partial;
    }
    rows[r] = row;
  }
  table["rows"] = rows;
  return table;
}

}  // namespace nonevent::sim
