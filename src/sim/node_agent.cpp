// The node agent: what a patch does to a node. When a patch Job's pod (annotated
// nonevent.dev/target-version) succeeds on a node, or an outside agent is asked for a version
// through the node annotation nonevent.dev/desired-version, the node's image version label
// the node reboots: NotReady for nodeRebootSeconds, then Ready with a new bootID and, once
// Ready, reporting the new version in its image version label (as a real node reports its
// new image only after it has booted it). A test makes a node's patch fail with the node annotation
// sim.nonevent.dev/job-exit-code (read by the kubelet), and a node slow to come back (old
// hardware, a long firmware check) with sim.nonevent.dev/reboot-seconds. A node annotated
// sim.nonevent.dev/reboot-request with a value not served yet reboots keeping its image (how
// the simulated kured reboots a node). A reboot in progress is noted on the node
// (sim.nonevent.dev/rebooting-into: the version it boots into), as a real machine keeps
// rebooting whatever its API server does: a restarted `sim serve --state` finishes it.
// What the agent has served is kept on the objects too (the patch pod is annotated
// sim.nonevent.dev/applied; the node, sim.nonevent.dev/reboot-served): a restarted agent sees
// every pod and node as new, and once rebooted every node whose old patch Jobs were still
// there back into their versions (the soak's mass NotReady after each restart).
#include <set>

#include "sim/controllers.h"
#include "sim/disruptors.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

constexpr const char* kVersionLabel = "nonevent.dev/image-version";
constexpr const char* kTargetVersion = "nonevent.dev/target-version";
constexpr const char* kDesiredVersion = "nonevent.dev/desired-version";
constexpr const char* kRebootSeconds = "sim.nonevent.dev/reboot-seconds";
constexpr const char* kRebootingInto = "sim.nonevent.dev/rebooting-into";
constexpr const char* kApplied = "sim.nonevent.dev/applied";             // on a patch pod
constexpr const char* kRebootServed = "sim.nonevent.dev/reboot-served";  // on a node: the last request

class NodeAgent final : public SimController {
 public:
  const char* name() const override { return "nodeagent"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    const auto now = sim.now();
    // Requests: patch Jobs that finished on a node, and annotations for the outside agent.
    for (const auto& ch : snap.cache->changed("/pods")) {
      if (!ch.object) continue;
      // From the decoded pod when there is one (the target version is a nonevent.dev/
      // annotation, which the model keeps): building every changed pod's DOM for this was
      // a cost of its own.
      std::string version, phase, pod_uid, node_name;
      if (const model::Pod* m = ch.pod.get()) {
        for (const auto& [k, v] : m->nonevent_annotations)
          if (k == kTargetVersion) version = v;
        phase = m->phase == model::PodPhase::kSucceeded ? "Succeeded" : "";
        pod_uid = std::string(m->meta.uid.view());
        node_name = m->node_name.str();
      } else {
        const value& pod = ch.last();
        version = str(pod, {"metadata", "annotations", kTargetVersion});
        phase = str(pod, {"status", "phase"});
        pod_uid = uid(pod);
        node_name = str(pod, {"spec", "nodeName"});
      }
      if (version.empty() || phase != "Succeeded") continue;
      if (!applied_.insert(pod_uid).second) continue;
      const value& pod = ch.last();
      if (!str(pod, {"metadata", "annotations", kApplied}).empty()) continue;  // served before a restart
      const value* node = snap.cache->get("/nodes", node_name);
      if (node && str(*node, {"metadata", "labels", kVersionLabel}) != version &&
          str(*node, {"metadata", "annotations", kRebootingInto}) != version)
        start(sim, *node, version, now);
      // After the node's reboot is on record (rebooting-into), so a restart between the two
      // writes still finds one of them.
      value mark = value::object();
      mark["metadata"]["annotations"][kApplied] = value::string("true");
      sim.patch(object_path("v1", "pods", json::ns(pod), json::name(pod)), mark);
    }
    for (const auto& ch : snap.cache->changed("/nodes")) {
      if (!ch.object) continue;
      const value& n = ch.last();
      // A reboot the agent before a restart began: finished on this agent's clock.
      if (const auto into = str(n, {"metadata", "annotations", kRebootingInto}); !into.empty() && !rebooting_.count(json::name(n))) {
        start(sim, n, into, now);
        continue;
      }
      // A plain reboot (kured's): each new value of the request is one reboot, image kept.
      if (const auto req = str(n, {"metadata", "annotations", kRebootRequest}); !req.empty() && !rebooting_.count(json::name(n))) {
        auto& last = reboots_done_[json::name(n)];
        if (last.empty()) last = str(n, {"metadata", "annotations", kRebootServed});  // served before a restart
        if (last != req) {
          last = req;
          start(sim, n, str(n, {"metadata", "labels", kVersionLabel}), now);
          value served = value::object();
          served["metadata"]["annotations"][kRebootServed] = value::string(req);
          sim.patch(object_path("v1", "nodes", "", json::name(n)), served);
          continue;
        }
      }
      const auto desired = str(n, {"metadata", "annotations", kDesiredVersion});
      if (desired.empty() || str(n, {"metadata", "labels", kVersionLabel}) == desired || rebooting_.count(json::name(n))) continue;
      start(sim, n, desired, now);
    }
    // Reboots that are over.
    for (auto it = rebooting_.begin(); it != rebooting_.end();) {
      if (now < it->second.until) {
        sim.wake_at(it->second.until);
        ++it;
        continue;
      }
      if (const value* n = snap.cache->get("/nodes", it->first)) {
        set_ready(sim, *n, true, now);
        value p = value::object();
        p["metadata"]["labels"][kVersionLabel] = value::string(it->second.version);
        p["metadata"]["annotations"][kRebootingInto] = value::null();
        sim.patch(object_path("v1", "nodes", "", it->first), p);
      }
      it = rebooting_.erase(it);
    }
  }

 private:
  void start(Simulation& sim, const value& node, const std::string& version, kube::TimePoint now) {
    set_ready(sim, node, false, now);
    double reboot_s = sim.spec().timings.node_reboot_s;
    const auto own = str(node, {"metadata", "annotations", kRebootSeconds});
    if (!own.empty()) {
      try {
        reboot_s = std::stod(own);
      } catch (const std::exception&) {  // not a number: the cluster's timing
      }
    }
    const auto until = now + std::chrono::duration_cast<kube::Duration>(std::chrono::duration<double>(reboot_s));
    rebooting_[json::name(node)] = {until, version};
    sim.wake_at(until);
    if (str(node, {"metadata", "annotations", kRebootingInto}) != version) {
      value p = value::object();
      p["metadata"]["annotations"][kRebootingInto] = value::string(version);
      sim.patch(object_path("v1", "nodes", "", json::name(node)), p);
    }
  }
  static void set_ready(Simulation& sim, const value& node, bool ready, kube::TimePoint now) {
    value conditions = value::array();
    size_t i = 0;
    if (const value* cs = at(node, {"status", "conditions"}); cs && cs->is_array())
      for (const auto& c : cs->as_array()) {
        value x = c;
        if (str(c, {"type"}) == "Ready") {
          x["status"] = value::string(ready ? "True" : "False");
          x["reason"] = value::string(ready ? "KubeletReady" : "KubeletNotReady");
          x["message"] = value::string(ready ? "kubelet is posting ready status" : "node is rebooting");
          x["lastTransitionTime"] = value::string(now_text(now));
          x["lastHeartbeatTime"] = value::string(now_text(now));
        }
        conditions[i++] = x;
      }
    value p = value::object();
    p["status"]["conditions"] = conditions;
    if (ready) p["status"]["nodeInfo"]["bootID"] = value::string("boot-" + std::to_string(now.time_since_epoch().count()));
    sim.patch(object_path("v1", "nodes", "", json::name(node)) + "/status", p);
  }

  std::set<std::string> applied_;                      // pod uids whose patch was applied
  std::map<std::string, std::string> reboots_done_;    // node → the last reboot request served
  struct Reboot {
    kube::TimePoint until;
    std::string version;
  };
  std::map<std::string, Reboot> rebooting_;  // by node
};

}  // namespace

std::unique_ptr<SimController> make_node_agent() { return std::make_unique<NodeAgent>(); }

}  // namespace nonevent::sim
