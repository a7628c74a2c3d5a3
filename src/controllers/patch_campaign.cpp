#include "controllers/patch_campaign.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "controllers/campaign_spec.h"
#include "controllers/resource_status.h"
#include "controllers/surge_capacity.h"
#include "controllers/window_spec.h"
#include "model/indexers.h"
#include "planner/drain_prediction.h"

namespace nonevent::controllers {

using kube::PatchType;
using web::json::value;
using NodePtr = std::shared_ptr<const model::Node>;

namespace {

const kube::GroupVersionResource kCampaigns = kube::resources::patch_campaigns();

double seconds(kube::Duration d) { return std::chrono::duration<double>(d).count(); }
kube::Duration from_seconds(double s) {
  return std::chrono::duration_cast<kube::Duration>(std::chrono::duration<double>(s));
}

std::optional<kube::TimePoint> annotation_time(const model::Node& n, const char* key) {
  const auto* a = n.annotation(key);
  return a ? kube::parse_rfc3339(*a) : std::nullopt;
}

const value& field(const value& v, const char* k) {
  static const value null = value::null();
  return v.is_object() && v.has_field(k) ? v.at(k) : null;
}
int64_t integer(const value& v, const char* k) {
  const value& f = field(v, k);
  return f.is_number() ? f.as_number().to_int64() : 0;
}
double number(const value& v, const char* k) {
  const value& f = field(v, k);
  return f.is_number() ? f.as_double() : 0.0;
}
std::string text(const value& v, const char* k) {
  const value& f = field(v, k);
  return f.is_string() ? f.as_string() : "";
}

// The zones a MaintenanceWindow holds now or will start evacuating within `lookahead`
// (a node started now could not be finished before the window needs its zone).
std::set<std::string> zones_held_by_windows(GenericInformer* windows, kube::TimePoint now, kube::Duration lookahead) {
  std::set<std::string> held;
  if (!windows) return held;
  for (const auto& w : windows->list()) {
    std::error_code ec;
    const value obj = value::parse(w->json, ec);
    if (ec) continue;
    auto parsed = parse_window_spec(field(obj, "spec"));
    if (!parsed.spec || parsed.spec->suspend || !parsed.spec->resolve(now)) continue;
    const auto& s = *parsed.spec;
    if (now + lookahead >= s.evacuation_start() && now < s.end)
      for (const auto& z : s.zones) held.insert(z);
  }
  return held;
}

}  // namespace

std::string patch_job_name(const std::string& campaign, const std::string& node) {
  return kube::bounded_name("patch-" + campaign + "-" + node);
}

// What one reconcile pass learned and changed; folded into the status at the end.
struct PatchCampaignController::Pass {
  int completed_nodes = 0;
  double completed_node_seconds = 0;
  int completed_batches = 0;
  double completed_batch_seconds = 0;
  value new_failures = value::array();
  std::vector<Blocker> blockers;
  void fail(const std::string& node, const std::string& reason, const std::string& message) {
    value f = value::object();
    f["name"] = value::string(node);
    f["reason"] = value::string(reason);
    f["message"] = value::string(message);
    new_failures[new_failures.size()] = f;
  }
};

PatchCampaignController::PatchCampaignController(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock,
                                                 NodeInformer& nodes, PodInformer& pods, PdbInformer* pdbs,
                                                 GenericInformer& campaigns, GenericInformer* windows,
                                                 kube::EventRecorder& events, CampaignOptions opts, DrainObserver observer)
    : client_(std::move(client)), clock_(std::move(clock)), nodes_(nodes), pods_(pods), campaigns_(campaigns),
      windows_(windows), events_(events), opts_(std::move(opts)), drainer_(*client_, events_, pods, pdbs, std::move(observer)) {}

kube::Result<std::optional<kube::Duration>> PatchCampaignController::reconcile(const std::string& name) {
  const auto none = std::optional<kube::Duration>{};
  if (!campaigns_.get(name)) {
    newest_seen_.erase(name);
    claims_unseen_.erase(name);
    return none;
  }
  std::error_code ec;
  ResourceWriter writer(*client_, kCampaigns, name);
  // The status is this controller's memory (running batches, soaks, failures): it must be
  // the newest version, and the cache may not have our own last write yet. When the cache
  // holds exactly the newest version this controller read or wrote, it is as good as a GET
  // (a reconcile on every pod event made one GET each otherwise); else read it fresh.
  struct RememberNewest {
    std::map<std::string, std::string>& seen;
    const std::string& name;
    const ResourceWriter& writer;
    ~RememberNewest() {
      if (!writer.newest_seen().empty()) seen[name] = writer.newest_seen();
    }
  } remember{newest_seen_, name, writer};
  value obj;
  const auto cached = campaigns_.get(name);
  if (auto known = newest_seen_.find(name); known != newest_seen_.end() && cached->meta.resource_version == known->second) {
    obj = value::parse(cached->json, ec);
  } else {
    auto fetched = writer.fresh();
    if (!fetched.ok()) return fetched.error().is_not_found() ? kube::Result<std::optional<kube::Duration>>(none)
                                                             : kube::Result<std::optional<kube::Duration>>(fetched.error());
    obj = fetched.value();
  }
  const value& meta = obj.at("metadata");
  const int64_t generation = integer(meta, "generation");
  const value old_status = field(obj, "status").is_object() ? obj.at("status") : value::object();
  const kube::ObjectReference ref{"nonevent.dev/v1alpha1", "PatchCampaign", "", name, meta.at("uid").as_string(), ""};
  const auto now = clock_->now();
  const std::string claim = "PatchCampaign/" + name;

  std::vector<NodePtr> all_nodes = nodes_.list();
  std::vector<NodePtr> claimed;
  for (const auto& n : all_nodes)
    if (const auto* c = claim_of(*n); c && *c == claim) claimed.push_back(n);
  // Our claims the cache does not show yet (a claimed node shown claimed, by us or by someone
  // who took it since, or gone, is not waited for any longer).
  auto& unseen = claims_unseen_[name];
  for (auto it = unseen.begin(); it != unseen.end();) {
    const auto n = nodes_.get(it->first);
    it = (!n || claim_of(*n)) ? unseen.erase(it) : std::next(it);
  }
  auto ours = [&](const model::Node& n) {
    const auto* c = claim_of(n);
    return (c && *c == claim) || (!c && unseen.count(n.meta.name) > 0);
  };

  auto release_all = [&](const std::string& why) -> kube::Status {
    for (const auto& n : claimed)
      if (auto st = drainer_.release(*n, false, why); !st.ok()) return st;
    return kube::Unit{};
  };

  // Deleted: give every node back (patch Jobs go with the campaign, by owner reference).
  if (meta.has_field("deletionTimestamp")) {
    if (auto st = release_all("campaign " + name + " was deleted"); !st.ok()) return st.error();
    // MachineDeployments it scaled up go back to their size (a LIST that finds none when
    // the campaign never surged, or the cluster has no Cluster API).
    if (auto st = reconcile_surge_capacity(*client_, name, {}); !st.ok()) return st.error();
    if (auto st = writer.remove_finalizer(kCampaignFinalizer); !st.ok()) return st.error();
    return none;
  }

  auto stopped_status = [&](const std::string& phase, const std::string& reason, const std::string& message) -> kube::Status {
    return writer.write_status([&](const value& cur) {
      value st = cur;
      st["phase"] = value::string(phase);
      st["observedGeneration"] = value::number(generation);
      st["conditions"] = value::array();
      st["conditions"][0] = condition("Progressing", false, reason, message, generation, cur, now);
      st["conditions"][1] = condition("Degraded", true, reason, message, generation, cur, now);
      return st;
    });
  };

  // Bad input: a clear condition and Event, nothing touched.
  auto parsed = parse_campaign_spec(field(obj, "spec"));
  std::vector<std::string> problems = parsed.problems;
  std::map<std::string, std::vector<NodePtr>> by_zone;
  if (parsed.spec) {
    for (const auto& n : all_nodes) {
      const model::IStr* z = model::find_label(n->meta.label_set(), parsed.spec->zone_label);
      if (z && parsed.spec->selects(*n)) by_zone[z->str()].push_back(n);
    }
    for (const auto& z : parsed.spec->zones)
      if (!by_zone.count(z)) problems.push_back("spec.zones: no selected node has " + parsed.spec->zone_label + "=" + z);
  }
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    if (text(old_status, "phase") != "Pending" || old_status.serialize().find(msg) == std::string::npos)
      events_.record(ref, "Warning", "InvalidSpec", msg);
    if (auto st = stopped_status("Pending", "InvalidSpec", msg); !st.ok()) return st.error();
    return none;
  }
  const CampaignSpec& c = *parsed.spec;
  if (!has_finalizer(obj, kCampaignFinalizer)) {
    if (auto st = writer.add_finalizer(kCampaignFinalizer); !st.ok()) return st.error();
    return std::optional<kube::Duration>{std::chrono::seconds(0)};
  }
  // Terminal until the spec changes (a new target version starts a new rollout).
  if ((text(old_status, "phase") == "Failed" || text(old_status, "phase") == "Completed") &&
      integer(old_status, "observedGeneration") == generation && claimed.empty())
    return none;

  // Zones in the order to roll them.
  std::vector<std::string> zones = c.zones;
  if (zones.empty())
    for (const auto& [z, _] : by_zone) zones.push_back(z);

  Pass pass;
  // Failed nodes are remembered in status (a failed node is released, so the node itself no
  // longer says so) and are not tried again until the user resumes the campaign.
  std::set<std::string> failed;
  value failed_list = field(old_status, "failedNodes").is_array() ? old_status.at("failedNodes") : value::array();
  const value& failure_pause = field(old_status, "failurePause");
  bool resumed_after_failures = false;
  if (failure_pause.is_object() && !c.paused && generation > integer(failure_pause, "generation")) {
    resumed_after_failures = true;  // the user resumed: forget the failures, try those nodes again
    failed_list = value::array();
    events_.record(ref, "Normal", "CampaignResumed", "resumed after failures: failed nodes will be tried again");
  }
  for (const auto& f : failed_list.as_array()) failed.insert(text(f, "name"));

  auto patched = [&](const model::Node& n) { return c.reported_version(n) == c.version; };
  // Replace with maxSurge: per MachineDeployment, the surge nodes of ours still holding its
  // extra capacity (from their claim until they are handed back to Cluster API).
  std::map<std::string, int> surge_extra;
  auto holds_surge = [](const model::Node& n) -> const std::string* {
    const auto* from = n.annotation(kSurgeFrom);
    const auto* s = state_of(n);
    return from && s && (*s == "surging" || *s == "draining" || *s == "cordoned") ? from : nullptr;
  };
  auto fail_node = [&](const model::Node& n, const std::string& reason, const std::string& message) -> kube::Status {
    if (const auto* md = holds_surge(n)) --surge_extra[*md];  // released, or kept as failed: the surge goes back
    pass.fail(n.meta.name, reason, message);
    failed.insert(n.meta.name);
    events_.record(node_ref(n), "Warning", "NodeFailed", claim + ": " + message);
    events_.record(ref, "Warning", "NodeFailed", n.meta.name + ": " + message);
    // failurePolicy.keepFailedNodesCordoned: the node stays claimed and cordoned (state
    // failed, still counted against maxUnavailable) until a resume retries it, an abort or
    // the campaign's end lets it go (cordoned), or the campaign is deleted (restored).
    if (c.keep_failed_cordoned) return drainer_.set_state(n, "failed", now);
    return drainer_.release(n, false, "patch failed (" + reason + ")");
  };

  // The planner's view of the cluster, built once a pass and only when a step needs it
  // (150,000 pods at the largest scale).
  std::vector<const model::Node*> view_nodes;
  std::vector<const model::Pod*> view_pods;
  std::vector<std::shared_ptr<const model::Pod>> view_pods_pin;
  auto planner_view = [&] {
    if (!view_nodes.empty()) return;
    for (const auto& n : all_nodes) view_nodes.push_back(n.get());
    view_pods_pin = pods_.list();
    for (const auto& p : view_pods_pin) view_pods.push_back(p.get());
  };
  // Nodes that are in the cluster, or going, while their own claim keeps them out of the batch
  // count: cordoned nodes of ours (they will be drained) form the planner's trial set.
  std::set<std::string> cordoned_ours;
  for (const auto& n : claimed)
    if (const auto* s = state_of(*n); !s || *s != "surging") cordoned_ours.insert(n->meta.name);

  // Replace with maxSurge: the new nodes already standing in for an old one.
  std::set<std::string> paired;
  for (const auto& n : all_nodes)
    if (const auto* r = n->annotation(kReplacement)) paired.insert(*r);

  for (const auto& [node, md] : unseen)
    if (!md.empty()) ++surge_extra[md];  // surge claims the cache does not show yet

  // 1. Move every node we hold one step on.
  DrainBudget budget{.max_in_flight = c.drain.max_concurrent_evictions};
  std::map<std::string, int> in_flight_by_zone;
  for (const auto& n : claimed) {
    const std::string zone = n->zone.empty() ? "" : n->zone.str();
    const std::string state = state_of(*n) ? *state_of(*n) : "draining";
    const auto since = annotation_time(*n, kStateSince).value_or(now);
    const auto claimed_at = annotation_time(*n, kClaimedAt).value_or(now);
    const model::IStr* z = model::find_label(n->meta.label_set(), c.zone_label);
    const std::string node_zone = z ? z->str() : zone;
    ++in_flight_by_zone[node_zone];
    const auto* surge_from = n->annotation(kSurgeFrom);
    if (const auto* md = holds_surge(*n)) ++surge_extra[*md];
    if (state == "surging") {
      // Waiting, schedulable, for the new node its MachineDeployment was scaled up for: a
      // Ready node with the target version in the zone, created since, that stands in for no
      // other node. Then the old node is cordoned and drained like any other.
      const model::Node* fresh = nullptr;
      for (const auto& m : by_zone[node_zone]) {
        if (m->meta.name == n->meta.name || paired.count(m->meta.name) || claim_of(*m) || !patched(*m) || !m->ready ||
            m->unschedulable)
          continue;
        if (m->meta.created >= claimed_at) {  // both in whole seconds
          fresh = m.get();
          break;
        }
      }
      if (!fresh) {
        if (now - since > c.node_timeout) {
          if (auto st = fail_node(*n, "ReplacementTimeout",
                                  "no new Ready node with " + c.version + " joined the zone within the timeout after MachineDeployment " +
                                      (surge_from ? *surge_from : std::string("(annotation ") + kSurgeFrom + " missing)") +
                                      " was scaled up");
              !st.ok())
            return st.error();
          --in_flight_by_zone[node_zone];
        }
        continue;
      }
      // The new node is there; its pods must still find a place (design 2.3).
      planner_view();
      std::set<std::string> trial = cordoned_ours;
      trial.insert(n->meta.name);
      if (auto unplaceable = planner::unplaceable_after_drain(view_nodes, view_pods, trial); !unplaceable.empty()) {
        const auto* p = unplaceable.front().pod;
        pass.blockers.push_back({"Pod", std::string(p->meta.namespace_.view()), p->meta.name, "WouldNotReschedule",
                                 "draining " + n->meta.name + " would leave it Pending: " + unplaceable.front().reason});
        continue;
      }
      if (auto st = drainer_.cordon(*n, "draining", now, {{kReplacement, fresh->meta.name}}); !st.ok()) return st.error();
      paired.insert(fresh->meta.name);
      cordoned_ours.insert(n->meta.name);
      // On the node: per-node Events on the campaign would meet the recorder's per-object
      // spam filter (25, then one per 5 minutes) in any real fleet.
      events_.record(node_ref(*n), "Normal", "SurgeNodeReady", claim + ": " + fresh->meta.name + " joined " + node_zone + ", draining");
      continue;
    }
    if (state == "replacing") {
      // Handed to Cluster API (Machine marked, deployment scaled down): done when it is gone.
      if (now - since > c.node_timeout)
        pass.blockers.push_back({"Node", "", n->meta.name, "ReplacementTimeout",
                                 "its Machine was marked for deletion and its MachineDeployment scaled down, but the node is still there"});
      continue;
    }
    if (state == "failed") {
      // Kept cordoned after a failure: tried again once the user resumes.
      if (!failed.count(n->meta.name))
        if (auto st = drainer_.set_state(*n, "draining", now); !st.ok()) return st.error();
      continue;
    }
    if (state == "draining" || state == "cordoned") {
      auto d = drainer_.drain(*n, c.drain, budget, now);
      for (auto& b : d.blockers) pass.blockers.push_back(std::move(b));
      if (auto st = drainer_.mark_blocked(*n, d.policy_blocked, now); !st.ok()) return st.error();
      if (d.policy_blocked && c.drain.on_blocked == "SkipNode") {
        // Leave the node unpatched rather than wait on a pod the policy will not move.
        if (auto st = fail_node(*n, "DrainBlocked", "a pod the drain policy will not evict (onBlocked: SkipNode)"); !st.ok())
          return st.error();
        --in_flight_by_zone[node_zone];
        continue;
      }
      if (d.remaining > 0) {
        if (now - since > c.drain.pod_eviction_timeout)
          pass.blockers.push_back({"Node", "", n->meta.name, "DrainTimeout",
                                   "still draining after drain.podEvictionTimeout: " + std::to_string(d.remaining) + " pod(s) left"});
        continue;
      }
      drainer_.drained(*n, claim, now);
      // Drained: start the patch.
      if (c.strategy == "InPlace") {
        value job = value::object();
        job["apiVersion"] = value::string("batch/v1");
        job["kind"] = value::string("Job");
        job["metadata"]["name"] = value::string(patch_job_name(name, n->meta.name));
        job["metadata"]["namespace"] = value::string(opts_.job_namespace);
        job["metadata"]["labels"][planner::kPatchPodLabel] = value::string(name);
        job["metadata"]["annotations"]["nonevent.dev/node"] = value::string(n->meta.name);
        job["metadata"]["annotations"][kTargetVersionAnnotation] = value::string(c.version);
        value owner = value::object();
        owner["apiVersion"] = value::string("nonevent.dev/v1alpha1");
        owner["kind"] = value::string("PatchCampaign");
        owner["name"] = value::string(name);
        owner["uid"] = meta.at("uid");
        job["metadata"]["ownerReferences"][0] = owner;
        job["spec"]["backoffLimit"] = value::number(0);  // a failed patch is a failed node, not a retry loop
        value tpl = c.job_template;
        tpl["metadata"]["labels"][planner::kPatchPodLabel] = value::string(name);
        tpl["metadata"]["annotations"][kTargetVersionAnnotation] = value::string(c.version);
        tpl["spec"]["nodeName"] = value::string(n->meta.name);  // pinned: no scheduler involved
        if (!tpl["spec"].has_field("restartPolicy")) tpl["spec"]["restartPolicy"] = value::string("Never");
        // It must run on a cordoned node and survive the reboot's not-ready taint.
        value tols = tpl["spec"].has_field("tolerations") ? tpl["spec"]["tolerations"] : value::array();
        value all = value::object();
        all["operator"] = value::string("Exists");
        tols[tols.size()] = all;
        tpl["spec"]["tolerations"] = tols;
        job["spec"]["template"] = tpl;
        auto r = client_->create(kube::resources::jobs(), opts_.job_namespace, job.serialize());
        if (!r.ok() && r.error().code != 409) return r.error();
        if (!r.ok()) {
          // A Job of an earlier attempt (the node failed, the campaign was resumed): a failed
          // one is removed and made again on the next pass; any other is this attempt's own.
          auto old = client_->get(kube::resources::jobs(), opts_.job_namespace, patch_job_name(name, n->meta.name));
          if (old.ok() && integer(field(value::parse(old.value(), ec), "status"), "failed") > 0) {
            kube::DeleteOptions del;
            del.propagation_policy = "Background";
            auto gone = client_->remove(kube::resources::jobs(), opts_.job_namespace, patch_job_name(name, n->meta.name), del);
            if (!gone.ok() && !gone.error().is_not_found()) return gone.error();
            continue;
          }
        }
      } else if (c.strategy == "External") {
        value p = value::object();
        p["metadata"]["annotations"][c.external_annotation] = value::string(c.version);
        auto r = client_->patch(kube::resources::nodes(), "", n->meta.name, PatchType::kStrategicMerge, p.serialize());
        if (!r.ok()) return r.error();
      }
      if (c.strategy == "Replace" && surge_from) {
        // Its new node is already there: give the old one back to Cluster API. The Machine is
        // marked first, so the scale-down (at the end of this pass) deletes this one.
        auto m = mark_machine_for_deletion(*client_, *n);
        if (!m.ok() && !m.error().is_not_found()) return m.error();
        if (!m.ok()) {
          // The Machine is gone already (its MachineSet made another): only the Node is left.
          auto r = client_->remove(kube::resources::nodes(), "", n->meta.name, {});
          if (!r.ok() && !r.error().is_not_found()) return r.error();
        }
        if (auto st = drainer_.set_state(*n, "replacing", now); !st.ok()) return st.error();
        --surge_extra[*surge_from];
        events_.record(node_ref(*n), "Normal", "NodeReplaced", claim + ": replaced by " +
                                                          (n->annotation(kReplacement) ? *n->annotation(kReplacement) : std::string("a new node")) +
                                                          "; MachineDeployment " + *surge_from + " scaled back");
        continue;
      }
      if (c.strategy == "Replace") {
        // The node goes; its replacement (from the cloud's node group or Cluster API) is
        // awaited as zone capacity in step 2. Counted as done when it arrives. A node
        // Cluster API manages goes through its Machine (deleting only the Node would leave
        // the Machine to bring the same instance back).
        kube::DeleteOptions opts;
        const auto* machine = n->annotation(kCapiMachine);
        const auto* machine_ns = n->annotation(kCapiClusterNamespace);
        if (machine && machine_ns) {
          auto m = client_->remove(kube::resources::machines(), *machine_ns, *machine, opts);
          if (m.ok()) {
            events_.record(node_ref(*n), "Normal", "NodeReplaced", claim + ": Machine " + *machine_ns + "/" + *machine + " deleted for replacement");
            continue;
          }
          if (!m.error().is_not_found()) return m.error();  // gone already: the Node itself goes below
        }
        auto r = client_->remove(kube::resources::nodes(), "", n->meta.name, opts);
        if (!r.ok() && !r.error().is_not_found()) return r.error();
        events_.record(node_ref(*n), "Normal", "NodeReplaced", claim + ": deleted for replacement");
        continue;
      }
      if (auto st = drainer_.set_state(*n, "patching", now); !st.ok()) return st.error();
      continue;
    }
    if (state == "patching") {
      if (c.strategy == "InPlace") {
        // While the Job's pod is still pending or running on the node (the pod cache says so,
        // and its end will wake this controller), there is nothing to ask the Job.
        const std::string job_name = patch_job_name(name, n->meta.name);
        bool pod_running = false;
        for (const auto& pod : pods_.by_index(model::kPodsByNode, n->meta.name)) {
          const model::IStr* jn = model::find_label(pod->meta.label_set(), "job-name");
          if (jn && jn->str() == job_name && !pod->meta.deleted &&
              (pod->phase == model::PodPhase::kPending || pod->phase == model::PodPhase::kRunning))
            pod_running = true;
        }
        if (pod_running && now - since <= c.node_timeout) continue;
        auto r = client_->get(kube::resources::jobs(), opts_.job_namespace, job_name);
        if (!r.ok() && !r.error().is_not_found()) return r.error();
        value job = r.ok() ? value::parse(r.value(), ec) : value::null();
        const value& js = field(job, "status");
        if (!r.ok()) {
          if (auto st = drainer_.set_state(*n, "draining", now); !st.ok()) return st.error();  // recreate it
        } else if (integer(js, "succeeded") > 0) {
          if (auto st = drainer_.set_state(*n, "verifying", now); !st.ok()) return st.error();
        } else if (integer(js, "failed") > 0) {
          if (auto st = fail_node(*n, "PatchJobFailed", "patch Job " + patch_job_name(name, n->meta.name) + " failed"); !st.ok())
            return st.error();
          --in_flight_by_zone[node_zone];
        } else if (now - since > c.node_timeout) {
          if (auto st = fail_node(*n, "Timeout", "patch Job did not finish within the timeout"); !st.ok()) return st.error();
          --in_flight_by_zone[node_zone];
        }
        continue;
      }
      // External: wait for the outside agent to make the node report the target.
      if (patched(*n)) {
        if (auto st = drainer_.set_state(*n, "verifying", now); !st.ok()) return st.error();
      } else if (now - since > c.node_timeout) {
        if (auto st = fail_node(*n, "Timeout", "the node did not report " + c.version + " within the timeout"); !st.ok())
          return st.error();
        --in_flight_by_zone[node_zone];
      }
      continue;
    }
    if (state == "verifying") {
      if (patched(*n) && n->ready) {
        if (auto st = drainer_.release(*n, false, "patched to " + c.version); !st.ok()) return st.error();
        events_.record(node_ref(*n), "Normal", "NodePatched", "reports " + c.version + " (" + claim + ")");
        ++pass.completed_nodes;
        pass.completed_node_seconds += seconds(now - claimed_at);
        --in_flight_by_zone[node_zone];
      } else if (now - since > c.node_timeout) {
        if (auto st = fail_node(*n, "NotReadyAfterPatch",
                                patched(*n) ? "reports the target but is not Ready" : "does not report " + c.version);
            !st.ok())
          return st.error();
        --in_flight_by_zone[node_zone];
      }
      continue;
    }
  }

  // Failure budget.
  for (const auto& f : pass.new_failures.as_array()) failed_list[failed_list.size()] = f;
  const int budget_nodes = std::max(1, c.max_failed_nodes);
  const bool over_budget = static_cast<int>(failed.size()) >= budget_nodes;
  value failure_pause_out = resumed_after_failures ? value::null() : failure_pause;
  bool aborted = false;
  if (over_budget && c.failure_action == "Abort") {
    aborted = true;
    std::vector<NodePtr> still;
    for (const auto& n : nodes_.list())
      if (const auto* cl = claim_of(*n); cl && *cl == claim && !failed.count(n->meta.name)) still.push_back(n);
    for (const auto& n : still)
      if (auto st = drainer_.release(*n, false, "campaign aborted"); !st.ok()) return st.error();
    // Failed nodes kept cordoned stay so, but are no longer the campaign's.
    for (const auto& n : nodes_.list())
      if (const auto* cl = claim_of(*n); cl && *cl == claim && failed.count(n->meta.name))
        if (auto st = drainer_.release(*n, true, "campaign aborted; failed node left cordoned"); !st.ok()) return st.error();
    surge_extra.clear();  // every surge node was given back above
    if (text(old_status, "phase") != "Failed")
      events_.record(ref, "Warning", "CampaignAborted", std::to_string(failed.size()) + " node(s) failed: aborted");
  } else if (over_budget && !c.paused && !failure_pause_out.is_object()) {
    value p = value::object();
    p["paused"] = value::boolean(true);
    auto r = client_->patch(kCampaigns, "", name, PatchType::kMerge, value::object({{"spec", p}}).serialize());
    if (!r.ok()) return r.error();
    const value after = value::parse(r.value(), ec);
    failure_pause_out = value::object();
    failure_pause_out["generation"] = value::number(integer(after.at("metadata"), "generation"));
    failure_pause_out["since"] = value::string(kube::format_rfc3339(now));
    events_.record(ref, "Warning", "CampaignPaused",
                   std::to_string(failed.size()) + " node(s) failed (failurePolicy.maxFailedNodes " +
                       std::to_string(c.max_failed_nodes) + "): paused; fix the cause and set spec.paused to false to retry them");
  }
  const bool paused = c.paused || (failure_pause_out.is_object() && over_budget) || aborted;

  // 2. Zone by zone: is the running batch done, is the zone soaking, may a new batch start?
  const auto held = c.respect_windows ? zones_held_by_windows(windows_, now, c.node_timeout) : std::set<std::string>{};
  std::set<std::string> window_claimed_zones;
  for (const auto& n : all_nodes)
    if (const auto* cl = claim_of(*n); cl && cl->rfind("MaintenanceWindow/", 0) == 0 && !n->zone.empty())
      window_claimed_zones.insert(n->zone.str());
  const value old_zones = field(old_status, "zones").is_array() ? old_status.at("zones") : value::array();
  auto old_zone = [&](const std::string& z) -> value {
    for (const auto& e : old_zones.as_array())
      if (text(e, "zone") == z) return e;
    return value::object();
  };
  bool canary_completed = field(old_status, "canaryCompleted").is_boolean() && old_status.at("canaryCompleted").as_bool();
  if (c.canary_nodes <= 0) canary_completed = true;

  int total = 0, updated = 0, in_progress = 0, failed_count = static_cast<int>(failed.size());
  int active_zones = 0;
  value zones_out = value::array();
  value current_batch = value::array();
  std::string current_zone;
  std::optional<kube::TimePoint> wake;
  auto wake_at = [&](kube::TimePoint t) { wake = wake ? std::min(*wake, t) : t; };
  // For the ETA: what is left per zone in batches.
  struct ZoneLeft {
    std::string zone;
    double batches;    // including the running one
    double running_s;  // how long the running batch has run
    int nodes;         // left to patch, including those in flight
    int budget;        // maxUnavailable in this zone
    double in_flight_s;  // rolling: the time the nodes in flight have already run, summed
  };
  // With no batchSoak there is nothing to wait for between batches: once the canary is done, a
  // zone's batch is topped up as its nodes finish (a Deployment's rolling update under
  // maxUnavailable). Waiting for a whole batch let its slowest drain hold every other slot idle.
  const bool rolling = canary_completed && c.batch_soak == kube::Duration::zero();
  std::vector<ZoneLeft> zone_remaining_batches;

  // Refresh: step 1 changed annotations; the cache catches up on the next pass, but counts
  // taken now must not treat a just-released node as still ours.
  std::set<std::string> released_now;
  for (const auto& f : pass.new_failures.as_array()) released_now.insert(text(f, "name"));

  for (const auto& zone : zones) {
    const auto& zn = by_zone[zone];
    const value oz = old_zone(zone);
    value zo = value::object();
    zo["zone"] = value::string(zone);
    // z_out: nodes out of service against maxUnavailable; z_surge: surge nodes in flight
    // against maxSurge (their capacity is replaced before they go out).
    int z_total = static_cast<int>(zn.size()), z_updated = 0, z_failed = 0, z_flight = 0, z_out = 0, z_surge = 0;
    std::vector<NodePtr> candidates;
    for (const auto& n : zn) {
      const auto* cl = claim_of(*n);
      const bool ours_now = ours(*n) && !released_now.count(n->meta.name);
      if (ours_now && !failed.count(n->meta.name)) {
        ++z_flight;
        const auto u = unseen.find(n->meta.name);
        ++(n->annotation(kSurgeFrom) || (u != unseen.end() && !u->second.empty()) ? z_surge : z_out);
        continue;
      }
      if (failed.count(n->meta.name)) {  // released, or kept cordoned (keepFailedNodesCordoned)
        ++z_failed;
        if (!n->ready || n->unschedulable) ++z_out;
        continue;
      }
      if (patched(*n)) ++z_updated;
      if (!n->ready || n->unschedulable) ++z_out;  // out for other reasons: counts against the budget
      if (!patched(*n) && !cl && n->ready) candidates.push_back(n);
    }
    // Replace: nodes deleted for this zone's batch and not yet replaced.
    int replace_pending = 0;
    if (c.strategy == "Replace" && field(oz, "replace").is_object()) {
      const int expected = static_cast<int>(integer(oz.at("replace"), "updatedBefore") + integer(oz.at("replace"), "count"));
      replace_pending = std::max(0, expected - z_updated - z_flight);  // claimed ones are counted already
      if (replace_pending > 0 || z_flight > 0) zo["replace"] = oz.at("replace");  // the batch is still running
      if (replace_pending > 0) {
        const auto since = kube::parse_rfc3339(text(oz.at("replace"), "since")).value_or(now);
        if (now - since > c.node_timeout && !field(oz.at("replace"), "timedOut").is_boolean()) {
          pass.blockers.push_back({"Zone", "", zone, "ReplacementTimeout",
                                   std::to_string(replace_pending) + " replacement node(s) not Ready with " + c.version + " yet"});
        }
        z_total += replace_pending;
        z_out += replace_pending;
        z_flight += replace_pending;
      }
    }
    // The running batch: the nodes recorded for it, and any we hold (a batch claimed just
    // before a crash is recovered from the nodes' claims).
    value batch = field(oz, "batch").is_array() ? oz.at("batch") : value::array();
    const auto batch_started = kube::parse_rfc3339(text(oz, "batchStartedAt"));
    const bool batch_was_canary = field(oz, "batchIsCanary").is_boolean() && oz.at("batchIsCanary").as_bool();
    std::string state = "Pending";
    std::optional<kube::TimePoint> soak_until = kube::parse_rfc3339(text(oz, "soakUntil"));
    if (z_flight == 0 && batch.size() > 0) {
      // The batch is over: record how long it took, then soak.
      if (batch_started) {
        ++pass.completed_batches;
        pass.completed_batch_seconds += seconds(now - *batch_started);
      }
      bool batch_failed = false;
      for (const auto& b : batch.as_array()) batch_failed = batch_failed || failed.count(b.as_string());
      const auto soak = batch_was_canary ? c.canary_soak : c.batch_soak;
      if (batch_was_canary && !batch_failed) canary_completed = true;
      if (soak > kube::Duration::zero()) soak_until = now + soak;
      batch = value::array();
    }
    // Budgets are of the zone's own size: a surge node's new node is not counted (with 10
    // nodes and maxSurge 10%, the eleventh would otherwise allow a second surge node).
    const int zone_size = z_total - z_surge;
    const int budget_here = c.max_unavailable_in(zone_size);
    double in_flight_s = 0;
    if (rolling && z_flight > 0) {
      // The batch is the nodes in flight: finished ones leave it, their slots are free again.
      std::map<std::string, const model::Node*> zone_node;
      for (const auto& n : zn) zone_node[n->meta.name] = n.get();
      value still = value::array();
      for (const auto& b : batch.as_array()) {
        auto n = zone_node.find(b.as_string());
        if (n == zone_node.end()) continue;
        if (ours(*n->second) && !released_now.count(n->first) && !failed.count(n->first)) {
          still[still.size()] = b;
          in_flight_s += seconds(now - annotation_time(*n->second, kClaimedAt).value_or(now));
        }
      }
      batch = still;
    }
    const bool zone_done = z_updated + z_failed >= z_total && z_flight == 0;
    const bool zone_held = held.count(zone) || window_claimed_zones.count(zone);
    if (zone_done) state = z_failed > 0 ? "Paused" : "Completed";
    else if (z_flight > 0) state = "Progressing";
    else if (zone_held) state = "HeldByWindow";
    else if (paused) state = "Paused";
    else if (soak_until && now < *soak_until) state = "Soaking";
    if (state == "Soaking") wake_at(*soak_until);
    const bool zone_active = !zone_done && !zone_held && (z_flight > 0 || active_zones < c.zones_in_parallel);
    if (zone_active && !zone_done) ++active_zones;
    const bool topping_up = rolling && z_flight > 0;
    // A recorded soak holds new claims even while the zone still counts a node in flight (a
    // top-up checked only the zone's state, which says Progressing then).
    const bool soaking = soak_until && now < *soak_until;
    if (zone_active && !paused && (z_flight == 0 || topping_up) && !soaking && !candidates.empty()) {
      // A new batch: the canary first, then up to maxUnavailable nodes, minus nodes this
      // zone already has out for other reasons (and, rolling, the nodes still in flight);
      // the planner must accept it.
      // Surge nodes first (they keep the zone's capacity), then nodes taken out under
      // maxUnavailable.
      const int surge_free = c.strategy == "Replace" ? std::max(0, c.max_surge_in(zone_size) - z_surge) : 0;
      const int out_free = std::max(0, budget_here - z_out);
      int size = canary_completed ? out_free + surge_free : std::min(c.canary_nodes, out_free + surge_free);
      size = std::min<int>(size, static_cast<int>(candidates.size()));
      if (topping_up && field(oz, "batchStartedAt").is_string()) {
        zo["batchStartedAt"] = oz.at("batchStartedAt");
        zo["batchIsCanary"] = value::boolean(batch_was_canary);
      }
      if (size <= 0 && !topping_up) {
        pass.blockers.push_back({"Zone", "", zone, "ZoneUnavailable",
                                 std::to_string(z_out) + " node(s) already out in " + zone + " (maxUnavailable " +
                                     std::to_string(budget_here) + ")"});
      }
      // Nodes whose drain would meet a pod the policy forbids evicting go last: everything
      // else in the zone is patched before the campaign waits on them.
      std::map<std::string, bool> blocked;
      for (const auto& n : candidates) blocked[n->meta.name] = drainer_.has_blockers(*n, c.drain);
      std::sort(candidates.begin(), candidates.end(), [&](const NodePtr& a, const NodePtr& b) {
        return std::pair(blocked[a->meta.name], a->meta.name) < std::pair(blocked[b->meta.name], b->meta.name);
      });
      // Surge nodes are the first candidates a MachineDeployment runs (it can add their
      // capacity first); the rest go out under maxUnavailable.
      std::vector<std::pair<NodePtr, std::string>> surge_picks;  // node, its MachineDeployment
      std::vector<NodePtr> out_picks;
      bool lacked_deployment = false;
      for (const auto& n : candidates) {
        if (static_cast<int>(surge_picks.size() + out_picks.size()) >= size) break;
        if (static_cast<int>(surge_picks.size()) < surge_free) {
          auto md = machine_deployment_of(*client_, *n);
          if (!md.ok()) return md.error();
          if (md.value()) {
            surge_picks.emplace_back(n, *md.value());
            continue;
          }
          lacked_deployment = true;
        }
        if (static_cast<int>(out_picks.size()) < out_free) out_picks.push_back(n);
      }
      if (lacked_deployment && surge_picks.empty())
        pass.blockers.push_back({"Zone", "", zone, "NoMachineDeployment",
                                 "maxSurge adds capacity through the Cluster API MachineDeployment that runs a node; nodes without "
                                 "one are replaced only under maxUnavailable"});
      // The planner must accept the nodes that go out now (surge nodes are checked when their
      // new node is there).
      int out_size = static_cast<int>(out_picks.size());
      while (out_size > 0) {
        planner_view();
        std::set<std::string> trial = cordoned_ours;
        for (int i = 0; i < out_size; ++i) trial.insert(out_picks[i]->meta.name);
        auto unplaceable = planner::unplaceable_after_drain(view_nodes, view_pods, trial);
        if (unplaceable.empty()) break;
        if (out_size == 1) {
          const auto* p = unplaceable.front().pod;
          pass.blockers.push_back({"Pod", std::string(p->meta.namespace_.view()), p->meta.name, "WouldNotReschedule",
                                   "draining " + out_picks[0]->meta.name + " would leave it Pending: " + unplaceable.front().reason});
        }
        --out_size;
      }
      out_picks.resize(out_size);
      if (!surge_picks.empty() || !out_picks.empty()) {
        const bool is_canary = !canary_completed;
        int claimed_now = 0;
        // `md`: the MachineDeployment a surge claim scaled, "" for other claims.
        auto claimed_one = [&](const model::Node& n, const std::string& md) {
          batch[batch.size()] = value::string(n.meta.name);
          unseen[n.meta.name] = md;
          ++z_flight;
          ++claimed_now;
        };
        for (const auto& [n, md] : surge_picks) {
          auto st = drainer_.claim(*n, claim, "surging", now, /*cordon=*/false, {{kSurgeFrom, md}});
          if (!st.ok()) {
            if (st.error().is_conflict()) break;  // the node changed under us: next pass
            return st.error();
          }
          ++surge_extra[md];
          claimed_one(*n, md);
          events_.record(node_ref(*n), "Normal", "SurgeRequested",
                         claim + ": MachineDeployment " + md + " scaled up by one; drained once a new node with " + c.version + " is Ready");
        }
        for (const auto& n : out_picks) {
          auto st = drainer_.claim(*n, claim, "draining", now);
          if (!st.ok()) {
            if (st.error().is_conflict()) break;
            return st.error();
          }
          cordoned_ours.insert(n->meta.name);
          claimed_one(*n, "");
        }
        if (claimed_now > 0) {
          if (!zo.has_field("batchStartedAt")) {
            zo["batchStartedAt"] = value::string(kube::format_rfc3339(now));
            zo["batchIsCanary"] = value::boolean(is_canary);
            events_.record(ref, "Normal", is_canary ? "CanaryStarted" : "BatchStarted",
                           zone + ": " + std::to_string(claimed_now) + " node(s)");
          }
          if (c.strategy == "Replace") {
            // Replacements this zone waits for: the nodes it had patched before the batch
            // plus every node the batch (and its top-ups) sent away.
            value rep = zo.has_field("replace") ? zo.at("replace") : value::object();
            if (!rep.has_field("updatedBefore")) rep["updatedBefore"] = value::number(z_updated);
            rep["count"] = value::number(integer(rep, "count") + claimed_now);
            rep["since"] = value::string(kube::format_rfc3339(now));
            zo["replace"] = rep;
          }
          state = "Progressing";
        }
      }
    } else if (batch.size() > 0) {
      zo["batchStartedAt"] = oz.at("batchStartedAt");
      zo["batchIsCanary"] = value::boolean(batch_was_canary);
    }
    // Nodes we hold that the batch list lacks (claimed before a crash wrote the status).
    for (const auto& n : zn) {
      const auto* cl = claim_of(*n);
      if (!cl || *cl != claim || released_now.count(n->meta.name)) continue;
      bool listed = false;
      for (const auto& b : batch.as_array()) listed = listed || b.as_string() == n->meta.name;
      if (!listed) batch[batch.size()] = value::string(n->meta.name);
    }
    if (batch.size() > 0) {
      zo["batch"] = batch;
      if (!zo.has_field("batchStartedAt")) zo["batchStartedAt"] = value::string(kube::format_rfc3339(now));
      for (const auto& b : batch.as_array()) current_batch[current_batch.size()] = b;
      if (current_zone.empty()) current_zone = zone;
    }
    if (soak_until && now < *soak_until) zo["soakUntil"] = value::string(kube::format_rfc3339(*soak_until));
    zo["total"] = value::number(z_total);
    zo["updated"] = value::number(z_updated);
    zo["inProgress"] = value::number(z_flight);
    if (z_surge > 0) zo["surging"] = value::number(z_surge);  // of those, surge nodes (their new node first)
    zo["failed"] = value::number(z_failed);
    zo["state"] = value::string(state);
    zones_out[zones_out.size()] = zo;
    total += z_total;
    updated += z_updated;
    in_progress += z_flight;
    const int left = z_total - z_updated - z_failed;
    // The running batch counts as a whole batch less the time it has already run.
    double running_s = 0;
    if (z_flight > 0 && zo.has_field("batchStartedAt"))
      if (auto started_batch = kube::parse_rfc3339(zo.at("batchStartedAt").as_string())) running_s = seconds(now - *started_batch);
    if (left > 0)
      zone_remaining_batches.push_back(
          {zone, std::ceil(static_cast<double>(left) / std::max(1, budget_here)), running_s, left, std::max(1, budget_here), in_flight_s});
  }

  // Surge capacity: each MachineDeployment at its size plus the surge nodes it carries.
  if (c.strategy == "Replace" && (c.max_surge.value > 0 || !surge_extra.empty())) {
    std::vector<std::string> conflicts;
    if (auto st = reconcile_surge_capacity(*client_, name, surge_extra, &conflicts); !st.ok()) return st.error();
    for (const auto& m : conflicts) pass.blockers.push_back({"MachineDeployment", "", m.substr(0, m.find(' ')), "SurgeConflict", m});
  }

  // 3. ETA from observed durations (a batch takes as long as its slowest node).
  value observed = field(old_status, "observed").is_object() ? old_status.at("observed") : value::object();
  const double nodes_done = number(observed, "nodes") + pass.completed_nodes;
  const double node_secs = number(observed, "nodeSeconds") + pass.completed_node_seconds;
  const double batches_done = number(observed, "batches") + pass.completed_batches;
  const double batch_secs = number(observed, "batchSeconds") + pass.completed_batch_seconds;
  const bool complete = updated >= total && in_progress == 0;
  const auto started = kube::parse_rfc3339(text(old_status, "startedAt")).value_or(now);
  const auto deadline = started + c.deadline;
  std::optional<kube::TimePoint> eta;
  if (complete) eta = now;
  else if (batches_done > 0 || nodes_done > 0) {
    const double per_batch = batches_done > 0 ? batch_secs / batches_done : node_secs / nodes_done;
    const double soak_s = seconds(c.batch_soak);
    // Zones run `zonesInParallel` at a time, in order: lanes take the next zone when free.
    std::vector<double> lanes(std::max(1, c.zones_in_parallel), 0.0);
    // Rolling zones (no batchSoak): the zone's node-seconds left over the slots it runs at.
    const double per_node = nodes_done > 0 ? node_secs / nodes_done : per_batch;
    for (const auto& z : zone_remaining_batches) {
      auto lane = std::min_element(lanes.begin(), lanes.end());
      if (c.batch_soak == kube::Duration::zero())
        *lane += std::max(0.0, z.nodes * per_node - z.in_flight_s) / std::min(z.budget, z.nodes);
      else
        *lane += z.batches * per_batch + std::max(0.0, z.batches - 1) * soak_s - std::min(z.running_s, per_batch);
    }
    double left = *std::max_element(lanes.begin(), lanes.end());
    if (!canary_completed) left += seconds(c.canary_soak);
    eta = now + from_seconds(left);
  }
  const bool behind = eta && *eta > deadline && !complete;

  std::string phase = aborted ? "Failed" : complete ? "Completed" : paused ? "Paused" : "Progressing";
  if (phase == "Completed" && text(old_status, "phase") != "Completed")
    events_.record(ref, "Normal", "CampaignCompleted", std::to_string(updated) + "/" + std::to_string(total) + " nodes report " + c.version);
  if (behind && !condition_is_true(old_status, "BehindDeadline"))
    events_.record(ref, "Warning", "BehindDeadline", "projected to finish at " + kube::format_rfc3339(*eta) + ", after the deadline " +
                                                         kube::format_rfc3339(deadline));
  for (size_t i = 0; i < pass.blockers.size() && i < 3; ++i) {
    const auto& b = pass.blockers[i];
    events_.record(ref, "Warning", "EvictionBlocked", b.kind + " " + (b.ns.empty() ? "" : b.ns + "/") + b.name + ": " + b.message);
  }

  auto st = writer.write_status([&](const value& cur) {
    value s = value::object();
    s["phase"] = value::string(phase);
    s["observedGeneration"] = value::number(generation);
    s["startedAt"] = value::string(kube::format_rfc3339(started));
    s["deadline"] = value::string(kube::format_rfc3339(deadline));
    if (eta) s["estimatedCompletion"] = value::string(kube::format_rfc3339(*eta));
    if (complete) s["completedAt"] = field(cur, "completedAt").is_string() ? cur.at("completedAt") : value::string(kube::format_rfc3339(now));
    s["nodes"]["total"] = value::number(total);
    s["nodes"]["updated"] = value::number(updated);
    s["nodes"]["inProgress"] = value::number(in_progress);
    s["nodes"]["failed"] = value::number(failed_count);
    s["zones"] = zones_out;
    if (!current_zone.empty()) s["currentZone"] = value::string(current_zone);
    s["currentBatch"] = current_batch;
    s["canaryCompleted"] = value::boolean(canary_completed);
    // Counters add this pass's deltas to the fresh values, so a lagging cache loses none.
    const value& co = field(cur, "observed");
    s["observed"]["nodes"] = value::number(number(co, "nodes") + pass.completed_nodes);
    s["observed"]["nodeSeconds"] = value::number(number(co, "nodeSeconds") + pass.completed_node_seconds);
    s["observed"]["batches"] = value::number(number(co, "batches") + pass.completed_batches);
    s["observed"]["batchSeconds"] = value::number(number(co, "batchSeconds") + pass.completed_batch_seconds);
    if (failed_list.size() > 0) s["failedNodes"] = failed_list;
    if (failure_pause_out.is_object()) s["failurePause"] = failure_pause_out;
    if (!pass.blockers.empty()) s["blockers"] = blockers_json(pass.blockers);
    const std::string progress = std::to_string(updated) + "/" + std::to_string(total) + " nodes report " + c.version;
    s["conditions"][0] = condition("Progressing", phase == "Progressing", phase == "Progressing" ? "RollingZones" : phase,
                                   progress, generation, cur, now);
    s["conditions"][1] = condition("Paused", paused && !aborted,
                                   aborted ? "Aborted" : failure_pause_out.is_object() && over_budget ? "FailureBudgetExceeded"
                                                                 : c.paused ? "PausedBySpec" : "NotPaused",
                                   paused ? std::to_string(failed_count) + " failed node(s)" : "", generation, cur, now);
    s["conditions"][2] = condition("Degraded", failed_count > 0, failed_count > 0 ? "NodesFailed" : "AllHealthy",
                                   std::to_string(failed_count) + " node(s) failed", generation, cur, now);
    s["conditions"][3] = condition("Complete", complete, complete ? "AllNodesPatched" : "InProgress", progress, generation, cur, now);
    s["conditions"][4] = condition("BehindDeadline", behind, behind ? "ProjectedPastDeadline" : "OnSchedule",
                                   eta ? "estimated completion " + kube::format_rfc3339(*eta) + ", deadline " + kube::format_rfc3339(deadline)
                                       : "no estimate yet",
                                   generation, cur, now);
    return s;
  }, &obj);  // obj is the newest version: no GET before the write
  if (!st.ok()) return st.error();
  if (complete || aborted) return none;
  if (in_progress > 0) wake_at(now + std::chrono::seconds(5));
  if (!wake) return std::optional<kube::Duration>{std::chrono::seconds(30)};
  return std::optional<kube::Duration>{std::max<kube::Duration>(*wake - now, std::chrono::seconds(1))};
}

}  // namespace nonevent::controllers
