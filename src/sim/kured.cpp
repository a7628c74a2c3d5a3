// kured (kubereboot/kured 1.17, cmd/kured and pkg/daemonsetlock) for the nodes whose reboot
// sentinel is set (the node annotation sim.nonevent.dev/reboot-required standing for
// /var/run/reboot-required). Every period, when the lock on the kured DaemonSet is free, the
// first such node takes it: the annotation weave.works/kured-node-lock becomes
// {"nodeID": <node>, "metadata": {"unschedulable": <was it cordoned>}, "created": ..., "TTL": 0},
// written conditionally on the DaemonSet's resourceVersion (two nodes cannot both win). Then
// kured cordons the node, drains it through evictions (PDBs hold it), reboots it, and once it
// is back uncordons it unless it was cordoned before, clears the sentinel and releases the
// lock. A lock held by anyone else (another node, or a tool naming itself in nodeID, as
// nonevent --coordinate-kured does) makes every node wait. kured does not look at anyone
// else's claims on a node: only the lock keeps it off.
#include "sim/controllers.h"
#include "sim/disruptors.h"
#include "sim/json_util.h"

namespace nonevent::sim {

using web::json::value;
using namespace json;

namespace {

class Kured final : public SimController {
 public:
  explicit Kured(KuredSpec spec) : spec_(spec) {}
  const char* name() const override { return "kured"; }

  void reconcile(Simulation& sim, const Snapshot& snap) override {
    const auto now = sim.now();
    const value* ds = snap.cache->get("apps/daemonsets", std::string(kKuredNamespace) + "/" + kKuredDaemonSet);
    if (!ds) return;
    const auto lock_text = str(*ds, {"metadata", "annotations", kKuredLockAnnotation});
    std::string holder;
    bool was_unschedulable = false;
    if (!lock_text.empty()) {
      std::error_code ec;
      const value lock = value::parse(lock_text, ec);
      holder = ec ? "?" : str(lock, {"nodeID"});
      was_unschedulable = !ec && flag(lock, {"metadata", "unschedulable"});
    }
    if (!holder.empty()) {
      if (const value* node = snap.cache->get("/nodes", holder)) reboot(sim, snap, *ds, *node, was_unschedulable, now);
      return;  // held: by one of our nodes (going on above) or by someone else (wait)
    }
    if (next_check_ && now < *next_check_) {
      sim.wake_at(*next_check_);
      return;
    }
    next_check_ = now + std::chrono::duration_cast<kube::Duration>(std::chrono::duration<double>(spec_.period_s));
    sim.wake_at(*next_check_);
    for (const value& n : snap.nodes()) {
      if (terminating(n) || str(n, {"metadata", "annotations", kRebootRequired}) != "true") continue;
      acquire(sim, *ds, n, now);
      return;  // one node at a time
    }
  }

 private:
  static void acquire(Simulation& sim, const value& ds, const value& node, kube::TimePoint now) {
    value lock = value::object();
    lock["nodeID"] = value::string(json::name(node));
    lock["metadata"]["unschedulable"] = value::boolean(flag(node, {"spec", "unschedulable"}));
    lock["created"] = value::string(now_text(now));
    lock["TTL"] = value::number(0);
    value p = value::object();
    p["metadata"]["annotations"][kKuredLockAnnotation] = value::string(lock.serialize());
    p["metadata"]["resourceVersion"] = value::string(str(ds, {"metadata", "resourceVersion"}));
    sim.patch(object_path("apps/v1", "daemonsets", kKuredNamespace, kKuredDaemonSet), p);
  }

  void reboot(Simulation& sim, const Snapshot& snap, const value& ds, const value& node, bool was_unschedulable,
              kube::TimePoint now) {
    const auto n = json::name(node);
    const auto boot = str(node, {"status", "nodeInfo", "bootID"});
    auto& st = state_[n];
    if (st.phase == Phase::kNone) {
      st.phase = Phase::kDraining;
      value p = value::object();
      p["spec"]["unschedulable"] = value::boolean(true);
      sim.patch(object_path("v1", "nodes", "", n), p);
      return;
    }
    if (st.phase == Phase::kDraining) {
      if (!flag(node, {"spec", "unschedulable"})) return;  // the cordon not seen yet
      if (evict_node_pods(sim, snap, n) > 0) return;
      st.phase = Phase::kRebooting;
      st.boot_before = boot;
      value p = value::object();
      p["metadata"]["annotations"][kRebootRequest] = value::string(now_text(now));
      sim.patch(object_path("v1", "nodes", "", n), p);
      return;
    }
    // Rebooting: back when Ready with a new boot.
    if (boot == st.boot_before || !condition_true(node, "Ready")) return;
    value p = value::object();
    p["metadata"]["annotations"][kRebootRequired] = value::null();
    p["metadata"]["annotations"][kRebootRequest] = value::null();
    if (!was_unschedulable) p["spec"]["unschedulable"] = value::null();
    sim.patch(object_path("v1", "nodes", "", n), p);
    value release = value::object();
    release["metadata"]["annotations"][kKuredLockAnnotation] = value::null();
    release["metadata"]["resourceVersion"] = value::string(str(ds, {"metadata", "resourceVersion"}));
    if (sim.patch(object_path("apps/v1", "daemonsets", kKuredNamespace, kKuredDaemonSet), release)) state_.erase(n);
  }

  enum class Phase { kNone, kDraining, kRebooting };
  struct NodeReboot {
    Phase phase = Phase::kNone;
    std::string boot_before;
  };
  KuredSpec spec_;
  std::optional<kube::TimePoint> next_check_;
  std::map<std::string, NodeReboot> state_;
};

}  // namespace

std::unique_ptr<SimController> make_kured(const KuredSpec& spec) { return std::make_unique<Kured>(spec); }

}  // namespace nonevent::sim
