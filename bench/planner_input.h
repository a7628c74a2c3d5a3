#pragma once
// The bench cluster as the planner sees it: every node, pod and PDB decoded from the store into
// the compact model, and the nodes of one zone as the set to drain. Header-only: benchmarks are
// single-file programs.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "model/codecs.h"
#include "sim/object_store.h"

namespace nonevent::bench {

struct PlannerInput {
  std::vector<const model::Node*> nodes;
  std::vector<const model::Pod*> pods;
  std::vector<const model::PodDisruptionBudget*> pdbs;
  std::set<std::string> drained;  // the zone's nodes
  // Owners of what the pointers above point at.
  std::vector<std::shared_ptr<const model::Node>> node_objs;
  std::vector<std::shared_ptr<const model::Pod>> pod_objs;
  std::vector<std::shared_ptr<const model::PodDisruptionBudget>> pdb_objs;
};

inline PlannerInput planner_input(sim::ObjectStore& store, const std::string& zone) {
  PlannerInput in;
  // (Each list held in a variable: a range-for over a temporary's member would dangle.)
  const auto listed_nodes = store.list({.resource = "/nodes"}, 0, "");
  const auto listed_pods = store.list({.resource = "/pods"}, 0, "");
  const auto listed_pdbs = store.list({.resource = "policy/poddisruptionbudgets"}, 0, "");
  for (const auto& o : listed_nodes.value().items)
    if (auto d = model::CodecFor<model::Node>::decode(o->json); d.ok()) in.node_objs.push_back(d.value());
  for (const auto& o : listed_pods.value().items)
    if (auto d = model::CodecFor<model::Pod>::decode(o->json); d.ok()) in.pod_objs.push_back(d.value());
  for (const auto& o : listed_pdbs.value().items)
    if (auto d = model::CodecFor<model::PodDisruptionBudget>::decode(o->json); d.ok()) in.pdb_objs.push_back(d.value());
  for (const auto& n : in.node_objs) {
    in.nodes.push_back(n.get());
    if (const auto* z = model::find_label(n->meta.label_set(), "topology.kubernetes.io/zone"); z && z->str() == zone)
      in.drained.insert(n->meta.name);
  }
  for (const auto& p : in.pod_objs) in.pods.push_back(p.get());
  for (const auto& b : in.pdb_objs) in.pdbs.push_back(b.get());
  return in;
}

}  // namespace nonevent::bench
