// Kubelets (pod start, readiness, graceful termination, Job pods running to completion),
// the node-lifecycle controller's taints, and the provisioner that replaces deleted nodes.
#include <set>
#include <unordered_map>

#include "model/json_parse.h"
#include "model/json_write.h"
#include "sim/controllers.h"
#include "sim/disruptors.h"
#include "sim/json_util.h"
#include "sim/key_timers.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

bool node_ready(const value& node) { return condition_true(node, "Ready"); }

value condition(const std::string& type, bool status, const std::string& since) {
  value c = value::object();
  c["type"] = value::string(type);
  c["status"] = value::string(status ? "True" : "False");
  c["lastProbeTime"] = value::null();
  c["lastTransitionTime"] = value::string(since);
  return c;
}

// The kubelets of one shard of the nodes (by a hash of the node's name; pods not bound to a
// node belong to the shard of the empty name). Shards share nothing and write only their own
// nodes' pods, so a pass can run them on different threads.
class Kubelets final : public SimController {
 public:
  Kubelets(size_t shard, size_t shards) : shard_(shard), shards_(shards) {}
  const char* name() const override { return "kubelet"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    // The pods to look at: those that changed, those on a node that changed, and those whose
    // timer (start, readiness, end of grace) came due.
    std::set<std::string> keys;
    for (const auto& ch : snap.cache->changed("/pods")) {
      if (ch.object) {
        if (mine(ch.node)) keys.insert(ch.key);
      } else {
        seen_.erase(ch.pod ? std::string(ch.pod->meta.uid.view()) : uid(ch.last()));
        timers_.cancel(ch.key);
      }
    }
    for (const auto& ch : snap.cache->changed("/nodes"))
      for (const auto* node : {&ch.node, &ch.key})
        if (mine(*node))
          for (auto& key : snap.cache->pod_keys_on_node(*node)) keys.insert(std::move(key));
    for (auto& k : timers_.take_due(sim.now())) keys.insert(std::move(k));
    for (const auto& key : keys) {
      timers_.cancel(key);
      if (const CachedJson* pod = snap.cache->pod_json(key)) reconcile_pod(sim, snap, key, *pod);
    }
    if (auto t = timers_.earliest()) sim.wake_at(*t);
  }

 private:
  // What a kubelet asks of a pod on every look, from the cache's decoded pod; from the JSON
  // for a pod that did not decode. The JSON itself is read (and so built) only to write.
  struct PodFacts {
    const model::Pod* model = nullptr;  // the cache's decoded pod, if it decoded
    std::string node_name, uid;
    bool terminating = false, ready = false, restart_always = true;
    std::string phase;
  };
  static PodFacts facts_of(const Snapshot& snap, const std::string& key, const CachedJson& pod) {
    PodFacts f;
    if (const model::Pod* m = snap.cache->pod_model(key)) {
      f.model = m;
      f.node_name = m->node_name.str();
      f.uid = std::string(m->meta.uid.view());
      f.terminating = m->meta.deleted.has_value();
      f.ready = m->ready;
      f.restart_always = !m->spec || m->spec->restart_always;
      static const char* const kPhases[] = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
      f.phase = kPhases[static_cast<int>(m->phase)];
      return f;
    }
    const value& p = pod.get();
    f.node_name = str(p, {"spec", "nodeName"});
    f.uid = uid(p);
    f.terminating = terminating(p);
    f.ready = pod_ready(p);
    f.restart_always = str(p, {"spec", "restartPolicy"}, "Always") == "Always";
    f.phase = str(p, {"status", "phase"}, "Pending");
    return f;
  }

  void reconcile_pod(Simulation& sim, const Snapshot& snap, const std::string& key, const CachedJson& pod_json) {
    const auto now = sim.now();
    const auto& t = sim.spec().timings;
    {
      const auto facts = facts_of(snap, key, pod_json);
      const auto& node_name = facts.node_name;
      if (!mine(node_name)) return;  // a timer of a pod since recreated (same name) on another shard's node
      const auto slash = key.find('/');  // namespace/name
      const auto path = slash == std::string::npos ? object_path("v1", "pods", "", key)
                                                   : object_path("v1", "pods", key.substr(0, slash), key.substr(slash + 1));
      const auto& pod_uid = facts.uid;
      const value* node = node_name.empty() ? nullptr : snap.cache->get("/nodes", node_name);
      if (facts.terminating) {
        // Graceful termination: gone after min(gracePeriod, the cluster's termination time).
        // deletionTimestamp is when the grace period ends (deletion time + grace). Read from
        // the model and the one member of the text, not a DOM of the whole pod.
        std::optional<kube::TimePoint> deadline;
        double grace = 30;
        if (facts.model && pod_json.text()) {
          deadline = facts.model->meta.deleted;
          std::error_code ec;
          const value g = model::parse_json_member(pod_json.text()->json, {"metadata", "deletionGracePeriodSeconds"}, ec);
          if (!ec && g.is_number()) grace = static_cast<double>(g.as_number().to_int64());
        } else {
          const value& pod = pod_json.get();
          deadline = kube::parse_rfc3339(str(pod, {"metadata", "deletionTimestamp"}));
          grace = static_cast<double>(num(pod, {"metadata", "deletionGracePeriodSeconds"}, 30));
        }
        const auto started = after(deadline.value_or(now), -grace);
        const auto done = after(started, std::min(grace, t.termination_s));
        if (!node || now >= done) sim.remove(path, 0);
        else timers_.at(key, done);
        return;
      }
      if (!node) return;  // unscheduled, or its node is gone (the pod garbage collector's job)
      const auto& phase = facts.phase;
      if (phase == "Succeeded" || phase == "Failed") return;
      const auto* node_model = snap.cache->node_model(node_name);  // decoded: no walk of its conditions per pod
      if (!(node_model ? node_model->ready : node_ready(*node))) return;
      auto [it, fresh] = seen_.try_emplace(pod_uid, Seen{now, {}, {}});
      Seen& seen = it->second;
      if (fresh && phase == "Running") seen.bound_at = now - std::chrono::hours(1);  // found running (restart)
      const auto started = after(seen.bound_at, t.pod_start_s);
      const auto ready = after(started, ready_seconds(facts, pod_json, t));
      const bool job_pod = !facts.restart_always;
      if (phase == "Pending") {
        if (now < started) {
          timers_.at(key, started);
          return;
        }
        RunningStatus st = running_status(status_inputs(facts.model, pod_json, seen), *node, now, false);
        if (sim.replace_status(path, std::move(st.json))) {
          seen.start_time = std::move(st.start_time);
          seen.pod_ip = std::move(st.pod_ip);
        }
        if (!job_pod) timers_.at(key, ready);
        return;
      }
      if (job_pod) {
        // A Job's pod runs for its annotated time, then exits with its annotated code.
        const value& pod = pod_json.get();
        const double run_s = std::stod(str(pod, {"metadata", "annotations", "sim.nonevent.dev/run-seconds"}, "5"));
        const auto finish = after(started, run_s);
        if (now < finish) {
          timers_.at(key, finish);
          return;
        }
        // A node annotated sim.nonevent.dev/job-exit-code makes every Job on it exit so (a
        // patch that breaks on one machine).
        const auto exit_code = str(*node, {"metadata", "annotations", "sim.nonevent.dev/job-exit-code"},
                                   str(pod, {"metadata", "annotations", "sim.nonevent.dev/exit-code"}, "0"));
        const bool ok = exit_code == "0";
        value p = value::object();
        p["status"]["phase"] = value::string(ok ? "Succeeded" : "Failed");
        p["status"]["conditions"][0] = condition("Ready", false, now_text(now));
        sim.patch(path + "/status", std::move(p));
        return;
      }
      if (!facts.ready) {
        if (now < ready) {
          timers_.at(key, ready);
          return;
        }
        sim.replace_status(path, running_status(status_inputs(facts.model, pod_json, seen), *node, now, true).json);
      }
    }
  }

  // How long the pod takes from started to Ready: its controller's own time when the cluster
  // has one (a rehearsal gives each workload the time its pods took in the snapshot, issue
  // 30), else the cluster's.
  static double ready_seconds(const PodFacts& facts, const CachedJson& pod_json, const Timings& t) {
    if (t.ready_s_by_owner.empty()) return t.pod_ready_s;
    std::string owner;
    if (facts.model) {
      if (const auto* c = facts.model->meta.controller()) owner = std::string(c->uid.view());
    } else if (const value* refs = at(pod_json.get(), {"metadata", "ownerReferences"}); refs && refs->is_array()) {
      for (const auto& r : refs->as_array())
        if (r.has_field("controller") && r.at("controller").is_boolean() && r.at("controller").as_bool()) owner = str(r, {"uid"});
    }
    const auto it = t.ready_s_by_owner.find(owner);
    return it == t.ready_s_by_owner.end() ? t.pod_ready_s : it->second;
  }

  bool mine(const std::string& node_name) const {
    return shards_ == 1 || std::hash<std::string>{}(node_name) % shards_ == shard_;
  }

  const size_t shard_, shards_;
  KeyTimers timers_;
  // Per pod (by uid): when it was first seen bound to a Ready node (its start and readiness
  // count from then), and the startTime and podIP this kubelet wrote when it started it. In
  // memory; a pod found Running (a restarted simulation) counts as started.
  struct Seen {
    kube::TimePoint bound_at;
    std::string start_time, pod_ip;  // empty until this kubelet wrote them
  };
  // Hashed: a sorted map of 150,000 uids cost a chain of cache misses per look, a sixth of
  // the kubelets' time at boot.
  std::unordered_map<std::string, Seen> seen_;

  // What a pod's status is made of besides the node and the time.
  struct StatusInputs {
    std::string uid, created, start_time, pod_ip;  // start_time, pod_ip: empty when none yet
    std::vector<std::pair<std::string, std::string>> containers;  // name, image
  };
  static StatusInputs inputs_from_json(const value& pod) {
    StatusInputs in;
    in.uid = uid(pod);
    in.created = str(pod, {"metadata", "creationTimestamp"});
    in.start_time = str(pod, {"status", "startTime"});
    in.pod_ip = str(pod, {"status", "podIP"});
    if (const value* containers = at(pod, {"spec", "containers"}); containers && containers->is_array())
      for (size_t i = 0; i < containers->size(); ++i)
        in.containers.emplace_back(str(containers->at(i), {"name"}), str(containers->at(i), {"image"}));
    return in;
  }
  // The same from the decoded pod and what this kubelet wrote, without building the pod's
  // DOM (which, for the two status writes of every pod, was most of what the kubelets made
  // the cache build). Only when they say the same as the JSON would: for a Pending pod whose
  // stored text has no startTime or podIP at all, and for a Running one whose start this
  // kubelet wrote (a pod's status is the kubelet's to write).
  static std::optional<StatusInputs> inputs_from_model(const model::Pod* m, const CachedJson& pod, const Seen& seen) {
    if (!m || !m->spec) return std::nullopt;
    StatusInputs in;
    if (m->phase == model::PodPhase::kPending) {
      const StoredObject* text = pod.text();
      if (!text || text->json.find("\"startTime\"") != std::string::npos ||
          text->json.find("\"podIP\"") != std::string::npos)
        return std::nullopt;
    } else if (seen.start_time.empty()) {
      return std::nullopt;
    } else {
      in.start_time = seen.start_time;
      in.pod_ip = seen.pod_ip;
    }
    in.uid = std::string(m->meta.uid.view());
    in.created = kube::format_rfc3339(m->meta.created);
    in.containers = m->spec->containers;
    return in;
  }

  static StatusInputs status_inputs(const model::Pod* m, const CachedJson& pod, const Seen& seen) {
    if (auto in = inputs_from_model(m, pod, seen)) return std::move(*in);
    return inputs_from_json(pod.get());
  }

  // The whole status of a started pod, and the startTime and podIP in it. The kubelet owns
  // its pods' status and writes all of it (Simulation::replace_status), so the server need
  // not merge it into the old one; it is written as text the way the store writes JSON
  // (compact, members in key order), so that nobody builds a DOM of it: building it, and the
  // server writing it out, were a sixth of a big simulation.
  struct RunningStatus {
    std::string json, start_time, pod_ip;
  };
  static RunningStatus running_status(const StatusInputs& in, const value& node, kube::TimePoint now, bool ready) {
    const auto ts = now_text(now);
    RunningStatus out;
    out.start_time = in.start_time.empty() ? ts : in.start_time;
    const std::string& start = out.start_time;
    std::string host_ip;
    if (const value* a = at(node, {"status", "addresses"}); a && a->is_array() && a->size() > 0) host_ip = str(a->at(0), {"address"});
    const auto h = std::hash<std::string>{}(in.uid);
    out.pod_ip = in.pod_ip.empty() ? "100.64." + std::to_string((h >> 8) % 250) + "." + std::to_string(h % 250 + 2) : in.pod_ip;
    const std::string since = ready ? ts : start;
    std::string& j = out.json;
    j.reserve(1024);
    auto write_string = [&](const std::string& s) { model::append_json_string(j, s); };
    auto write_condition = [&](const char* type, bool status, const std::string& at) {
      j += R"({"lastProbeTime":null,"lastTransitionTime":)";
      write_string(at);
      j += status ? R"(,"status":"True","type":")" : R"(,"status":"False","type":")";
      j += type;
      j += "\"}";
    };
    j += R"({"conditions":[)";
    write_condition("PodReadyToStartContainers", true, since);
    j += ',';
    write_condition("Initialized", true, since);
    j += ',';
    write_condition("Ready", ready, ts);
    j += ',';
    write_condition("ContainersReady", ready, ts);
    j += ',';
    write_condition("PodScheduled", true, in.created.empty() ? ts : in.created);
    j += R"(],"containerStatuses":[)";
    for (size_t i = 0; i < in.containers.size(); ++i) {
      const auto& [name, image] = in.containers[i];
      if (i > 0) j += ',';
      j += R"({"containerID":)";
      write_string("containerd://" + std::to_string(h) + std::to_string(i));
      j += R"(,"image":)";
      write_string(image);
      j += R"(,"imageID":)";
      write_string(image + "@sha256:" + std::string(64, '0'));
      j += R"(,"name":)";
      write_string(name);
      j += ready ? R"(,"ready":true)" : R"(,"ready":false)";
      j += R"(,"restartCount":0,"started":true,"state":{"running":{"startedAt":)";
      write_string(start);
      j += "}}}";
    }
    j += R"(],"hostIP":)";
    write_string(host_ip);
    j += R"(,"hostIPs":[{"ip":)";
    write_string(host_ip);
    j += R"(}],"phase":"Running","podIP":)";
    write_string(out.pod_ip);
    j += R"(,"podIPs":[{"ip":)";
    write_string(out.pod_ip);
    j += R"(}],"qosClass":"Burstable","startTime":)";
    write_string(start);
    j += '}';
    return out;
  }
};

// node.kubernetes.io/unschedulable on cordoned nodes, node.kubernetes.io/not-ready on nodes
// whose Ready condition is not True (others' taints are left alone).
class NodeLifecycle final : public SimController {
 public:
  const char* name() const override { return "nodelifecycle"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    for (const auto& ch : snap.cache->changed("/nodes")) {
      if (!ch.object) continue;
      const value& n = ch.last();
      value kept = value::array();
      size_t i = 0;
      bool has_unsched = false, has_not_ready = false;
      if (const value* ts = at(n, {"spec", "taints"}); ts && ts->is_array())
        for (const auto& t : ts->as_array()) {
          const auto key = str(t, {"key"});
          if (key == "node.kubernetes.io/unschedulable") has_unsched = true;
          else if (key == "node.kubernetes.io/not-ready") has_not_ready = true;
          else kept[i++] = t;
        }
      const bool want_unsched = flag(n, {"spec", "unschedulable"});
      const bool want_not_ready = !node_ready(n);
      if (want_unsched == has_unsched && want_not_ready == has_not_ready) continue;
      const auto ts = now_text(sim.now());
      if (want_unsched) kept[i++] = taint("node.kubernetes.io/unschedulable", ts);
      if (want_not_ready) kept[i++] = taint("node.kubernetes.io/not-ready", ts);
      value p = value::object();
      p["spec"]["taints"] = i == 0 ? value::null() : kept;
      sim.patch(object_path("v1", "nodes", "", json::name(n)), p);
    }
  }

 private:
  static value taint(const char* key, const std::string& ts) {
    value t = value::object();
    t["key"] = value::string(key);
    t["effect"] = value::string("NoSchedule");
    t["timeAdded"] = value::string(ts);
    return t;
  }
};

// Replaces a deleted node in its zone and pool after nodeProvisionSeconds, as a cloud node
// group does (not one the autoscaler or Karpenter removed: their group shrank). Nodes Cluster API keeps (annotated cluster.x-k8s.io/owner-kind) are left to
// their MachineDeployment, which makes a new Machine instead (machine_controller.cpp).
class Provisioner final : public SimController {
 public:
  const char* name() const override { return "provisioner"; }
  void reconcile(Simulation& sim, const Snapshot& snap) override {
    const auto now = sim.now();
    for (const auto& ch : snap.cache->changed("/nodes"))
      if (!ch.object && !at(ch.last(), {"metadata", "annotations", "cluster.x-k8s.io/owner-kind"}) && !scaled_down(ch.last()))
        pending_.push_back({after(now, sim.spec().timings.node_provision_s), ch.last()});
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (now < it->first) {
        sim.wake_at(it->first);
        ++it;
        continue;
      }
      const value& node = it->second;
      const auto pool = str(node, {"metadata", "labels", "nonevent.dev/pool"}, "pool");
      const auto zone = str(node, {"metadata", "labels", "topology.kubernetes.io/zone"}, "zone");
      sim.create(object_path("v1", "nodes", ""), new_node_like(sim, node, pool + "-" + zone + "-r" + std::to_string(++serial_)));
      it = pending_.erase(it);
    }
  }

 private:
  // Deleted by the autoscaler or Karpenter: its group shrank, nothing replaces it.
  static bool scaled_down(const value& node) {
    return has_taint(node, kToBeDeletedTaint) || has_taint(node, kKarpenterDisruptedTaint);
  }
  std::vector<std::pair<kube::TimePoint, value>> pending_;
  int serial_ = 0;
};

}  // namespace

value new_node_like(Simulation& sim, const value& like, const std::string& name) {
  std::string image;
  if (auto cm = sim.api().store().get("/configmaps", "kube-system", "nonevent-sim-provisioner")) {
    std::error_code ec;
    image = str(value::parse(cm->json, ec), {"data", "imageVersion"});
  }
  const auto zone = str(like, {"metadata", "labels", "topology.kubernetes.io/zone"}, "zone");
  value fresh = value::object();
  fresh["apiVersion"] = value::string("v1");
  fresh["kind"] = value::string("Node");
  fresh["metadata"]["name"] = value::string(name);
  value lbls = at(like, {"metadata", "labels"}) ? like.at("metadata").at("labels") : value::object();
  lbls["kubernetes.io/hostname"] = value::string(name);
  if (!image.empty()) lbls["nonevent.dev/image-version"] = value::string(image);
  fresh["metadata"]["labels"] = lbls;
  fresh["metadata"]["annotations"]["node.alpha.kubernetes.io/ttl"] = value::string("0");
  fresh["metadata"]["annotations"]["volumes.kubernetes.io/controller-managed-attach-detach"] = value::string("true");
  fresh["spec"]["providerID"] = value::string("nonevent-sim://" + zone + "/" + name);
  value st = like.has_field("status") ? like.at("status") : value::object();
  const auto ts = now_text(sim.now());
  if (st.has_field("conditions"))
    for (size_t i = 0; i < st.at("conditions").size(); ++i) {
      st["conditions"][i]["lastTransitionTime"] = value::string(ts);
      st["conditions"][i]["lastHeartbeatTime"] = value::string(ts);
    }
  if (st.has_field("nodeInfo")) st["nodeInfo"]["bootID"] = value::string("boot-" + name);
  fresh["status"] = st;
  return fresh;
}

std::unique_ptr<SimController> make_kubelets(size_t shard, size_t shards) {
  return std::make_unique<Kubelets>(shard, shards);
}
std::unique_ptr<SimController> make_node_lifecycle_controller() { return std::make_unique<NodeLifecycle>(); }
std::unique_ptr<SimController> make_provisioner() { return std::make_unique<Provisioner>(); }

}  // namespace nonevent::sim
