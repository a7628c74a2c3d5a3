// The PatchCampaign reconciler's frame: guard clauses, then one named call per step, as
// kube-controller-manager's syncDeployment and rolloutRolling read. The steps live beside it:
//   campaign_nodes.cpp     1. move every node we hold one state on
//   campaign_strategy.cpp     (start the patch of a drained node, per strategy)
//   campaign_progress.cpp  2. the failure budget: pause or abort
//   campaign_batches.cpp   3. zone by zone: finish batches, soak, choose and claim the next
//   campaign_progress.cpp  4. surge capacity, ETA, Events and the status write
#include "controllers/patch_campaign.h"

#include "controllers/campaign_pass.h"
#include "controllers/resource_status.h"
#include "controllers/surge_capacity.h"
#include "model/indexers.h"

namespace nonevent::controllers {

using web::json::value;

namespace {
const kube::GroupVersionResource kCampaigns = kube::resources::patch_campaigns();
}  // namespace

std::string patch_job_name(const std::string& campaign, const std::string& node) {
  return kube::bounded_name("patch-" + campaign + "-" + node);
}

PatchCampaignController::PatchCampaignController(std::shared_ptr<kube::RestClient> client, std::shared_ptr<kube::Clock> clock,
                                                 NodeInformer& nodes, PodInformer& pods, PdbInformer* pdbs,
                                                 GenericInformer& campaigns, GenericInformer* windows,
                                                 kube::EventRecorder& events, CampaignOptions opts, DrainObserver observer)
    : client_(std::move(client)), clock_(std::move(clock)), nodes_(nodes), pods_(pods), campaigns_(campaigns),
      windows_(windows), events_(events), opts_(std::move(opts)), drainer_(*client_, events_, pods, pdbs, std::move(observer)) {}

ReconcileResult PatchCampaignController::reconcile(const std::string& name) {
  if (!campaigns_.get(name)) {
    newest_seen_.erase(name);
    claims_unseen_.erase(name);
    return done();
  }
  ResourceWriter writer(*client_, kCampaigns, name);
  // Remembers the newest version this pass read or wrote, however the pass ends.
  struct RememberNewest {
    std::map<std::string, std::string>& seen;
    const std::string& name;
    const ResourceWriter& writer;
    ~RememberNewest() {
      if (!writer.newest_seen().empty()) seen[name] = writer.newest_seen();
    }
  } remember{newest_seen_, name, writer};
  auto newest = read_newest(name, writer);
  if (!newest.ok()) return newest.error().is_not_found() ? done() : ReconcileResult(newest.error());

  Pass pass = start_pass(name, std::move(newest.value()));
  if (pass.obj.at("metadata").has_field("deletionTimestamp")) return finalize(pass, writer);
  auto parsed = parse_campaign_spec(field(pass.obj, "spec"));
  std::vector<std::string> problems = parsed.problems;
  if (parsed.spec) group_by_zone(pass, *parsed.spec, problems);
  if (!problems.empty()) return report_invalid(pass, writer, problems);
  // Powers this installation does not grant: refused before anything is touched.
  problems = opts_.limits.refuse_drain(parsed.spec->drain, "spec.drain");
  if (parsed.spec->strategy == Strategy::kInPlace)
    for (auto& problem : opts_.limits.refuse_job_template(parsed.spec->job_template)) problems.push_back(std::move(problem));
  if (!problems.empty()) return report_invalid(pass, writer, problems, "NotAllowed");
  pass.spec = &*parsed.spec;
  if (!has_finalizer(pass.obj, kCampaignFinalizer)) {
    if (auto st = writer.add_finalizer(kCampaignFinalizer); !st.ok()) return st.error();
    return requeue_after(std::chrono::seconds(0));
  }
  // Terminal until the spec changes (a new target version starts a new rollout).
  const std::string old_phase = text(pass.old_status, "phase");
  if ((old_phase == "Failed" || old_phase == "Completed") && integer(pass.old_status, "observedGeneration") == pass.generation &&
      pass.claimed.empty()) {
    if (auto st = end_holds(pass); !st.ok()) return st.error();  // a crash between the status and them
    return done();
  }

  read_failures(pass);
  if (auto st = advance_nodes(pass); !st.ok()) return st.error();
  if (auto st = apply_failure_budget(pass); !st.ok()) return st.error();
  if (auto st = open_gates(pass); !st.ok()) return st.error();
  if (auto st = roll_zones(pass); !st.ok()) return st.error();
  if (auto st = release_kured_lock_when_idle(pass); !st.ok()) return st.error();
  if (auto st = keep_surge_capacity(pass); !st.ok()) return st.error();
  return write_progress(pass, writer);
}

kube::Result<value> PatchCampaignController::read_newest(const std::string& name, const ResourceWriter& writer) {
  // The status is this controller's memory (running batches, soaks, failures): it must be
  // the newest version, and the cache may not have our own last write yet. When the cache
  // holds exactly the newest version this controller read or wrote, it is as good as a GET
  // (a reconcile on every pod event made one GET each otherwise); else read it fresh.
  const auto cached = campaigns_.get(name);
  if (auto known = newest_seen_.find(name); cached && known != newest_seen_.end() && cached->meta.resource_version == known->second) {
    std::error_code ec;
    return value::parse(cached->json, ec);
  }
  return writer.fresh();
}

PatchCampaignController::Pass PatchCampaignController::start_pass(const std::string& name, value obj) {
  Pass p;
  p.name = name;
  p.claim = claim_for("PatchCampaign", name);
  p.obj = std::move(obj);
  const value& meta = p.obj.at("metadata");
  p.generation = integer(meta, "generation");
  p.old_status = field(p.obj, "status").is_object() ? p.obj.at("status") : value::object();
  p.ref = {"nonevent.dev/v1alpha1", "PatchCampaign", "", name, meta.at("uid").as_string(), ""};
  p.now = clock_->now();
  p.all_nodes = nodes_.list();
  for (const auto& n : p.all_nodes)
    if (const auto* c = claim_of(*n); c && *c == p.claim) p.claimed.push_back(n);
  // Our claims the cache does not show yet (a claimed node shown claimed, by us or by someone
  // who took it since, or gone, is not waited for any longer).
  if (opts_.coordinate_kured && opts_.others.kured)
    for (const auto& ds : opts_.others.kured->list()) {
      p.kured_ds = ds;
      p.kured_lock = read_kured_lock(*ds);
      p.kured_ours = p.kured_lock.held_by(kured_holder(p.claim));
    }
  p.unseen = &claims_unseen_[name];
  for (auto it = p.unseen->begin(); it != p.unseen->end();) {
    const auto n = nodes_.get(it->first);
    it = (!n || claim_of(*n)) ? p.unseen->erase(it) : std::next(it);
  }
  return p;
}

ReconcileResult PatchCampaignController::finalize(Pass& p, const ResourceWriter& writer) {
  // Deleted: give every node back (patch Jobs go with the campaign, by owner reference); a node
  // another tool took meanwhile stays cordoned for it.
  const auto others = other_holds(p.claimed, opts_.others);
  for (const auto& n : p.claimed)
    if (auto st = release_unless_taken(drainer_, *n, others, false, "campaign " + p.name + " was deleted"); !st.ok()) return st.error();
  if (auto st = end_holds(p); !st.ok()) return st.error();
  // MachineDeployments it scaled up go back to their size (a LIST that finds none when the
  // campaign never surged, or the cluster has no Cluster API).
  if (auto st = reconcile_surge_capacity(*client_, p.name, {}); !st.ok()) return st.error();
  if (auto st = writer.remove_finalizer(kCampaignFinalizer); !st.ok()) return st.error();
  return done();
}

void PatchCampaignController::group_by_zone(Pass& p, const CampaignSpec& c, std::vector<std::string>& problems) {
  for (const auto& n : p.all_nodes) {
    const model::IStr* z = model::find_label(n->meta.label_set(), c.zone_label);
    if (z && c.selects(*n)) p.by_zone[z->str()].push_back(n);
  }
  for (const auto& z : c.zones)
    if (!p.by_zone.count(z)) problems.push_back("spec.zones: no selected node has " + c.zone_label + "=" + z);
  // Zones in the order to roll them.
  p.zones = c.zones;
  if (p.zones.empty())
    for (const auto& [z, _] : p.by_zone) p.zones.push_back(z);
}

ReconcileResult PatchCampaignController::report_invalid(Pass& p, const ResourceWriter& writer, const std::vector<std::string>& problems,
                                                       const std::string& reason) {
  // Bad input: a clear condition and Event, nothing touched.
  std::string msg;
  for (const auto& problem : problems) msg += (msg.empty() ? "" : "; ") + problem;
  if (text(p.old_status, "phase") != "Pending" || p.old_status.serialize().find(msg) == std::string::npos)
    events_.record(p.ref, "Warning", reason, msg);
  auto st = writer.write_status([&](const value& cur) {
    value s = cur;
    s["phase"] = value::string("Pending");
    s["observedGeneration"] = value::number(p.generation);
    s["conditions"] = value::array();
    s["conditions"][0] = condition("Progressing", false, reason, msg, p.generation, cur, p.now);
    s["conditions"][1] = condition("Degraded", true, reason, msg, p.generation, cur, p.now);
    return s;
  });
  if (!st.ok()) return st.error();
  return done();
}

void PatchCampaignController::read_failures(Pass& p) {
  // Failed nodes are remembered in status (a failed node is released, so the node itself no
  // longer says so) and are not tried again until the user resumes the campaign.
  p.failed_list = field(p.old_status, "failedNodes").is_array() ? p.old_status.at("failedNodes") : value::array();
  p.failure_pause = field(p.old_status, "failurePause");
  if (p.failure_pause.is_object() && !p.c().paused && p.generation > integer(p.failure_pause, "generation")) {
    p.resumed_after_failures = true;  // the user resumed: forget the failures, try those nodes again
    p.failed_list = value::array();
    events_.record(p.ref, "Normal", "CampaignResumed", "resumed after failures: failed nodes will be tried again");
  }
  for (const auto& f : p.failed_list.as_array()) p.failed.insert(text(f, "name"));
}

// --- the pass's shared helpers (campaign_pass.h)

void PatchCampaignController::Pass::fail(const std::string& node, const std::string& reason, const std::string& message) {
  value f = value::object();
  f["name"] = value::string(node);
  f["reason"] = value::string(reason);
  f["message"] = value::string(message);
  new_failures[new_failures.size()] = f;
}

void PatchCampaignController::Pass::planner_view(PodInformer& pods) {
  if (!view_nodes.empty()) return;
  for (const auto& n : all_nodes) view_nodes.push_back(n.get());
  view_pods_pin = pods.list();
  for (const auto& pod : view_pods_pin) view_pods.push_back(pod.get());
}

bool PatchCampaignController::Pass::ours(const model::Node& n) const {
  const auto* c = claim_of(n);
  return (c && *c == claim) || (!c && unseen->count(n.meta.name) > 0);
}

const std::string* holds_surge(const model::Node& n) {
  const auto* from = n.annotation(kSurgeFrom);
  const auto s = read_node_state(n).state;
  return from && (s == NodeState::kSurging || s == NodeState::kDraining || s == NodeState::kCordoned) ? from : nullptr;
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
double seconds(kube::Duration d) { return std::chrono::duration<double>(d).count(); }
std::optional<kube::TimePoint> annotation_time(const model::Node& n, const char* key) {
  const auto* a = n.annotation(key);
  return a ? kube::parse_rfc3339(*a) : std::nullopt;
}

}  // namespace nonevent::controllers
