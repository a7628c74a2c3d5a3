#include "sim/sim_cache.h"

#include <algorithm>

#include "model/codecs.h"
#include "model/json_parse.h"
#include "sim/json_util.h"
#include "sim/pass_worker.h"

namespace nonevent::sim {

using web::json::value;

namespace {
const std::vector<const model::Pod*> kNoPods;
const std::vector<Changed> kNoChanges;
}  // namespace

const std::vector<std::string>& SimCache::resources() {
  static const std::vector<std::string> r{"/nodes",           "/pods",           "apps/deployments",
                                          "apps/replicasets", "apps/statefulsets", "apps/daemonsets",
                                          "batch/jobs",       "policy/poddisruptionbudgets",
                                          "cluster.x-k8s.io/machines", "cluster.x-k8s.io/machinedeployments",
                                          "/persistentvolumeclaims",
                                          "/persistentvolumes"};
  return r;
}

void SimCache::on_change(const Change& c) {
  static const std::set<std::string> wanted(resources().begin(), resources().end());
  if (!wanted.count(c.resource)) return;
  std::lock_guard g(pending_mu_);
  pending_.push_back(c);
}

void SimCache::load(const ObjectStore& store) {
  for (const auto& r : resources()) {
    auto listed = store.list({.resource = r}, 0, "");
    if (!listed.ok()) continue;
    for (const auto& o : listed.value().items) apply(r, ChangeType::kAdded, *o);
  }
}

size_t SimCache::apply_pending(PassWorker* helper) {
  std::vector<Change> changes;
  {
    std::lock_guard g(pending_mu_);
    changes.swap(pending_);
  }
  // A large batch (the boot's passes each change 150,000 pods) is decoded a chunk ahead on
  // the helper while this thread files the current chunk into the indexes: decoding is pure
  // (the stored text in, a DOM and models out), filing is not. Chunks keep the decoded but
  // not yet filed objects few (decoding a whole batch first held a second copy of every
  // pod) and still warm in the cache when they are filed.
  constexpr size_t kChunk = 256;
  if (!helper || changes.size() < 8 * kChunk) {
    for (const auto& c : changes) apply(c.resource, c.type, *c.object);
    return changes.size();
  }
  std::vector<Decoded> chunks[2];
  auto decode_chunk = [&](size_t begin, std::vector<Decoded>& out) {
    const size_t end = std::min(changes.size(), begin + kChunk);
    out.resize(end - begin);
    for (size_t i = begin; i < end; ++i)
      if (changes[i].type != ChangeType::kDeleted) out[i - begin] = decode(changes[i].resource, *changes[i].object);
  };
  decode_chunk(0, chunks[0]);
  for (size_t begin = 0, k = 0; begin < changes.size(); begin += kChunk, ++k) {
    const size_t next = begin + kChunk;
    if (next < changes.size()) helper->post([&, next, k] { decode_chunk(next, chunks[(k + 1) % 2]); });
    auto& mine = chunks[k % 2];
    try {
      for (size_t i = begin; i < std::min(changes.size(), next); ++i)
        apply(changes[i].resource, changes[i].type, *changes[i].object,
              changes[i].type == ChangeType::kDeleted ? nullptr : &mine[i - begin]);
    } catch (...) {
      if (next < changes.size()) helper->wait();
      throw;
    }
    if (next < changes.size()) helper->wait();
  }
  return changes.size();
}

namespace {
// clear() on a hash map costs its bucket count, which stays at its high-water mark: the boot's
// 150,000 changed pods made every later pass (tens of thousands, a few changes each) wipe
// megabytes. A map that outgrew what it holds is replaced instead.
template <class Map>
void clear_small(Map& m) {
  if (m.bucket_count() > 64 && m.bucket_count() > 4 * m.size()) m = Map();
  else m.clear();
}
}  // namespace

void SimCache::clear_changes() {
  clear_small(previous_generation_);
  for (auto& [r, t] : tables_) {
    t.changed.clear();
    clear_small(t.changed_pos);
  }
}

void SimCache::unindex(Table& t, const std::string& key, Entry& e) {
  unindex_keys(t, key, e);
  unindex_pod(e);
}

void SimCache::unindex_keys(Table& t, const std::string& key, Entry& e) {
  auto drop = [&](Index& index, const std::string& id) {
    auto it = index.find(id);
    if (it != index.end() && it->second.erase(key) && it->second.empty()) index.erase(it);
  };
  if (!e.owner_uid.empty()) drop(t.keys_by_owner, e.owner_uid);
  if (!e.node.empty()) drop(t.keys_by_node, e.node);
  drop(t.keys_by_ns, e.ns);
  for (const auto& l : e.label_keys) drop(t.keys_by_label, l);
  if (!e.uid.empty()) t.key_by_uid.erase(e.uid);
}

void SimCache::unindex_pod(Entry& e) {
  if (e.pod) {
    pod_by_dom_.erase(e.dom.get());
    if (planner::holds_node_resources(*e.pod)) {
      auto& u = usage_[e.node];
      u.cpu_milli -= e.used.cpu_milli;
      u.memory_bytes -= e.used.memory_bytes;
      u.pods -= e.used.pods;
    }
    if (e.counted_pos != SIZE_MAX) {
      auto& c = counted_[e.ns];
      const size_t i = e.counted_pos;
      c.pods[i] = c.pods.back();
      c.entries[i] = c.entries.back();
      c.entries[i]->counted_pos = i;
      c.pods.pop_back();
      c.entries.pop_back();
      e.counted_pos = SIZE_MAX;
      for (const auto& l : e.label_keys) {
        auto it = counted_by_label_.find(l);
        if (it != counted_by_label_.end() && it->second.erase(e.pod.get()) && it->second.empty()) counted_by_label_.erase(it);
      }
    }
  }
}

void SimCache::index_keys(Table& t, const std::string& key, Entry& e) {
  const value* dom = e.dom.get();
  if (!e.owner_uid.empty()) t.keys_by_owner[e.owner_uid].emplace(key, dom);
  if (!e.node.empty()) t.keys_by_node[e.node].emplace(key, dom);
  t.keys_by_ns[e.ns].emplace(key, dom);
  for (const auto& l : e.label_keys) t.keys_by_label[l].emplace(key, dom);
  if (!e.uid.empty()) t.key_by_uid[e.uid] = key;
}

void SimCache::index_pod(Entry& e) {
  if (!e.pod) return;
  pod_by_dom_[e.dom.get()] = e.pod.get();
  if (planner::holds_node_resources(*e.pod)) {
    e.used = {e.pod->spec->cpu_milli, e.pod->spec->memory_bytes, 1};
    auto& u = usage_[e.node];
    u.cpu_milli += e.used.cpu_milli;
    u.memory_bytes += e.used.memory_bytes;
    u.pods += 1;
    if (!e.pod->meta.deleted) {  // terminating pods are not counted by spread
      auto& c = counted_[e.ns];
      e.counted_pos = c.pods.size();
      c.pods.push_back(e.pod.get());
      c.entries.push_back(&e);
      for (const auto& l : e.label_keys) counted_by_label_[l].insert(e.pod.get());
    }
  }
}

SimCache::Decoded SimCache::decode(const std::string& resource, const StoredObject& o) {
  Decoded d;
  std::error_code ec;
  d.dom = model::parse_json(o.json, ec);
  d.owner_uid = json::controller_uid(d.dom);
  d.uid = json::uid(d.dom);
  if (resource == "/pods") {
    d.node = json::str(d.dom, {"spec", "nodeName"});
    for (const auto& [k, v] : o.labels) d.label_keys.push_back(label_index_key(o.ns, k, v));
    auto pod = model::CodecFor<model::Pod>::decode(o.json);
    if (pod.ok()) d.pod = pod.value();
  } else if (resource == "/nodes") {
    auto node = model::CodecFor<model::Node>::decode(o.json);
    if (node.ok()) d.node_model = node.value();
  }
  return d;
}

void SimCache::apply(const std::string& resource, ChangeType type, const StoredObject& o, Decoded* decoded) {
  auto& t = tables_[resource];
  if (resource == "/nodes") ++nodes_version_;
  const auto key = store_key(o.ns, o.name);
  auto it = t.find(key);
  if (it != t.by_key.end() && it->second.rv >= o.rv) return;  // already newer (loaded after this was queued)
  // Record the change (one record per key per pass: first "previous", latest state).
  auto [pos, fresh] = t.changed_pos.try_emplace(key, t.changed.size());
  if (fresh) {
    Changed ch;
    ch.key = key;
    ch.ns = o.ns;
    if (it != t.by_key.end()) {
      ch.previous_owner_uid = it->second.owner_uid;
      ch.previous_node = it->second.node;
      ch.spec_changed = false;
      previous_generation_[key] = it->second.generation;
    }
    t.changed.push_back(std::move(ch));
  }
  Changed& ch = t.changed[pos->second];
  if (type == ChangeType::kDeleted) {
    if (it != t.by_key.end()) {
      unindex(t, key, it->second);
      ch.owner_uid = it->second.owner_uid;
      ch.node = it->second.node;
      ch.deleted = std::shared_ptr<const value>(std::move(it->second.dom));
      t.hashed.erase(it->first);
      t.by_key.erase(it);
    }
    ch.object = nullptr;
    ch.spec_changed = true;
    if (!ch.deleted) {
      std::error_code ec;
      ch.deleted = std::make_shared<const value>(model::parse_json(o.json, ec));
    }
    return;
  }
  Decoded own;
  if (!decoded) {
    own = decode(resource, o);
    decoded = &own;
  }
  value& dom = decoded->dom;
  // What the indexes file the object under. Most changes (a status written) leave all of it
  // as it was, and then the indexes are left alone: taking every pod out of its owner's,
  // node's, namespace's and labels' maps and putting it back was a twentieth of the sim.
  std::string& owner_uid = decoded->owner_uid;
  std::string& object_uid = decoded->uid;
  std::string& node = decoded->node;
  std::vector<std::string>& label_keys = decoded->label_keys;
  const bool existed = it != t.by_key.end();
  const bool same_keys = existed && it->second.owner_uid == owner_uid && it->second.uid == object_uid &&
                         it->second.node == node && it->second.ns == o.ns && it->second.label_keys == label_keys;
  if (existed) {
    if (!same_keys) unindex_keys(t, key, it->second);
    unindex_pod(it->second);
  }
  if (!existed) {
    it = t.by_key.emplace(key, Entry{std::make_unique<value>()}).first;
    t.hashed.emplace(it->first, it);
  }
  Entry& e = it->second;
  *e.dom = std::move(dom);  // same address: the index entries pointing at it stay right
  e.owner_uid = std::move(owner_uid);
  e.ns = o.ns;
  e.uid = std::move(object_uid);
  e.node = std::move(node);
  e.label_keys = std::move(label_keys);
  e.rv = o.rv;
  e.generation = json::num(*e.dom, {"metadata", "generation"});
  if (!ch.spec_changed) {
    auto pg = previous_generation_.find(key);
    ch.spec_changed = pg == previous_generation_.end() || pg->second != e.generation;
  }
  e.pod = std::move(decoded->pod);
  e.node_model = std::move(decoded->node_model);
  if (!same_keys) index_keys(t, it->first, e);  // the map's own key: the indexes keep views of it
  index_pod(e);
  ch.object = e.dom.get();
  ch.deleted.reset();
  ch.owner_uid = e.owner_uid;
  ch.node = e.node;
}

Objects SimCache::list(const std::string& resource) const {
  Objects out;
  auto t = tables_.find(resource);
  if (t == tables_.end()) return out;
  out.items.reserve(t->second.by_key.size());
  for (const auto& [k, e] : t->second.by_key) out.items.push_back(e.dom.get());
  return out;
}

const value* SimCache::get(const std::string& resource, const std::string& key) const {
  auto t = tables_.find(resource);
  if (t == tables_.end()) return nullptr;
  auto it = t->second.find(key);
  return it == t->second.by_key.end() ? nullptr : it->second.dom.get();
}

const value* SimCache::by_uid(const std::string& resource, const std::string& uid) const {
  auto t = tables_.find(resource);
  if (t == tables_.end() || uid.empty()) return nullptr;
  auto k = t->second.key_by_uid.find(uid);
  return k == t->second.key_by_uid.end() ? nullptr : get(resource, k->second);
}

Objects SimCache::lookup(const Index& index, const std::string& id) {
  Objects out;
  auto it = index.find(id);
  if (it == index.end()) return out;
  out.items.reserve(it->second.size());
  for (const auto& [key, dom] : it->second) out.items.push_back(dom);
  return out;
}

Objects SimCache::owned_by(const std::string& resource, const std::string& owner_uid) const {
  auto t = tables_.find(resource);
  if (t == tables_.end() || owner_uid.empty()) return {};
  return lookup(t->second.keys_by_owner, owner_uid);
}

Objects SimCache::pods_in_namespace(const std::string& ns) const {
  auto t = tables_.find("/pods");
  if (t == tables_.end()) return {};
  return lookup(t->second.keys_by_ns, ns);
}

Objects SimCache::pods_selected(const std::string& ns, const Selector& selector) const {
  auto t = tables_.find("/pods");
  if (t == tables_.end()) return {};
  const std::string by_label = label_index_key(ns, selector);
  const Objects candidates = by_label.empty() ? lookup(t->second.keys_by_ns, ns)
                                              : lookup(t->second.keys_by_label, by_label);
  // A selector that is just the requirement the label index is keyed by: every candidate
  // matches (the common PDB and ReplicaSet selector, matchLabels {app: x}).
  if (!by_label.empty() && selector.requirements.size() == 1) return candidates;
  Objects out;
  // Matched where the labels lie: building a map of each candidate's labels was most of the
  // PDB controller's time at 150,000 pods.
  for (const auto* p : candidates.items) {
    const value* labels = json::at(*p, {"metadata", "labels"});
    const bool has_labels = labels && labels->is_object();
    const auto lookup = [&](const std::string& key) -> const std::string* {
      if (!has_labels) return nullptr;
      auto it = labels->as_object().find(key);
      return it != labels->as_object().end() && it->second.is_string() ? &it->second.as_string() : nullptr;
    };
    if (selector.matches_with(lookup)) out.items.push_back(p);
  }
  return out;
}

Objects SimCache::pods_on_node(const std::string& node) const {
  auto t = tables_.find("/pods");
  if (t == tables_.end() || node.empty()) return {};
  return lookup(t->second.keys_by_node, node);
}

const std::vector<Changed>& SimCache::changed(const std::string& resource) const {
  auto t = tables_.find(resource);
  return t == tables_.end() ? kNoChanges : t->second.changed;
}

Objects SimCache::touched(const std::string& resource) const {
  std::set<std::string> keys;
  for (const auto& ch : changed(resource))
    if (ch.object) keys.insert(ch.key);
  std::set<std::string> owners;
  auto add_owners_of = [&](const std::string& r) {
    for (const auto& ch : changed(r)) {
      owners.insert(ch.owner_uid);
      owners.insert(ch.previous_owner_uid);
    }
  };
  add_owners_of("/pods");
  if (resource == "apps/deployments") {
    std::set<std::string> grand;
    for (const auto& u : owners)
      if (const value* rs = by_uid("apps/replicasets", u)) grand.insert(json::controller_uid(*rs));
    owners.insert(grand.begin(), grand.end());
    add_owners_of("apps/replicasets");
  }
  owners.erase("");
  if (auto t = tables_.find(resource); t != tables_.end())
    for (const auto& u : owners)
      if (auto k = t->second.key_by_uid.find(u); k != t->second.key_by_uid.end()) keys.insert(k->second);
  Objects out;
  for (const auto& k : keys)
    if (const value* o = get(resource, k)) out.items.push_back(o);
  return out;
}

const std::vector<const model::Node*>& SimCache::node_models() const {
  if (node_models_version_ == nodes_version_) return node_models_;
  node_models_.clear();
  if (auto t = tables_.find("/nodes"); t != tables_.end())
    for (const auto& [k, e] : t->second.by_key)
      if (e.node_model && !e.node_model->meta.deleted) node_models_.push_back(e.node_model.get());
  node_models_version_ = nodes_version_;
  return node_models_;
}

const model::Node* SimCache::node_model(const std::string& name) const {
  auto t = tables_.find("/nodes");
  if (t == tables_.end()) return nullptr;
  auto it = t->second.find(name);
  return it == t->second.by_key.end() ? nullptr : it->second.node_model.get();
}

const model::Pod* SimCache::pod_model(const std::string& key) const {
  auto t = tables_.find("/pods");
  if (t == tables_.end()) return nullptr;
  auto it = t->second.find(key);
  return it == t->second.by_key.end() ? nullptr : it->second.pod.get();
}

std::vector<const model::Pod*> SimCache::candidates(std::string_view ns, const model::LabelSelector& selector) const {
  if (!selector.match_labels.empty()) {
    const auto& [k, v] = selector.match_labels.front();
    auto it = counted_by_label_.find(label_index_key(std::string(ns), k.str(), v.str()));
    if (it == counted_by_label_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }
  auto it = counted_.find(std::string(ns));
  return it == counted_.end() ? kNoPods : it->second.pods;
}

const model::Pod* SimCache::pod_of(const web::json::value& pod) const {
  auto it = pod_by_dom_.find(&pod);
  return it == pod_by_dom_.end() ? nullptr : it->second;
}

}  // namespace nonevent::sim
