#pragma once
// What a rehearsal saw, minute by minute (issue 30): the embedded cluster's changes taken from
// its storage as they happen (watches, so the cost follows the changes, not the cluster's
// size), folded into the timeline the report prints: the rehearsed resource's phases, each
// zone's cordon and emptying, every workload's Ready replicas per zone over time and its
// minimum, PodDisruptionBudget waits and breaches, pods left Pending and why, node states,
// and for a campaign each node's claim to release.
#include <cpprest/json.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "sim/object_store.h"

namespace nonevent::rehearse {

class Recorder {
 public:
  // `kind` and `name`: the rehearsed MaintenanceWindow or PatchCampaign. `start`: time zero.
  Recorder(sim::ObjectStore& store, std::string kind, std::string name, kube::TimePoint start);

  // Takes every change the store made since the last call (the watches' queues must be drained
  // for the store to count as settled) and records the state at `now`.
  void take_changes();
  void sample(kube::TimePoint now);

  // The rehearsed resource as last seen (null before it exists).
  const web::json::value& resource() const { return resource_; }
  std::string phase() const;
  int pods_pending() const;
  // Every workload back at the Ready replicas it had before the first disruption and no pod
  // Pending: what a rehearsal waits for after its resource is done (a rebalancing eviction's
  // replacement starting, say) before it judges.
  bool settled() const;
  // The last time a pod or a node changed in a way the timeline shows (a rehearsal that sees
  // nothing move for long has stalled: a drain waiting on a pod that will never leave).
  kube::TimePoint last_movement() const { return last_movement_; }

  // Problems that make the rehearsal fail (exit 3), each naming what and when; empty: clean.
  std::vector<std::string> problems(kube::TimePoint end, kube::Duration pending_limit) const;
  // The timeline as data (`-o json`, the HTML report's input). Deterministic for the same run.
  web::json::value to_json(kube::TimePoint end, kube::Duration pending_limit) const;

 private:
  struct PodState {
    std::string key, workload, node, zone, reason;  // reason: why it is unschedulable
    bool ready = false, pending = false, terminating = false, daemon = false;
    kube::TimePoint pending_since{};
  };
  struct Interval {
    std::string what, detail;
    kube::TimePoint from{}, to{};
    bool open = true;
  };
  // One followed resource: listed, then watched from the list's version; relisted when the
  // watch falls too far behind (a step of a 5,000-node evacuation makes more than the 100,000
  // events a watch queues) or at the start (150,000 pods as synthetic ADDED events would be).
  struct Followed {
    std::string resource;
    void (Recorder::*take)(sim::ChangeType, const sim::StoredObject&);
    void (Recorder::*forget)();  // before a relist: drop what was taken from it
    std::shared_ptr<sim::Watch> watch;
  };
  void follow(Followed& f);
  void drain(Followed& f);
  void forget_pods();
  void forget_nodes() { nodes_by_name_.clear(); }
  void forget_pdbs() { pdbs_by_key_.clear(); }
  void forget_nothing() {}
  void take_replica_set(sim::ChangeType type, const sim::StoredObject& o);
  void take_named_resource(sim::ChangeType type, const sim::StoredObject& o);
  void take_pod(sim::ChangeType type, const sim::StoredObject& o);
  void take_node(sim::ChangeType type, const sim::StoredObject& o);
  void take_pdb(sim::ChangeType type, const sim::StoredObject& o);
  void take_resource(const sim::StoredObject& o);
  void count_pod(const PodState& p, int sign);
  double at_s(kube::TimePoint t) const;

  sim::ObjectStore& store_;
  std::string kind_, name_;
  kube::TimePoint start_, now_;
  std::vector<Followed> followed_;  // in the order changes are taken: owners, nodes, pods, PDBs, the resource

  web::json::value resource_ = web::json::value::null();
  std::vector<std::pair<kube::TimePoint, std::string>> phases_;  // phase (and reason) changes

  std::map<std::string, std::string> replica_set_owner_;  // "ns/rs" → Deployment name
  struct NodeState {
    std::string zone;
    bool ready = false, cordoned = false;
    std::string claimed_by, claimed_at, version;
  };
  std::map<std::string, NodeState> nodes_by_name_;
  std::map<std::string, PodState> pods_by_key_;
  // Ready pods per workload and zone, kept as pods change; their samples over time.
  std::map<std::string, std::map<std::string, int>> ready_;
  std::map<std::string, int> replicas_;  // pods a workload has that are not terminating
  std::map<std::string, std::vector<std::pair<kube::TimePoint, std::map<std::string, int>>>> series_;
  std::map<std::string, std::pair<int, kube::TimePoint>> min_ready_;  // workload → (min Ready, first time)
  // Workload → its Ready replicas before the first disruption (the most seen until then: a
  // snapshot may catch a pod still starting); the minimum counts only from that disruption on.
  std::map<std::string, int> full_ready_;
  bool disrupted_ = false;
  kube::TimePoint last_movement_{};
  std::vector<std::pair<kube::TimePoint, std::map<std::string, int>>> node_states_;
  // Zones: when all their nodes were first cordoned, then first held no evictable pod.
  std::map<std::string, kube::TimePoint> zone_cordoned_, zone_empty_;
  struct PdbState {
    int healthy = 0, desired = 0, expected = 0, allowed = 0;
  };
  std::map<std::string, PdbState> pdbs_by_key_;
  std::map<std::string, Interval> pdb_waiting_;  // open waits by PDB
  std::vector<Interval> pdb_waits_, pdb_breaches_, pending_;
  std::map<std::string, Interval> pdb_breaching_;
  std::map<std::string, Interval> pending_open_;  // by pod key
  // A campaign's nodes: claim to release.
  std::map<std::string, Interval> claims_open_;
  std::vector<Interval> claims_;
};

}  // namespace nonevent::rehearse
