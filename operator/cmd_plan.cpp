// `nonevent plan -f window-or-campaign.yaml (--kubeconfig F | --snapshot F) [-o table|json]`:
// the preflight of design section 4, touching nothing. Exit 0 when nothing blocks, 3 when
// the plan has blockers (so a pipeline can stop before applying), 1 on errors.
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "commands.h"
#include "controllers/campaign_spec.h"
#include "controllers/other_disruptors.h"
#include "controllers/resource_status.h"
#include "controllers/window_spec.h"
#include "flags.h"
#include "kube/rest_client.h"
#include "kube/rest_config.h"
#include "model/codecs.h"
#include "planner/drain_prediction.h"
#include "planner/campaign_projection.h"
#include "planner/preflight.h"
#include "sim/yaml_json.h"

namespace nonevent::cli {

using web::json::value;

namespace {

struct Cluster {
  std::vector<std::shared_ptr<const model::Node>> nodes;
  std::vector<std::shared_ptr<const model::Pod>> pods;
  std::vector<std::shared_ptr<const model::PodDisruptionBudget>> pdbs;
  // What other disruptors hold (other_disruptors.h): NodeMaintenance CRs and kured's lock.
  std::vector<std::shared_ptr<const model::GenericObject>> node_maintenances;
  std::vector<controllers::KuredLock> kured_locks;
  controllers::OtherHolds others() const { return controllers::other_holds(nodes, node_maintenances, kured_locks); }
  std::vector<const model::Node*> node_ptrs() const {
    std::vector<const model::Node*> v;
    for (const auto& n : nodes) v.push_back(n.get());
    return v;
  }
  std::vector<const model::Pod*> pod_ptrs() const {
    std::vector<const model::Pod*> v;
    for (const auto& p : pods) v.push_back(p.get());
    return v;
  }
  std::vector<const model::PodDisruptionBudget*> pdb_ptrs() const {
    std::vector<const model::PodDisruptionBudget*> v;
    for (const auto& p : pdbs) v.push_back(p.get());
    return v;
  }
};

template <class T>
void add(std::vector<std::shared_ptr<const T>>& out, const value& obj, const std::string& origin) {
  auto r = model::CodecFor<T>::decode(obj.serialize());
  if (!r.ok()) throw UsageError(origin + ": cannot read a " + obj.at("kind").as_string() + ": " + r.error().to_string());
  out.push_back(r.value());
}

// `kubectl get nodes,pods,pdb -A -o yaml` (a List) or several documents.
Cluster from_snapshot(const std::string& path) {
  Cluster c;
  std::function<void(const value&)> take = [&](const value& o) {
    if (!o.is_object() || !o.has_field("kind")) return;
    const auto kind = o.at("kind").as_string();
    if (o.has_field("items") && o.at("items").is_array()) {
      for (const auto& i : o.at("items").as_array()) take(i);
    } else if (kind == "Node") add(c.nodes, o, path);
    else if (kind == "Pod") add(c.pods, o, path);
    else if (kind == "PodDisruptionBudget") add(c.pdbs, o, path);
    else if (kind == "NodeMaintenance") add(c.node_maintenances, o, path);
    else if (kind == "DaemonSet" && o.serialize().find(controllers::kKuredLockAnnotation) != std::string::npos) {
      std::vector<std::shared_ptr<const model::GenericObject>> ds;
      add(ds, o, path);
      c.kured_locks.push_back(controllers::read_kured_lock(*ds.front()));
    }
  };
  for (const auto& d : sim::parse_yaml_documents(read_file(path))) take(d);
  if (c.nodes.empty()) throw UsageError(path + ": no Node in the snapshot (kubectl get nodes,pods,pdb -A -o yaml > " + path + ")");
  // A thin snapshot plans as if the missing kinds did not exist: say so.
  if (c.pods.empty())
    std::fprintf(stderr, "warning: %s has no Pod: nothing would be moved (kubectl get nodes,pods,pdb -A -o yaml)\n", path.c_str());
  if (c.pdbs.empty())
    std::fprintf(stderr, "warning: %s has no PodDisruptionBudget: no budget is checked (include pdb in the kubectl get)\n", path.c_str());
  return c;
}

template <class T>
void list_all(kube::RestClient& client, const kube::GroupVersionResource& gvr, std::vector<std::shared_ptr<const T>>& out) {
  kube::ListOptions opts;
  opts.limit = 500;
  do {
    auto r = client.list(gvr, "", opts);
    if (!r.ok()) throw std::runtime_error("list " + gvr.resource + ": " + r.error().to_string());
    auto page = model::CodecFor<T>::decode_list(r.value());
    if (!page.ok()) throw std::runtime_error("decode " + gvr.resource + ": " + page.error().to_string());
    for (auto& i : page.value().items) out.push_back(i);
    opts.continue_token = page.value().continue_token;
  } while (!opts.continue_token.empty());
}

Cluster from_cluster(const KubeconfigFlags& f) {
  auto config = kube::load_default_config({.kubeconfig_path = f.kubeconfig, .context = f.context});
  auto client = kube::make_rest_client(config);
  Cluster c;
  list_all(*client, kube::resources::nodes(), c.nodes);
  list_all(*client, kube::resources::pods(), c.pods);
  list_all(*client, kube::resources::pod_disruption_budgets(), c.pdbs);
  // The other disruptors' marks, where the cluster has them (no NodeMaintenance type and no
  // kured are the common case, not errors).
  try {
    list_all(*client, kube::resources::node_maintenances(), c.node_maintenances);
  } catch (const std::runtime_error&) {
  }
  // Listed by name, as the operator watches it (what the chart's RBAC grants).
  kube::ListOptions kured;
  kured.field_selector = "metadata.name=kured";
  if (auto ds = client->list(kube::resources::daemon_sets(), "kube-system", kured); ds.ok())
    if (auto list = model::CodecFor<model::GenericObject>::decode_list(ds.value()); list.ok())
      for (const auto& d : list.value().items) c.kured_locks.push_back(controllers::read_kured_lock(*d));
  return c;
}

std::string fmt_duration(double s) {
  char buf[32];
  if (s < 120) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 7200) std::snprintf(buf, sizeof buf, "%.0fm", s / 60);
  else std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
  return buf;
}

value to_json(const planner::Preflight& p) {
  value o = value::object();
  o["nodes"] = value::number(p.nodes);
  o["podsToEvict"] = value::number(p.pods_to_evict);
  o["lowerBoundSeconds"] = value::number(p.lower_bound_seconds);
  o["blockers"] = controllers::blockers_json(p.blockers, p.blockers.size());
  o["bindingPDBs"] = value::array();
  for (size_t i = 0; i < p.binding_pdbs.size(); ++i) o["bindingPDBs"][i] = value::string(p.binding_pdbs[i]);
  o["movedByDeployment"] = value::array();
  for (size_t i = 0; i < p.moved_by_deployment.size(); ++i) o["movedByDeployment"][i] = value::string(p.moved_by_deployment[i]);
  o["workloads"] = value::array();
  for (size_t i = 0; i < p.workloads.size(); ++i) {
    const auto& w = p.workloads[i];
    value x = value::object();
    x["namespace"] = value::string(w.ns);
    x["workload"] = value::string(w.workload);
    for (const auto& [z, k] : w.before) x["before"][z] = value::number(k);
    for (const auto& [z, k] : w.after) x["after"][z] = value::number(k);
    if (w.max_skew >= 0) x["maxSkew"] = value::number(w.max_skew);
    x["skewAfter"] = value::number(w.skew_after);
    x["pendingAfter"] = value::number(w.pending_after);
    o["workloads"][i] = x;
  }
  return o;
}

void print_preflight(const planner::Preflight& p, const std::vector<std::string>& zones) {
  std::printf("\nBLOCKERS (%zu)\n", p.blockers.size());
  if (p.blockers.empty()) std::printf("  none\n");
  for (const auto& b : p.blockers)
    std::printf("  %-20s %-40s %-13s %s\n", b.kind.c_str(), ((b.ns.empty() ? "" : b.ns + "/") + b.name).c_str(), b.reason.c_str(),
                b.message.c_str());
  if (!p.binding_pdbs.empty()) {
    std::printf("\nPDBs THAT SET THE PACE\n");
    for (const auto& s : p.binding_pdbs) std::printf("  %s\n", s.c_str());
  }
  if (!p.moved_by_deployment.empty()) {
    std::printf("\nMOVED BY THEIR DEPLOYMENT (drain.rollout)\n");
    for (const auto& s : p.moved_by_deployment) std::printf("  %s\n", s.c_str());
  }
  std::printf("\nREPLICAS PER ZONE (before -> after)\n  %-34s", "WORKLOAD");
  for (const auto& z : zones) std::printf(" %14s", z.c_str());
  std::printf("  SKEW  MAXSKEW  PENDING\n");
  for (const auto& w : p.workloads) {
    std::printf("  %-34s", (w.ns + "/" + w.workload).substr(0, 34).c_str());
    for (const auto& z : zones) {
      const int b = w.before.count(z) ? w.before.at(z) : 0, a = w.after.count(z) ? w.after.at(z) : 0;
      std::printf(" %14s", (std::to_string(b) + " -> " + std::to_string(a)).c_str());
    }
    std::printf("  %4d  %7s  %7d%s\n", w.skew_after, w.max_skew >= 0 ? std::to_string(w.max_skew).c_str() : "-", w.pending_after,
                w.max_skew >= 0 && w.skew_after > w.max_skew ? "  skew above maxSkew" : "");
  }
}

// Nodes other disruptors hold among `nodes` (names), for both plans.
void print_held(const controllers::OtherHolds& held, const std::string& effect) {
  if (held.empty()) return;
  std::printf("\nHELD BY OTHER DISRUPTORS (%zu): %s\n", held.size(), effect.c_str());
  for (const auto& [node, h] : held) std::printf("  %-24s %-26s %s\n", node.c_str(), h.holder.c_str(), h.reason.c_str());
}
value held_json(const controllers::OtherHolds& held) {
  value out = value::array();
  for (const auto& [node, h] : held) {
    value o = value::object();
    o["node"] = value::string(node);
    o["holder"] = value::string(h.holder);
    o["reason"] = value::string(h.reason);
    out[out.size()] = o;
  }
  return out;
}

std::vector<std::string> all_zones(const Cluster& c, const std::string& zone_label) {
  std::set<std::string> zs;
  for (const auto& n : c.nodes)
    if (const auto* z = model::find_label(n->meta.label_set(), zone_label)) zs.insert(z->str());
  return {zs.begin(), zs.end()};
}

// Whether every zone the spec names has a node; if not, says which (the operator's
// UnknownZone / InvalidSpec, before anything is planned).
bool zones_exist(const std::vector<std::string>& wanted, const std::vector<std::string>& present, const std::string& label) {
  for (const auto& z : wanted)
    if (std::find(present.begin(), present.end(), z) == present.end()) {
      std::string list;
      for (const auto& x : present) list += " " + x;
      std::fprintf(stderr, "error: spec.zones: no node has %s=%s (zones:%s)\n", label.c_str(), z.c_str(), list.c_str());
      return false;
    }
  return true;
}

int plan_window(const value& obj, const Cluster& c, bool json_out) {
  auto parsed = controllers::parse_window_spec(obj.has_field("spec") ? obj.at("spec") : value::null());
  if (!parsed.spec) {
    for (const auto& p : parsed.problems) std::fprintf(stderr, "error: %s\n", p.c_str());
    return 1;
  }
  auto w = *parsed.spec;
  const auto now = kube::real_clock()->now();
  if (!w.resolve(now)) {
    std::fprintf(stderr, "error: spec.schedule: no occurrence in the next five years\n");
    return 1;
  }
  if (now >= w.end) {
    // A one-off window in the past: the operator would mark it Missed and touch nothing.
    const auto name = obj.at("metadata").at("name").as_string();
    if (json_out) {
      value o = value::object();
      o["kind"] = value::string("MaintenanceWindow");
      o["name"] = value::string(name);
      o["over"] = value::boolean(true);
      o["windowEnd"] = value::string(kube::format_rfc3339(w.end));
      std::printf("%s\n", o.serialize().c_str());
    } else {
      std::printf("MaintenanceWindow %s: the window is over (it ended %s): nothing would be done; move spec.start and spec.end\n",
                  name.c_str(), kube::format_rfc3339(w.end).c_str());
    }
    return 3;
  }
  std::set<std::string> drained;
  const auto zones = all_zones(c, w.zone_label);
  if (!zones_exist(w.zones, zones, w.zone_label)) return 1;
  for (const auto& n : c.nodes)
    if (const auto* z = model::find_label(n->meta.label_set(), w.zone_label);
        z && std::find(w.zones.begin(), w.zones.end(), z->str()) != w.zones.end())
      drained.insert(n->meta.name);
  // Held by a tool that drains them itself: the window leaves them to it (a plain cordon it
  // still drains).
  controllers::OtherHolds held;
  for (const auto& [node, h] : c.others())
    if (drained.count(node) && h.by_tool()) held.emplace(node, h);
  planner::PreflightPolicy pol{.evict_unmanaged_pods = w.drain.evict_unmanaged_pods, .delete_empty_dir_data = w.drain.delete_empty_dir_data,
                               .rollout_when_blocked = w.drain.rollout.when == "WhenBlocked"};
  auto p = planner::preflight(c.node_ptrs(), c.pod_ptrs(), c.pdb_ptrs(), drained, w.zone_label, pol);
  const double window_s = std::chrono::duration<double>(w.evacuate_before).count();
  const int remaining_zones = static_cast<int>(zones.size() - w.zones.size());
  if (remaining_zones < w.min_available_zones)
    p.blockers.push_back({"Zone", "", "", "MinAvailableZones",
                          "evacuating leaves " + std::to_string(remaining_zones) + " zone(s), below safety.minAvailableZones " +
                              std::to_string(w.min_available_zones)});
  if (json_out) {
    value o = to_json(p);
    o["kind"] = value::string("MaintenanceWindow");
    o["name"] = obj.at("metadata").at("name");
    o["fitsEvacuateBefore"] = value::boolean(p.lower_bound_seconds <= window_s);
    o["heldByOthers"] = held_json(held);
    std::printf("%s\n", o.serialize().c_str());
  } else {
    std::printf("MaintenanceWindow %s: %zu zone(s), %d node(s), %d pod(s) to move\n",
                obj.at("metadata").at("name").as_string().c_str(), w.zones.size(), p.nodes, p.pods_to_evict);
    std::printf("Evacuation starts %s (evacuateBefore %s before the window); lower bound %s: %s\n",
                kube::format_rfc3339(w.evacuation_start()).c_str(), fmt_duration(window_s).c_str(),
                fmt_duration(p.lower_bound_seconds).c_str(), p.lower_bound_seconds <= window_s ? "fits" : "does NOT fit");
    print_preflight(p, zones);
    print_held(held, "not claimed: their holder drains them, and nonevent never uncordons them");
  }
  return p.ok() ? 0 : 3;
}

// spec.schedule: the projection laid into the schedule's open time from now (as the
// controller's ETA is), each batch's start, and whether the end comes before the deadline.
struct ScheduledPlan {
  value json = value::object();
  std::string text;
  bool fits = true;
};
ScheduledPlan plan_schedule(const controllers::CampaignSchedule& sched, const value& batches, double projected, double deadline) {
  ScheduledPlan out;
  const auto now = kube::real_clock()->now();
  auto secs = [](double x) { return std::chrono::duration_cast<kube::Duration>(std::chrono::duration<double>(x)); };
  const auto end = sched.finish_after(now, secs(projected));
  const auto due = now + secs(deadline);
  out.fits = end && *end <= due;
  const double open_s = std::chrono::duration<double>(sched.open_time(now, due)).count();
  std::ostringstream t;
  t << "\nSCHEDULE (" << sched.time_zone() << "): batches start only inside an allowed slot and outside every blackout\n";
  const double per_batch = batches.size() > 0 ? projected / static_cast<double>(batches.size()) : 0;
  value starts = value::array();
  for (size_t i = 0; i < batches.size(); ++i) {
    auto at = sched.finish_after(now, secs(per_batch * static_cast<double>(i)));
    if (at) {
      const auto g = sched.gate(*at);
      if (!g.open) at = g.opens_at;
    }
    const std::string when = at ? kube::format_rfc3339(*at) : "not within five years";
    starts[i] = value::string(when);
    if (i < 50) t << "  batch " << (i + 1) << "  " << batches.at(i).at("zone").as_string() << "  starts " << when << "\n";
    else if (i == 50) t << "  ... " << (batches.size() - 50) << " more\n";
  }
  for (const auto& b : sched.blackouts())
    if (b.end > now) t << "  blackout " << kube::format_rfc3339(b.start) << " to " << kube::format_rfc3339(b.end) << (b.reason.empty() ? "" : "  " + b.reason) << "\n";
  t << "Inside the schedule it ends about " << (end ? kube::format_rfc3339(*end) : std::string("never (the schedule does not open enough)"))
    << " against the deadline " << kube::format_rfc3339(due) << " (" << fmt_duration(open_s) << " of open time before it): "
    << (out.fits ? "fits" : "does NOT fit") << "\n";
  out.text = t.str();
  out.json["timeZone"] = value::string(sched.time_zone());
  out.json["batchStarts"] = starts;
  if (end) out.json["projectedEnd"] = value::string(kube::format_rfc3339(*end));
  out.json["deadline"] = value::string(kube::format_rfc3339(due));
  out.json["openSecondsBeforeDeadline"] = value::number(open_s);
  out.json["fitsDeadline"] = value::boolean(out.fits);
  return out;
}

int plan_campaign(const value& obj, const Cluster& c, bool json_out, double batch_seconds) {
  auto parsed = controllers::parse_campaign_spec(obj.has_field("spec") ? obj.at("spec") : value::null());
  if (!parsed.spec) {
    for (const auto& p : parsed.problems) std::fprintf(stderr, "error: %s\n", p.c_str());
    return 1;
  }
  const auto& s = *parsed.spec;
  if (!zones_exist(s.zones, all_zones(c, s.zone_label), s.zone_label)) return 1;
  auto zones = s.zones.empty() ? all_zones(c, s.zone_label) : s.zones;
  std::map<std::string, std::vector<const model::Node*>> todo;
  std::map<std::string, int> total, held_in;
  const auto others = c.others();
  controllers::OtherHolds held;
  for (const auto& n : c.nodes) {
    const auto* z = model::find_label(n->meta.label_set(), s.zone_label);
    if (!z || !s.selects(*n)) continue;
    ++total[z->str()];
    if (auto h = others.find(n->meta.name); h != others.end()) {
      held.insert(*h);
      ++held_in[z->str()];
    }
    if (s.reported_version(*n) != s.version) todo[z->str()].push_back(n.get());
  }
  planner::PreflightPolicy pol{.evict_unmanaged_pods = s.drain.evict_unmanaged_pods, .delete_empty_dir_data = s.drain.delete_empty_dir_data,
                               .rollout_when_blocked = s.drain.rollout.when == "WhenBlocked"};
  planner::Preflight all;
  std::set<std::string> seen;
  value batches_json = value::array();
  int batches = 0;
  std::vector<planner::ZoneWork> work;  // the ETA: the controller's projection, fed the fresh fleet
  if (!json_out) std::printf("PatchCampaign %s: target %s (%s), strategy %s\n\nBATCHES\n", obj.at("metadata").at("name").as_string().c_str(),
                             s.version.c_str(), s.source.c_str(), controllers::to_string(s.strategy));
  bool canary = s.canary_nodes > 0;
  for (const auto& z : zones) {
    auto& nodes = todo[z];
    // As the controller orders them: nodes whose drain would meet a pod the policy will not
    // evict go last, then by name.
    std::map<std::string, bool> blocked;
    for (const auto& p : c.pods)
      if (planner::evicted_by_drain(*p) && !planner::policy_blocker(*p, pol).empty()) blocked[p->node_name.str()] = true;
    // Nodes another disruptor holds last of all: the campaign waits for them to be let go.
    std::sort(nodes.begin(), nodes.end(), [&](auto* a, auto* b) {
      return std::tuple(others.count(a->meta.name), blocked[a->meta.name], a->meta.name) <
             std::tuple(others.count(b->meta.name), blocked[b->meta.name], b->meta.name);
    });
    // Nodes in flight at once: maxUnavailable plus, for Replace, maxSurge (surge nodes go
    // once their new node is there; the preflight below does not count that new capacity,
    // so it is the stricter check).
    // Held nodes are out of service: they take their share of maxUnavailable (at least one
    // slot is assumed free, as the controller's projection does: they are let go eventually).
    const int size = std::max(1, s.nodes_at_once_in(total[z]) - held_in[z]);
    work.push_back({.nodes = static_cast<int>(nodes.size()), .budget = size});
    for (size_t i = 0; i < nodes.size();) {
      const size_t n = canary ? std::min<size_t>(s.canary_nodes, size) : size;
      std::set<std::string> batch;
      for (size_t k = 0; k < n && i < nodes.size(); ++k, ++i) batch.insert(nodes[i]->meta.name);
      auto p = planner::preflight(c.node_ptrs(), c.pod_ptrs(), c.pdb_ptrs(), batch, s.zone_label, pol);
      for (auto& b : p.blockers)
        if (seen.insert(b.kind + b.ns + b.name + b.reason).second) all.blockers.push_back(b);
      for (auto& m : p.moved_by_deployment)
        if (seen.insert("moved " + m).second) all.moved_by_deployment.push_back(m);
      value bj = value::object();
      bj["zone"] = value::string(z);
      size_t k = 0;
      for (const auto& name : batch) bj["nodes"][k++] = value::string(name);
      bj["canary"] = value::boolean(canary);
      bj["blockers"] = value::number(static_cast<int64_t>(p.blockers.size()));
      batches_json[batches_json.size()] = bj;
      if (!json_out) {
        std::printf("  %-12s %s%zu node(s):", z.c_str(), canary ? "canary " : "", batch.size());
        for (const auto& name : batch) std::printf(" %s", name.c_str());
        std::printf("%s\n", p.blockers.empty() ? "" : ("  (" + std::to_string(p.blockers.size()) + " blocker(s))").c_str());
      }
      ++batches;
      canary = false;
    }
  }
  // A node takes a batch's time (a batch takes as long as its slowest node).
  const double projected = planner::campaign_seconds_left(
      work, {.batch_s = batch_seconds, .node_s = batch_seconds, .batch_soak_s = std::chrono::duration<double>(s.batch_soak).count(),
             .canary_soak_s = std::chrono::duration<double>(s.canary_soak).count(), .canary_pending = s.canary_nodes > 0,
             .zones_in_parallel = s.zones_in_parallel});
  const double deadline = std::chrono::duration<double>(s.deadline).count();
  std::optional<ScheduledPlan> scheduled;
  if (s.schedule) scheduled = plan_schedule(*s.schedule, batches_json, projected, deadline);
  if (json_out) {
    value o = value::object();
    o["kind"] = value::string("PatchCampaign");
    o["name"] = obj.at("metadata").at("name");
    o["batches"] = batches_json;
    o["projectedSeconds"] = value::number(projected);
    o["deadlineSeconds"] = value::number(deadline);
    o["fitsDeadline"] = value::boolean(projected <= deadline);
    o["blockers"] = to_json(all).at("blockers");
    o["movedByDeployment"] = to_json(all).at("movedByDeployment");
    o["heldByOthers"] = held_json(held);
    if (scheduled) o["schedule"] = scheduled->json;
    std::printf("%s\n", o.serialize().c_str());
  } else {
    std::printf("\n%d batch(es); at %s per batch the campaign takes about %s against a deadline of %s: %s\n", batches,
                fmt_duration(batch_seconds).c_str(), fmt_duration(projected).c_str(), fmt_duration(deadline).c_str(),
                projected <= deadline ? "fits" : "does NOT fit");
    if (scheduled) std::printf("%s", scheduled->text.c_str());
    std::printf("\nBLOCKERS (%zu)\n", all.blockers.size());
    if (all.blockers.empty()) std::printf("  none\n");
    for (const auto& b : all.blockers)
      std::printf("  %-20s %-40s %-13s %s\n", b.kind.c_str(), ((b.ns.empty() ? "" : b.ns + "/") + b.name).c_str(), b.reason.c_str(),
                  b.message.c_str());
    if (!all.moved_by_deployment.empty()) {
      std::printf("\nMOVED BY THEIR DEPLOYMENT (drain.rollout)\n");
      for (const auto& m : all.moved_by_deployment) std::printf("  %s\n", m.c_str());
    }
    print_held(held, "out of service: they count against their zone's maxUnavailable, are patched last, and the campaign "
                     "waits for them to be let go");
  }
  return all.blockers.empty() ? 0 : 3;
}

}  // namespace

namespace {

struct PlanFlags {
  std::string file, snapshot, output = "table", batch_duration = "10m";
  KubeconfigFlags kube;
};

// The object's name, or a UsageError naming the field.
std::string name_of(const value& obj, const std::string& origin) {
  const value* meta = obj.has_field("metadata") ? &obj.at("metadata") : nullptr;
  if (!meta || !meta->is_object() || !meta->has_field("name")) throw UsageError(origin + ": metadata.name: required");
  if (!meta->at("name").is_string() || meta->at("name").as_string().empty())
    throw UsageError(origin + ": metadata.name: must be a non-empty string");
  return meta->at("name").as_string();
}

int plan(const PlanFlags& f) {
  const double batch_seconds = positive_seconds("--batch-duration", f.batch_duration);
  const std::string origin = f.file == "-" ? "standard input" : f.file;
  auto docs = sim::parse_yaml_documents(read_file(f.file));
  if (docs.empty()) throw UsageError(origin + ": no Kubernetes object in it");
  // Every document is checked before anything is read from the cluster.
  for (size_t i = 0; i < docs.size(); ++i) {
    const std::string where = origin + (docs.size() > 1 ? " (document " + std::to_string(i + 1) + ")" : "");
    if (!docs[i].is_object() || !docs[i].has_field("kind") || !docs[i].at("kind").is_string())
      throw UsageError(where + ": kind: required (MaintenanceWindow or PatchCampaign)");
    const auto kind = docs[i].at("kind").as_string();
    if (kind != "MaintenanceWindow" && kind != "PatchCampaign")
      throw UsageError(where + ": kind " + kind + " is not MaintenanceWindow or PatchCampaign");
    name_of(docs[i], where);
  }
  const Cluster cluster = !f.snapshot.empty() ? from_snapshot(f.snapshot) : from_cluster(f.kube);
  int rc = 0;
  bool invalid = false;  // exit 1 (a spec that is wrong) outranks 3 (something blocks)
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i > 0 && f.output == "table") std::printf("\n---\n\n");
    const auto kind = docs[i].at("kind").as_string();
    const int r = kind == "MaintenanceWindow" ? plan_window(docs[i], cluster, f.output == "json")
                                              : plan_campaign(docs[i], cluster, f.output == "json", batch_seconds);
    if (r == 1) invalid = true;
    else rc = std::max(rc, r);
  }
  return invalid ? 1 : rc;
}

}  // namespace

void add_plan(CLI::App& root, Run& run) {
  auto* app = root.add_subcommand("plan", "preflight MaintenanceWindows and PatchCampaigns, touching nothing (exit 3: something blocks)");
  auto f = std::make_shared<PlanFlags>();
  app->add_option("-f,--filename", f->file, "the manifest: one or more MaintenanceWindow or PatchCampaign documents; - for standard input")
      ->required();
  add_kubeconfig_flags(*app, f->kube);
  app->add_option("--snapshot", f->snapshot, "plan against `kubectl get nodes,pods,pdb -A -o yaml` output instead of a cluster");
  app->add_option("-o,--output", f->output, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  app->add_option("--batch-duration", f->batch_duration, "how long one campaign batch takes, for the projection")->capture_default_str();
  app->callback([f, &run] { run = [f] { return plan(*f); }; });
}

}  // namespace nonevent::cli
