#include "rehearse/recorder.h"

#include <algorithm>
#include <cmath>

#include "model/codecs.h"
#include "rehearse/snapshot_import.h"
#include "sim/json_util.h"

namespace nonevent::rehearse {

using web::json::value;
using namespace sim::json;

namespace {

const value* condition_of(const value& obj, const char* type) {
  if (const value* cs = at(obj, {"status", "conditions"}); cs && cs->is_array())
    for (const auto& c : cs->as_array())
      if (str(c, {"type"}) == type) return &c;
  return nullptr;
}

value interval_json(const std::string& key, const std::string& what, const std::string& detail_key, const std::string& detail, double from,
                    std::optional<double> to) {
  value v = value::object();
  v[key] = value::string(what);
  if (!detail.empty()) v[detail_key] = value::string(detail);
  v["from"] = value::number(from);
  if (to) v["to"] = value::number(*to);
  return v;
}

std::string minutes(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+%.0fm%02.0fs", std::floor(s / 60), std::fmod(s, 60));
  return buf;
}

}  // namespace

Recorder::Recorder(sim::ObjectStore& store, std::string kind, std::string name, kube::TimePoint start)
    : store_(store), kind_(std::move(kind)), name_(std::move(name)), start_(start), now_(start) {
  followed_ = {{"apps/replicasets", &Recorder::take_replica_set, &Recorder::forget_nothing, nullptr},
               {"/nodes", &Recorder::take_node, &Recorder::forget_nodes, nullptr},
               {"/pods", &Recorder::take_pod, &Recorder::forget_pods, nullptr},
               {"policy/poddisruptionbudgets", &Recorder::take_pdb, &Recorder::forget_pdbs, nullptr},
               {kind_ == "MaintenanceWindow" ? "nonevent.dev/maintenancewindows" : "nonevent.dev/patchcampaigns",
                &Recorder::take_named_resource, &Recorder::forget_nothing, nullptr}};
  for (auto& f : followed_) follow(f);
}

double Recorder::at_s(kube::TimePoint t) const { return std::chrono::duration<double>(t - start_).count(); }

void Recorder::follow(Followed& f) {
  auto list = store_.list({.resource = f.resource}, 0, "");
  if (!list.ok()) throw std::runtime_error("rehearse: cannot list " + f.resource + ": " + list.error().to_string());
  (this->*f.forget)();
  for (const auto& o : list.value().items) (this->*f.take)(sim::ChangeType::kAdded, *o);
  auto w = store_.watch({.resource = f.resource}, std::to_string(list.value().rv));
  if (!w.ok()) throw std::runtime_error("rehearse: cannot watch " + f.resource + ": " + w.error().to_string());
  f.watch = w.value();
}

void Recorder::drain(Followed& f) {
  using namespace std::chrono_literals;
  while (auto e = f.watch->next(0ms)) (this->*f.take)(e->type, *e->object);
  if (f.watch->closed()) follow(f);
}

void Recorder::take_changes() {
  for (auto& f : followed_) drain(f);
}

void Recorder::forget_pods() {
  pods_by_key_.clear();
  ready_.clear();
  replicas_.clear();
}

void Recorder::take_replica_set(sim::ChangeType, const sim::StoredObject& o) {
  std::error_code ec;
  const value rs = value::parse(o.json, ec);
  if (ec) return;
  if (const value* refs = at(rs, {"metadata", "ownerReferences"}); refs && refs->is_array())
    for (const auto& r : refs->as_array())
      if (str(r, {"kind"}) == "Deployment") replica_set_owner_[o.ns + "/" + o.name] = str(r, {"name"});
}

void Recorder::take_named_resource(sim::ChangeType type, const sim::StoredObject& o) {
  if (o.name == name_ && type != sim::ChangeType::kDeleted) take_resource(o);
}

void Recorder::take_node(sim::ChangeType type, const sim::StoredObject& o) {
  if (type == sim::ChangeType::kDeleted) {
    nodes_by_name_.erase(o.name);
    return;
  }
  auto n = model::CodecFor<model::Node>::decode(o.json);
  if (!n.ok()) return;
  const auto& node = *n.value();
  NodeState s;
  s.zone = node.zone.str();
  s.ready = node.ready;
  s.cordoned = node.unschedulable;
  if (const auto* c = node.annotation("nonevent.dev/claimed-by")) s.claimed_by = *c;
  if (const auto* c = node.annotation("nonevent.dev/claimed-at")) s.claimed_at = *c;
  for (const auto& [k, v] : node.meta.label_set())
    if (k.str() == "nonevent.dev/image-version") s.version = v.str();
  // A node's zone moving its pods' counts is not a case (zones are labels set at creation).
  auto& old = nodes_by_name_[o.name];
  if (old.ready != s.ready || old.cordoned != s.cordoned || old.claimed_by != s.claimed_by || old.version != s.version) last_movement_ = now_;
  old = std::move(s);
}

void Recorder::count_pod(const PodState& p, int sign) {
  if (p.daemon || p.terminating) return;
  replicas_[p.workload] += sign;
  if (p.ready) ready_[p.workload][p.zone.empty() ? "-" : p.zone] += sign;
}

void Recorder::take_pod(sim::ChangeType type, const sim::StoredObject& o) {
  auto it = pods_by_key_.find(o.ns + "/" + o.name);
  if (it != pods_by_key_.end()) count_pod(it->second, -1);
  if (type == sim::ChangeType::kDeleted) {
    if (it != pods_by_key_.end()) pods_by_key_.erase(it);
    last_movement_ = now_;
    return;
  }
  auto decoded = model::CodecFor<model::Pod>::decode(o.json);
  if (!decoded.ok()) return;
  const auto& pod = *decoded.value();
  if (pod.finished()) {
    if (it != pods_by_key_.end()) pods_by_key_.erase(it);
    return;
  }
  PodState p;
  p.key = o.ns + "/" + o.name;
  const auto* owner = pod.meta.controller();
  p.daemon = owner && owner->kind.str() == "DaemonSet";
  if (!owner) p.workload = o.ns + "/Pod/" + o.name;
  else if (owner->kind.str() == "ReplicaSet") {
    auto d = replica_set_owner_.find(o.ns + "/" + owner->name.str());
    p.workload = d != replica_set_owner_.end() ? o.ns + "/Deployment/" + d->second : o.ns + "/ReplicaSet/" + owner->name.str();
  } else {
    p.workload = o.ns + "/" + owner->kind.str() + "/" + owner->name.str();
  }
  p.node = pod.node_name.str();
  if (auto n = nodes_by_name_.find(p.node); n != nodes_by_name_.end()) p.zone = n->second.zone;
  p.ready = pod.ready;
  p.terminating = pod.meta.deleted.has_value();
  p.pending = p.node.empty() && pod.phase == model::PodPhase::kPending && !p.terminating;
  p.pending_since = pod.meta.created;
  if (p.pending && pod.unschedulable) {
    std::error_code ec;
    const value full = value::parse(o.json, ec);
    if (!ec)
      if (const value* c = condition_of(full, "PodScheduled")) p.reason = str(*c, {"message"});
  }
  count_pod(p, +1);
  if (it == pods_by_key_.end() || it->second.node != p.node || it->second.ready != p.ready || it->second.terminating != p.terminating)
    last_movement_ = now_;
  pods_by_key_[p.key] = std::move(p);
}

void Recorder::take_pdb(sim::ChangeType type, const sim::StoredObject& o) {
  const std::string key = o.ns + "/" + o.name;
  if (type == sim::ChangeType::kDeleted) {
    pdbs_by_key_.erase(key);
    return;
  }
  std::error_code ec;
  const value pdb = value::parse(o.json, ec);
  if (ec) return;
  PdbState s;
  s.healthy = static_cast<int>(num(pdb, {"status", "currentHealthy"}));
  s.desired = static_cast<int>(num(pdb, {"status", "desiredHealthy"}));
  s.expected = static_cast<int>(num(pdb, {"status", "expectedPods"}));
  s.allowed = static_cast<int>(num(pdb, {"status", "disruptionsAllowed"}));
  pdbs_by_key_[key] = s;
}

void Recorder::take_resource(const sim::StoredObject& o) {
  std::error_code ec;
  value r = value::parse(o.json, ec);
  if (ec) return;
  resource_ = std::move(r);
}

std::string Recorder::phase() const { return resource_.is_null() ? "" : str(resource_, {"status", "phase"}); }

namespace {
// A workload a rehearsal holds to its replicas: not a bare pod (gone once evicted, as on the
// cluster: the snapshot's warnings say so) and not a DaemonSet's.
bool replaced_when_evicted(const std::string& workload) {
  return workload.find("/Pod/") == std::string::npos && workload.find("/DaemonSet/") == std::string::npos;
}
// Done without anything left waiting (a Missed window touched nothing, and says why).
bool finished_phase_ok(const std::string& kind, const std::string& phase) {
  return phase == "Completed" || (kind == "MaintenanceWindow" && phase == "Missed");
}
}  // namespace

bool Recorder::settled() const {
  if (pods_pending() > 0) return false;
  for (const auto& [w, full] : full_ready_) {
    if (!replaced_when_evicted(w)) continue;
    int total = 0;
    if (auto z = ready_.find(w); z != ready_.end())
      for (const auto& [zone, k] : z->second) total += k;
    if (total < full) return false;
  }
  return true;
}

int Recorder::pods_pending() const {
  int n = 0;
  for (const auto& [k, p] : pods_by_key_) n += p.pending;
  return n;
}

void Recorder::sample(kube::TimePoint now) {
  now_ = now;
  // The resource's phase and why (its first condition's reason), at each change.
  if (!resource_.is_null()) {
    std::string ph = phase();
    const value* c = condition_of(resource_, kind_ == "MaintenanceWindow" ? "Ready" : "Progressing");
    if (c && !str(*c, {"reason"}).empty()) ph += " (" + str(*c, {"reason"}) + ")";
    if (!ph.empty() && (phases_.empty() || phases_.back().second != ph)) phases_.emplace_back(now, ph);
  }
  // The first disruption: a node cordoned, or a pod evicted (the resource left its first phase).
  if (!disrupted_) {
    for (const auto& [name, n] : nodes_by_name_) disrupted_ = disrupted_ || n.cordoned;
    if (phases_.size() > 1) disrupted_ = true;
  }
  // Ready replicas per workload and zone, at each change; the minimum and when.
  for (const auto& [w, zones] : ready_) {
    std::map<std::string, int> nonzero;
    int total = 0;
    for (const auto& [z, k] : zones)
      if (k > 0) {
        nonzero[z] = k;
        total += k;
      }
    auto& s = series_[w];
    if (s.empty() || s.back().second != nonzero) s.emplace_back(now, nonzero);
    if (!disrupted_) {
      full_ready_[w] = std::max(full_ready_[w], total);
      min_ready_[w] = {full_ready_[w], now};
      continue;
    }
    auto m = min_ready_.find(w);
    if (m == min_ready_.end()) min_ready_[w] = {total, now};
    else if (total < m->second.first) m->second = {total, now};
  }
  // Nodes by state.
  std::map<std::string, int> states;
  std::map<std::string, std::pair<int, int>> zone_nodes;  // zone → (nodes, cordoned)
  for (const auto& [name, n] : nodes_by_name_) {
    ++states[!n.ready ? "NotReady" : n.cordoned ? "Cordoned" : "Ready"];
    auto& z = zone_nodes[n.zone];
    ++z.first;
    z.second += n.cordoned;
  }
  if (node_states_.empty() || node_states_.back().second != states) node_states_.emplace_back(now, states);
  std::map<std::string, int> pods_in_zone;
  for (const auto& [k, p] : pods_by_key_)
    if (!p.daemon && !p.node.empty()) ++pods_in_zone[p.zone];
  for (const auto& [zone, counts] : zone_nodes) {
    const bool all_cordoned = counts.first > 0 && counts.second == counts.first;
    if (all_cordoned) zone_cordoned_.try_emplace(zone, now);
    if (all_cordoned && pods_in_zone[zone] == 0) zone_empty_.try_emplace(zone, now);
  }
  // PDB waits (a disruption in progress and none allowed) and breaches (below desiredHealthy).
  for (const auto& [key, s] : pdbs_by_key_) {
    const bool waiting = s.allowed == 0 && s.healthy < s.expected;
    const bool breached = s.healthy < s.desired;
    auto track = [&](bool on, std::map<std::string, Interval>& open, std::vector<Interval>& closed, const std::string& detail) {
      auto o = open.find(key);
      if (on && o == open.end()) open[key] = {key, detail, now, now, true};
      if (!on && o != open.end()) {
        o->second.to = now;
        o->second.open = false;
        closed.push_back(o->second);
        open.erase(o);
      }
    };
    track(waiting, pdb_waiting_, pdb_waits_, "");
    track(breached, pdb_breaching_, pdb_breaches_,
          "currentHealthy " + std::to_string(s.healthy) + " < desiredHealthy " + std::to_string(s.desired));
  }
  // Pods Pending: from creation until bound.
  for (const auto& [k, p] : pods_by_key_)
    if (p.pending) {
      auto [o, fresh] = pending_open_.try_emplace(k, Interval{k, p.workload, std::max(p.pending_since, start_), now, true});
      if (!p.reason.empty()) o->second.detail = p.workload + ": " + p.reason;
    }
  for (auto o = pending_open_.begin(); o != pending_open_.end();) {
    auto p = pods_by_key_.find(o->first);
    if (p == pods_by_key_.end() || !p->second.pending) {
      o->second.to = now;
      o->second.open = false;
      pending_.push_back(o->second);
      o = pending_open_.erase(o);
    } else {
      ++o;
    }
  }
  // A campaign's claims, node by node.
  const std::string claim = kind_ + "/" + name_;
  for (const auto& [name, n] : nodes_by_name_)
    if (n.claimed_by == claim && !claims_open_.count(name))
      claims_open_[name] = {name, n.zone, kube::parse_rfc3339(n.claimed_at).value_or(now), now, true};
  for (auto o = claims_open_.begin(); o != claims_open_.end();) {
    auto n = nodes_by_name_.find(o->first);
    if (n == nodes_by_name_.end() || n->second.claimed_by != claim) {
      o->second.to = now;
      o->second.open = false;
      if (n != nodes_by_name_.end()) o->second.detail += "|" + n->second.version;
      claims_.push_back(o->second);
      o = claims_open_.erase(o);
    } else {
      ++o;
    }
  }
}

std::vector<std::string> Recorder::problems(kube::TimePoint end, kube::Duration pending_limit) const {
  std::vector<std::string> out;
  const std::string ph = phase();
  auto message_of = [&](const char* type) {
    const value* c = resource_.is_null() ? nullptr : condition_of(resource_, type);
    return c ? str(*c, {"reason"}) + ": " + str(*c, {"message"}) : std::string();
  };
  if (kind_ == "MaintenanceWindow") {
    if (ph == "Blocked") out.push_back("the window is Blocked: " + message_of("Blocked"));
    else if (ph != "Completed") out.push_back("the window did not complete (phase " + (ph.empty() ? std::string("none") : ph) + "): " + message_of("Ready"));
    else if (const value* r = condition_of(resource_, "Ready"); r && str(*r, {"reason"}) == "RebalanceIncomplete")
      out.push_back("rebalancing did not finish: " + message_of("Ready"));
    if (const auto start = kube::parse_rfc3339(str(resource_, {"spec", "start"}))) {
      std::optional<kube::TimePoint> evacuated;
      for (const auto& [t, p] : phases_)
        if (!evacuated && p.rfind("Evacuated", 0) == 0) evacuated = t;
      if (evacuated && *evacuated > *start)
        out.push_back("the zone was not empty by the window's start " + kube::format_rfc3339(*start) + ": emptied at " +
                      kube::format_rfc3339(*evacuated) + " (evacuateBefore is too short)");
    }
  } else {
    const auto deadline = kube::parse_rfc3339(str(resource_, {"status", "deadline"}));
    const auto completed = kube::parse_rfc3339(str(resource_, {"status", "completedAt"}));
    const auto eta = kube::parse_rfc3339(str(resource_, {"status", "estimatedCompletion"}));
    if (ph != "Completed")
      out.push_back("the campaign did not complete (phase " + (ph.empty() ? std::string("none") : ph) + "): " + message_of("Progressing") +
                    (eta ? "; projected to finish at " + kube::format_rfc3339(*eta) : ""));
    if (deadline && completed && *completed > *deadline)
      out.push_back("the campaign finished at " + kube::format_rfc3339(*completed) + ", after its deadline " + kube::format_rfc3339(*deadline));
    else if (deadline && !completed && eta && *eta > *deadline)
      out.push_back("the campaign is projected to finish at " + kube::format_rfc3339(*eta) + ", after its deadline " + kube::format_rfc3339(*deadline));
    if (const value* q = at(resource_, {"status", "quarantinedNodes"}); q && q->is_array())
      for (const auto& n : q->as_array()) out.push_back("node " + str(n, {"name"}) + " quarantined: " + str(n, {"reason"}));
  }
  if (!finished_phase_ok(kind_, ph) && end - last_movement_ >= std::chrono::hours(2))
    out.push_back("nothing moved from " + minutes(at_s(last_movement_)) + " to the end: the rehearsal stopped there");
  if (!finished_phase_ok(kind_, ph))
    if (const value* b = at(resource_, {"status", "blockers"}); b && b->is_array())
      for (size_t i = 0; i < b->size() && i < 5; ++i) {
        const value& x = b->at(i);
        out.push_back("waiting on " + str(x, {"kind"}) + " " + (str(x, {"namespace"}).empty() ? "" : str(x, {"namespace"}) + "/") +
                      str(x, {"name"}) + " (" + str(x, {"reason"}) + (str(x, {"message"}).empty() ? "" : ": " + str(x, {"message"})) + ")");
      }
  auto pending_problem = [&](const Interval& i) {
    const auto to = i.open ? end : i.to;
    if (to - i.from < pending_limit) return;
    out.push_back("pod " + i.what + " Pending from " + minutes(at_s(i.from)) + (i.open ? " to the end" : " to " + minutes(at_s(i.to))) +
                  " (" + i.detail + ")");
  };
  for (const auto& i : pending_) pending_problem(i);
  for (const auto& [k, i] : pending_open_) pending_problem(i);
  for (const auto& [w, full] : full_ready_) {
    if (!replaced_when_evicted(w)) continue;
    int total = 0;
    if (auto z = ready_.find(w); z != ready_.end())
      for (const auto& [zone, k] : z->second) total += k;
    if (total < full) out.push_back(w + ": " + std::to_string(total) + " of " + std::to_string(full) + " replicas Ready at the end");
  }
  for (const auto& i : pdb_breaches_) out.push_back("PodDisruptionBudget " + i.what + " below its budget from " + minutes(at_s(i.from)) + " to " + minutes(at_s(i.to)) + " (" + i.detail + ")");
  for (const auto& [k, i] : pdb_breaching_) out.push_back("PodDisruptionBudget " + i.what + " below its budget from " + minutes(at_s(i.from)) + " to the end (" + i.detail + ")");
  return out;
}

value Recorder::to_json(kube::TimePoint end, kube::Duration pending_limit) const {
  value out = value::object();
  out["kind"] = value::string(kind_);
  out["name"] = value::string(name_);
  out["start"] = value::string(kube::format_rfc3339(start_));
  out["end"] = value::string(kube::format_rfc3339(end));
  out["durationSeconds"] = value::number(at_s(end));
  out["phase"] = value::string(phase());
  value phases = value::array();
  for (const auto& [t, p] : phases_) {
    value e = value::object();
    e["at"] = value::number(at_s(t));
    e["phase"] = value::string(p);
    phases[phases.size()] = e;
  }
  out["phases"] = phases;
  value zones = value::array();
  std::set<std::string> zone_names;
  for (const auto& [name, n] : nodes_by_name_) zone_names.insert(n.zone);
  for (const auto& z : zone_names) {
    value e = value::object();
    e["zone"] = value::string(z);
    if (auto c = zone_cordoned_.find(z); c != zone_cordoned_.end()) e["cordonedAt"] = value::number(at_s(c->second));
    if (auto c = zone_empty_.find(z); c != zone_empty_.end()) e["emptyAt"] = value::number(at_s(c->second));
    zones[zones.size()] = e;
  }
  out["zones"] = zones;
  value workloads = value::array();
  for (const auto& [w, s] : series_) {
    value e = value::object();
    e["workload"] = value::string(w);
    e["readyAtStart"] = value::number(full_ready_.count(w) ? full_ready_.at(w) : 0);
    if (auto m = min_ready_.find(w); m != min_ready_.end()) {
      e["minReady"] = value::number(m->second.first);
      e["minReadyAt"] = value::number(at_s(m->second.second));
    }
    int end_total = 0;
    for (const auto& [z, k] : s.back().second) end_total += k;
    e["readyAtEnd"] = value::number(end_total);
    value pts = value::array();
    int max_skew = 0;
    for (const auto& [t, zs] : s) {
      value pt = value::object();
      pt["at"] = value::number(at_s(t));
      value zv = value::object();
      int lo = INT32_MAX, hi = 0;
      for (const auto& z : zone_names) {
        const int k = zs.count(z) ? zs.at(z) : 0;
        zv[z] = value::number(k);
        lo = std::min(lo, k);
        hi = std::max(hi, k);
      }
      pt["ready"] = zv;
      pts[pts.size()] = pt;
      if (!zone_names.empty()) max_skew = std::max(max_skew, hi - lo);
    }
    e["maxSkew"] = value::number(max_skew);
    e["series"] = pts;
    workloads[workloads.size()] = e;
  }
  out["workloads"] = workloads;
  value nodes = value::array();
  for (const auto& [t, st] : node_states_) {
    value e = value::object();
    e["at"] = value::number(at_s(t));
    for (const auto& [k, v] : st) e[k] = value::number(v);
    nodes[nodes.size()] = e;
  }
  out["nodeStates"] = nodes;
  auto intervals = [&](const std::vector<Interval>& closed, const std::map<std::string, Interval>& open, const std::string& key,
                       const std::string& detail_key) {
    std::vector<Interval> all = closed;
    for (const auto& [k, i] : open) all.push_back(i);
    std::sort(all.begin(), all.end(), [](const Interval& a, const Interval& b) { return std::tie(a.from, a.what) < std::tie(b.from, b.what); });
    value arr = value::array();
    for (const auto& i : all) arr[arr.size()] = interval_json(key, i.what, detail_key, i.detail, at_s(i.from), i.open ? std::nullopt : std::optional(at_s(i.to)));
    return arr;
  };
  out["pdbWaits"] = intervals(pdb_waits_, pdb_waiting_, "pdb", "detail");
  out["pdbBreaches"] = intervals(pdb_breaches_, pdb_breaching_, "pdb", "detail");
  out["pending"] = intervals(pending_, pending_open_, "pod", "reason");
  if (kind_ == "PatchCampaign") {
    // Batches: the claims that started together in a zone.
    std::vector<Interval> all = claims_;
    for (const auto& [k, i] : claims_open_) all.push_back(i);
    std::sort(all.begin(), all.end(), [](const Interval& a, const Interval& b) { return std::tie(a.from, a.what) < std::tie(b.from, b.what); });
    value batches = value::array();
    for (const auto& i : all) {
      const std::string zone = i.detail.substr(0, i.detail.find('|'));
      const std::string version = i.detail.find('|') == std::string::npos ? "" : i.detail.substr(i.detail.find('|') + 1);
      value* b = nullptr;
      if (batches.size() > 0) {
        value& last = batches[batches.size() - 1];
        if (str(last, {"zone"}) == zone && std::abs(last.at("start").as_double() - at_s(i.from)) < 1) b = &last;
      }
      if (!b) {
        value nb = value::object();
        nb["zone"] = value::string(zone);
        nb["start"] = value::number(at_s(i.from));
        nb["nodes"] = value::array();
        nb["canary"] = value::boolean(batches.size() == 0 && str(resource_, {"spec", "strategy", "canary", "nodes"}) != "0");
        batches[batches.size()] = nb;
        b = &batches[batches.size() - 1];
      }
      value node = value::object();
      node["name"] = value::string(i.what);
      if (!i.open) node["end"] = value::number(at_s(i.to));
      if (!version.empty()) node["version"] = value::string(version);
      (*b)["nodes"][(*b)["nodes"].size()] = node;
      if (!i.open) (*b)["end"] = value::number(std::max(b->has_field("end") ? b->at("end").as_double() : 0.0, at_s(i.to)));
    }
    out["batches"] = batches;
    for (const char* k : {"deadline", "estimatedCompletion", "completedAt"})
      if (!str(resource_, {"status", k}).empty()) out[k] = value::string(str(resource_, {"status", k}));
  } else if (!resource_.is_null()) {
    for (const char* k : {"start", "end", "evacuateBefore"}) out["window"][k] = value::string(str(resource_, {"spec", k}));
    if (const value* lb = at(resource_, {"status", "preflight", "lowerBoundSeconds"})) out["window"]["lowerBoundSeconds"] = *lb;
    // How long the evacuation took (Evacuating to Evacuated), against the lower bound the PDBs
    // allow and the lead time the window gives.
    std::optional<double> evacuating, evacuated;
    for (const auto& [t, p] : phases_) {
      if (!evacuating && p.rfind("Evacuating", 0) == 0) evacuating = at_s(t);
      if (!evacuated && (p.rfind("Evacuated", 0) == 0 || p.rfind("InProgress", 0) == 0)) evacuated = at_s(t);
    }
    if (evacuating && evacuated) out["window"]["evacuationSeconds"] = value::number(*evacuated - *evacuating);
  }
  value problems_json = value::array();
  for (const auto& p : problems(end, pending_limit)) problems_json[problems_json.size()] = value::string(p);
  out["problems"] = problems_json;
  return out;
}

}  // namespace nonevent::rehearse
