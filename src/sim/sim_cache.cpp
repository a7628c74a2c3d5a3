#include "sim/sim_cache.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "model/codecs.h"
#include "model/json_parse.h"
#include "sim/json_util.h"
#include "sim/pass_worker.h"

namespace nonevent::sim {

using web::json::value;

namespace {
const std::vector<const model::Pod*> kNoPods;
const std::vector<Changed> kNoChanges;
std::atomic<long> lazy_builds_{0};
}  // namespace

const value& CachedJson::get() const {
  uint8_t s = state_.load(std::memory_order_acquire);
  if (s == kBuilt) return dom_;
  if (s == kText && state_.compare_exchange_strong(s, kBuilding, std::memory_order_acq_rel)) {
    std::error_code ec;
    value built = text_ ? model::parse_json(text_->json, ec) : value();
    dom_ = std::move(built);
    lazy_builds_.fetch_add(1, std::memory_order_relaxed);
    state_.store(kBuilt, std::memory_order_release);
    return dom_;
  }
  // The other thread of the pass is building it: a parse's wait.
  while (state_.load(std::memory_order_acquire) != kBuilt) std::this_thread::yield();
  return dom_;
}

void CachedJson::set(value dom) {
  dom_ = std::move(dom);
  text_.reset();
  state_.store(kBuilt, std::memory_order_release);
}

void CachedJson::set_text(StoredPtr text) {
  dom_ = value();  // a DOM not taken (retired) is freed here
  text_ = std::move(text);
  state_.store(kText, std::memory_order_release);
}

value CachedJson::take() {
  value out;
  if (state_.load(std::memory_order_acquire) == kBuilt) std::swap(out, dom_);
  text_.reset();
  state_.store(kText, std::memory_order_release);
  return out;
}

value* CachedJson::built() { return state_.load(std::memory_order_acquire) == kBuilt ? &dom_ : nullptr; }

long CachedJson::lazy_builds() { return lazy_builds_.load(std::memory_order_relaxed); }

const std::vector<std::string>& SimCache::resources() {
  static const std::vector<std::string> r{"/nodes",           "/pods",           "apps/deployments",
                                          "apps/replicasets", "/replicationcontrollers", "apps/statefulsets", "apps/daemonsets",
                                          "batch/jobs",       "policy/poddisruptionbudgets",
                                          "cluster.x-k8s.io/machines", "cluster.x-k8s.io/machinedeployments",
                                          "nodemaintenance.medik8s.io/nodemaintenances",
                                          "/persistentvolumeclaims",
                                          "/persistentvolumes"};
  return r;
}

void SimCache::on_change(const Change& c) {
  static const std::set<std::string> wanted(resources().begin(), resources().end());
  if (!wanted.count(c.resource)) return;
  std::lock_guard g(pending_mu_);
  pending_.push_back({c, std::nullopt});
}

void SimCache::load(const ObjectStore& store) {
  for (const auto& r : resources()) {
    auto listed = store.list({.resource = r}, 0, "");
    if (!listed.ok()) continue;
    for (const auto& o : listed.value().items) apply(r, ChangeType::kAdded, o);
  }
}

size_t SimCache::apply_pending(PassWorker* helper) {
  // The queue the writes go on next is the last batch's, emptied, with its capacity: grown
  // from nothing each pass, its reallocations moved the boot's 150,000 queued changes
  // again and again, under the store's lock (a fiftieth of the writes' time).
  std::vector<Pending> changes = std::move(spare_);
  changes.clear();
  {
    std::lock_guard g(pending_mu_);
    changes.swap(pending_);
    decode_next_ = 0;
    ++pending_batch_;
  }
  retired_before_apply_ = retired_count();
  const size_t n = changes.size();
  if (n > 0) forget_changed_pod_owners();  // more changed pods, maybe
  // Decoding (the stored text in, a DOM and models out) is pure and most of the cost;
  // filing into the indexes is not, and goes in order on this thread. With a helper, both
  // threads take the next change to decode from a shared counter, the helper staying at
  // most kAhead changes in front of the filing (decoded but unfiled objects are a second
  // copy: the boot's passes change 150,000 pods each) and, once nothing is left to decode,
  // freeing what earlier batches replaced while this thread files.
  constexpr size_t kAhead = 512;
  std::vector<std::atomic<bool>> ready(n);
  std::atomic<size_t> next{0}, filed{0};
  std::atomic<bool> filing_done{false};
  auto decode_one = [&](size_t i) {
    auto& p = changes[i];
    if (p.change.type != ChangeType::kDeleted && !p.decoded) p.decoded = decode(p.change);
    ready[i].store(true, std::memory_order_release);
  };
  const bool helped = helper && n >= 4;
  if (helped)
    helper->post([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        while (i > filed.load(std::memory_order_acquire) + kAhead) std::this_thread::yield();
        try {
          decode_one(i);
        } catch (...) {
          ready[i].store(true, std::memory_order_release);  // filed without: apply() decodes it
        }
      }
      while (!filing_done.load(std::memory_order_acquire) && free_retired(16)) {
      }
    });
  try {
    for (size_t f = 0; f < n; ++f) {
      while (!ready[f].load(std::memory_order_acquire)) {
        // Waiting for the helper to finish this one, decode another.
        if (next.load() < std::min(n, f + kAhead)) {
          if (const size_t j = next.fetch_add(1); j < n) decode_one(j);
        } else {
          std::this_thread::yield();
        }
      }
      auto& p = changes[f];
      apply(p.change.resource, p.change.type, p.change.object, p.decoded ? &*p.decoded : nullptr);
      p.decoded.reset();
      filed.store(f + 1, std::memory_order_release);
    }
  } catch (...) {
    next = n;
    filed = n;
    filing_done = true;
    if (helped) helper->wait();
    throw;
  }
  filing_done = true;
  if (helped) helper->wait();
  changes.clear();
  if (changes.capacity() <= 4 * n + 1024) spare_ = std::move(changes);  // else let a burst's go
  // What this batch replaced is freed when a thread has nothing else to do (work_ahead()).
  std::lock_guard g(retired_mu_);
  retired_.insert(retired_.end(), std::make_move_iterator(retiring_.begin()), std::make_move_iterator(retiring_.end()));
  retiring_.clear();
  return n;
}

size_t SimCache::retired_count() {
  std::lock_guard g(retired_mu_);
  return retired_.size();
}

bool SimCache::free_retired(size_t count) {
  std::vector<Retired> batch;  // freed on return, outside the lock
  {
    std::lock_guard g(retired_mu_);
    const auto k = static_cast<std::ptrdiff_t>(std::min(retired_.size(), count));
    batch.insert(batch.end(), std::make_move_iterator(retired_.end() - k), std::make_move_iterator(retired_.end()));
    retired_.erase(retired_.end() - k, retired_.end());
  }
  return !batch.empty();
}

bool SimCache::work_ahead() {
  if (free_retired(16)) return true;
  Change change;
  size_t index = 0;
  uint64_t batch = 0;
  {
    std::lock_guard g(pending_mu_);
    while (decode_next_ < pending_.size() && pending_[decode_next_].change.type == ChangeType::kDeleted) ++decode_next_;
    if (decode_next_ == pending_.size()) return false;
    index = decode_next_++;
    change = pending_[index].change;
    batch = pending_batch_;
  }
  std::optional<Decoded> decoded = decode(change);
  std::lock_guard g(pending_mu_);
  // The queue it came from may have been taken meanwhile (then it is decoded again there).
  if (batch == pending_batch_ && index < pending_.size()) pending_[index].decoded.swap(decoded);
  return true;
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
  forget_changed_pod_owners();
  for (auto& [r, t] : tables_) {
    t.changed.clear();
    clear_small(t.changed_pos);
  }
}

void SimCache::unindex(Table& t, const std::string& key, Entry& e) {
  unindex_keys(t, key, e);
  unindex_pod(e);
}

void SimCache::drop_key(Index& index, const std::string& id, const std::string& key) {
  auto it = index.find(id);
  if (it != index.end() && it->second.erase(key) && it->second.empty()) index.erase(it);
}

void SimCache::unindex_keys(Table& t, const std::string& key, Entry& e) {
  if (!e.owner_uid.empty()) drop_key(t.keys_by_owner, e.owner_uid, key);
  if (!e.node.empty()) drop_key(t.keys_by_node, e.node, key);
  drop_key(t.keys_by_ns, e.ns, key);
  for (const auto& l : e.label_keys) drop_key(t.keys_by_label, l, key);
  if (!e.uid.empty()) t.key_by_uid.erase(e.uid);
  tally(e, -1);
}

void SimCache::tally(const Entry& e, int sign) {
  if (!e.is_pod) return;
  const auto delta = static_cast<size_t>(sign);  // modular: adding (size_t)-1 subtracts one
  for (const auto& l : e.label_keys) {
    auto& t = tallies_[l];
    t.pods += delta;
    if (e.tallied.ready_staying) t.ready_staying += delta;
    auto c = t.controllers.try_emplace(e.owner_uid, 0).first;
    c->second += delta;
    if (c->second == 0) t.controllers.erase(c);
    if (t.pods == 0) tallies_.erase(l);
  }
  if (!e.owner_uid.empty() && e.tallied.active) {
    auto o = owner_tallies_.try_emplace(e.owner_uid).first;
    o->second.active += delta;
    if (e.tallied.active_ready) o->second.active_ready += delta;
    if (o->second.active == 0) owner_tallies_.erase(o);
  }
}

void SimCache::retally(Entry& e, const Entry::Counts& now) {
  if (now.ready_staying != e.tallied.ready_staying)
    for (const auto& l : e.label_keys) tallies_[l].ready_staying += now.ready_staying ? 1 : static_cast<size_t>(-1);
  if (!e.owner_uid.empty() && !(now.active == e.tallied.active && now.active_ready == e.tallied.active_ready)) {
    auto o = owner_tallies_.try_emplace(e.owner_uid).first;
    o->second.active += static_cast<size_t>(int{now.active} - int{e.tallied.active});
    o->second.active_ready += static_cast<size_t>(int{now.active_ready} - int{e.tallied.active_ready});
    if (o->second.active == 0) owner_tallies_.erase(o);
  }
  e.tallied = now;
}

SimCache::Entry::Counts SimCache::counts_of(const Entry& e) {
  Entry::Counts c;
  if (!e.is_pod) return c;
  bool ready = false, deleted = false;
  if (e.pod) {
    ready = e.pod->ready;
    deleted = e.pod->meta.deleted.has_value();
    c.active = !deleted && !e.pod->finished();
  } else {
    const value& dom = e.dom->get();
    ready = json::pod_ready(dom);
    deleted = json::terminating(dom);
    c.active = json::pod_active(dom);
  }
  c.ready_staying = ready && !deleted;
  c.active_ready = c.active && ready;
  return c;
}

void SimCache::unindex_pod(Entry& e) {
  if (e.pod) {
    pod_by_dom_.erase(e.dom->address());
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
        if (it != counted_by_label_.end() && it->second.erase(&e) && it->second.empty()) counted_by_label_.erase(it);
      }
    }
  }
}

void SimCache::refile_status(Entry& e, std::shared_ptr<const model::Pod> pod, const StoredPtr& stored) {
  const bool counted = e.counted_pos != SIZE_MAX;
  const bool holds = planner::holds_node_resources(*pod);
  const bool in_place = planner::holds_node_resources(*e.pod) == holds && counted == (holds && !pod->meta.deleted);
  if (in_place) {
    // Its node's usage and its place in spread counting stand; they point at the new model.
    pod_by_dom_[e.dom->address()] = pod.get();
    if (counted) counted_[e.ns].pods[e.counted_pos] = pod.get();
  } else {
    unindex_pod(e);  // it finished: out of its node's usage and of spread counting
  }
  if (retired_before_apply_ + retiring_.size() < kMaxRetired) retiring_.push_back({e.dom->take(), std::move(e.pod), nullptr});
  e.dom->set_text(stored);
  e.rv = stored->rv;
  e.pod = std::move(pod);
  if (!in_place) index_pod(e);
  retally(e, counts_of(e));
}

void SimCache::index_keys(Table& t, const std::string& key, Entry& e) {
  const Entry* entry = &e;
  if (!e.owner_uid.empty()) t.keys_by_owner[e.owner_uid].emplace(key, entry);
  if (!e.node.empty()) t.keys_by_node[e.node].emplace(key, entry);
  t.keys_by_ns[e.ns].emplace(key, entry);
  for (const auto& l : e.label_keys) t.keys_by_label[l].emplace(key, entry);
  if (!e.uid.empty()) t.key_by_uid[e.uid] = key;
  tally(e, +1);
}

void SimCache::index_pod(Entry& e) {
  if (!e.pod) return;
  pod_by_dom_[e.dom->address()] = e.pod.get();
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
      for (const auto& l : e.label_keys) counted_by_label_[l].insert(&e);
    }
  }
}

SimCache::Decoded SimCache::decode(const Change& c) {
  const StoredObject& o = *c.object;
  // A node's model reads its status too.
  if (c.status_only && c.previous && o.splice && c.resource != "/nodes") {
    Decoded d;
    const auto& span = o.splice->status;
    const std::string_view status = std::string_view(o.json).substr(span.begin, span.end - span.begin);
    d.status_of_rv = c.previous->rv;
    if (c.resource == "/pods") {
      if (auto facts = model::decode_pod_status(status); facts.ok()) {
        d.pod_status = std::move(facts.value());
        return d;
      }
    } else {
      std::error_code ec;
      d.status = model::parse_json(status, ec);
      if (!ec) return d;
    }
  }
  return decode_whole(c.resource, o);
}

SimCache::Decoded SimCache::decode_whole(const std::string& resource, const StoredObject& o) {
  Decoded d;
  std::error_code ec;
  if (resource == "/pods") {
    for (const auto& [k, v] : *o.labels) d.label_keys.push_back(label_index_key(o.ns, k, v));
    auto pod = model::CodecFor<model::Pod>::decode(o.json);
    if (pod.ok()) {
      // No DOM: the model has what the indexes need; the DOM is built if someone asks.
      d.pod = pod.value();
      const auto* c = d.pod->meta.controller();
      d.owner_uid = c ? std::string(c->uid.view()) : std::string();
      d.uid = std::string(d.pod->meta.uid.view());
      d.node = d.pod->node_name.str();
      return d;
    }
  }
  d.dom = model::parse_json(o.json, ec);
  d.owner_uid = json::controller_uid(*d.dom);
  d.uid = json::uid(*d.dom);
  if (resource == "/pods") {
    d.node = json::str(*d.dom, {"spec", "nodeName"});  // a pod whose model did not decode
  } else if (resource == "/nodes") {
    auto node = model::CodecFor<model::Node>::decode(o.json);
    if (node.ok()) d.node_model = node.value();
  }
  return d;
}

void SimCache::apply(const std::string& resource, ChangeType type, const StoredPtr& stored, Decoded* decoded) {
  const StoredObject& o = *stored;
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
      ch.previous_generation = it->second.generation;
    }
    t.changed.push_back(std::move(ch));
  }
  Changed& ch = t.changed[pos->second];
  if (type == ChangeType::kDeleted) {
    if (it != t.by_key.end()) {
      unindex(t, key, it->second);
      ch.owner_uid = it->second.owner_uid;
      ch.node = it->second.node;
      ch.pod = std::move(it->second.pod);
      ch.deleted = std::shared_ptr<const CachedJson>(std::move(it->second.dom));
      t.hashed.erase(it->first);
      t.by_key.erase(it);
    }
    ch.object = nullptr;
    ch.spec_changed = true;
    if (!ch.deleted) {
      auto last = std::make_shared<CachedJson>();
      last->set_text(stored);
      ch.deleted = std::move(last);
    }
    return;
  }
  const bool existed = it != t.by_key.end();
  if (decoded && decoded->status) {
    value* dom = existed && it->second.rv == decoded->status_of_rv ? it->second.dom->built() : nullptr;
    if (dom) {
      // Only the status and the version changed: what the indexes and tallies file the
      // object under, its generation and the changed record's owner stay as they are.
      // Swapped, and the old status left for an idle thread to free (as a replaced DOM is):
      // freed here, on the filing thread both threads wait for, it was a twentieth of an
      // evacuation's filing.
      std::swap((*dom)["status"], *decoded->status);
      if (retired_before_apply_ + retiring_.size() < kMaxRetired) retiring_.push_back({std::move(*decoded->status), nullptr, nullptr});
      (*dom)["metadata"]["resourceVersion"] = value::string(std::to_string(o.rv));
      Entry& e = it->second;
      e.rv = o.rv;
      record(ch, e);
      return;
    }
    decoded = nullptr;  // the DOM it was written over is not the one held: decode it whole
  }
  if (decoded && decoded->pod_status) {
    if (existed && it->second.rv == decoded->status_of_rv && it->second.pod) {
      // The model it was written over with the new status. Its keys, labels, node, owner,
      // spec and generation are as they were, so only what the status moves is refiled:
      // taking the pod out of every index and putting it back was most of the filing of a
      // kubelet's status write, and the filing is what both threads wait for between passes.
      Entry& e = it->second;
      refile_status(e, model::pod_with_status(*e.pod, *decoded->pod_status, std::to_string(o.rv)), stored);
      record(ch, e);
      return;
    }
    decoded = nullptr;
  }
  std::optional<Decoded> own;
  if (!decoded) {
    own = decode_whole(resource, o);
    decoded = &*own;
  }
  // What the indexes file the object under. Most changes (a status written) leave all of it
  // as it was, and then the indexes are left alone: taking every pod out of its owner's,
  // node's, namespace's and labels' maps and putting it back was a twentieth of the sim.
  std::string& owner_uid = decoded->owner_uid;
  std::string& object_uid = decoded->uid;
  std::string& node = decoded->node;
  std::vector<std::string>& label_keys = decoded->label_keys;
  const bool same_but_node = existed && it->second.owner_uid == owner_uid && it->second.uid == object_uid &&
                             it->second.ns == o.ns && it->second.label_keys == label_keys;
  const bool same_keys = same_but_node && it->second.node == node;
  // A pod bound to a node moves in the node index alone: taking it out of its owner's,
  // namespace's and labels' maps and putting it back was a fifth of filing a binding.
  const bool node_only = same_but_node && !same_keys;
  if (existed) {
    if (node_only) {
      if (!it->second.node.empty()) drop_key(t.keys_by_node, it->second.node, key);
    } else if (!same_keys) {
      unindex_keys(t, key, it->second);
    }
    unindex_pod(it->second);
    // Kept for a thread with nothing else to do, up to a bound: the boot's passes replace
    // 150,000 pods each, and keeping them all would hold a second copy of the cluster.
    if (retired_before_apply_ + retiring_.size() < kMaxRetired)
      retiring_.push_back({it->second.dom->take(), std::move(it->second.pod), std::move(it->second.node_model)});
  }
  if (!existed) {
    it = t.by_key.try_emplace(key).first;
    it->second.dom = std::make_unique<CachedJson>();
    t.hashed.emplace(it->first, it);
  }
  Entry& e = it->second;
  // Same address: the index entries pointing at it stay right.
  if (decoded->dom) e.dom->set(std::move(*decoded->dom));
  else e.dom->set_text(stored);
  e.owner_uid = std::move(owner_uid);
  e.ns = o.ns;
  e.uid = std::move(object_uid);
  e.node = std::move(node);
  e.label_keys = std::move(label_keys);
  e.rv = o.rv;
  e.pod = std::move(decoded->pod);
  e.generation = e.pod ? e.pod->meta.generation : json::num(e.dom->get(), {"metadata", "generation"});
  if (!ch.spec_changed) {
    ch.spec_changed = !ch.previous_generation || *ch.previous_generation != e.generation;
  }
  e.node_model = std::move(decoded->node_model);
  // A pod's tallies move with its labels and owner (index_keys), or else, after a status
  // change, by what it now counts as.
  e.is_pod = resource == "/pods";
  if (same_but_node) retally(e, counts_of(e));
  else e.tallied = counts_of(e);
  // The map's own key: the indexes keep views of it.
  if (node_only) {
    if (!e.node.empty()) t.keys_by_node[e.node].emplace(it->first, &e);
  } else if (!same_keys) {
    index_keys(t, it->first, e);
  }
  index_pod(e);
  record(ch, e);
}

void SimCache::record(Changed& ch, const Entry& e) {
  ch.object = e.dom.get();
  ch.deleted.reset();
  ch.pod = e.pod;
  ch.owner_uid = e.owner_uid;
  ch.node = e.node;
}

Objects SimCache::list(const std::string& resource) const {
  Objects out;
  auto t = tables_.find(resource);
  if (t == tables_.end()) return out;
  out.items.reserve(t->second.by_key.size());
  for (const auto& [k, e] : t->second.by_key) out.items.push_back(&e.dom->get());
  return out;
}

const value* SimCache::get(const std::string& resource, const std::string& key) const {
  auto t = tables_.find(resource);
  if (t == tables_.end()) return nullptr;
  auto it = t->second.find(key);
  return it == t->second.by_key.end() ? nullptr : &it->second.dom->get();
}

const CachedJson* SimCache::pod_json(const std::string& key) const {
  auto t = tables_.find("/pods");
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
  for (const auto& [key, entry] : it->second) out.items.push_back(&entry->dom->get());
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

const SimCache::LabelTally* SimCache::pods_tally(const std::string& ns, const Selector& selector) const {
  if (selector.requirements.size() != 1) return nullptr;
  const std::string by_label = label_index_key(ns, selector);
  if (by_label.empty()) return nullptr;
  static const LabelTally kNone;
  auto it = tallies_.find(by_label);
  return it == tallies_.end() ? &kNone : &it->second;
}

const model::Pod* SimCache::selected_pod(const std::string& ns, const Selector& selector, const std::string& name) const {
  auto t = tables_.find("/pods");
  if (t == tables_.end()) return nullptr;
  auto it = t->second.find(store_key(ns, name));
  if (it == t->second.by_key.end()) return nullptr;
  const auto& keys = it->second.label_keys;
  return std::find(keys.begin(), keys.end(), label_index_key(ns, selector)) == keys.end() ? nullptr : it->second.pod.get();
}

const SimCache::OwnerTally& SimCache::owner_tally(const std::string& owner_uid) const {
  static const OwnerTally kNone;
  auto it = owner_tallies_.find(owner_uid);
  return it == owner_tallies_.end() ? kNone : it->second;
}

Objects SimCache::pods_on_node(const std::string& node) const {
  auto t = tables_.find("/pods");
  if (t == tables_.end() || node.empty()) return {};
  return lookup(t->second.keys_by_node, node);
}

std::vector<std::string> SimCache::pod_keys_on_node(const std::string& node) const {
  std::vector<std::string> out;
  auto t = tables_.find("/pods");
  if (t == tables_.end() || node.empty()) return out;
  auto it = t->second.keys_by_node.find(node);
  if (it == t->second.keys_by_node.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [key, entry] : it->second) out.emplace_back(key);
  return out;
}

std::vector<const model::Pod*> SimCache::pod_models_owned_by(const std::string& owner_uid) const {
  std::vector<const model::Pod*> out;
  auto t = tables_.find("/pods");
  if (t == tables_.end() || owner_uid.empty()) return out;
  auto it = t->second.keys_by_owner.find(owner_uid);
  if (it == t->second.keys_by_owner.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [key, entry] : it->second)
    if (entry->pod) out.push_back(entry->pod.get());
  return out;
}

const std::vector<Changed>& SimCache::changed(const std::string& resource) const {
  auto t = tables_.find(resource);
  return t == tables_.end() ? kNoChanges : t->second.changed;
}

void SimCache::forget_changed_pod_owners() {
  std::lock_guard g(owners_mu_);
  owners_valid_ = false;
  changed_pod_owners_.clear();
}

const std::vector<std::string_view>& SimCache::changed_pod_owners() const {
  std::lock_guard g(owners_mu_);
  if (owners_valid_) return changed_pod_owners_;
  std::unordered_set<std::string_view> seen;
  std::string_view last;  // a ReplicaSet's pods mostly change together: most repeats cost one compare
  auto add = [&](std::string_view u) {
    if (u.empty() || u == last) return;
    last = u;
    if (seen.insert(u).second) changed_pod_owners_.push_back(u);
  };
  for (const auto& ch : changed("/pods")) {
    add(ch.owner_uid);
    add(ch.previous_owner_uid);
  }
  owners_valid_ = true;
  return changed_pod_owners_;
}

Objects SimCache::touched(const std::string& resource) const {
  std::set<std::string> keys;
  for (const auto& ch : changed(resource))
    if (ch.object) keys.insert(ch.key);
  auto t = tables_.find(resource);
  auto add_owner = [&](std::string_view u) {
    if (u.empty() || t == tables_.end()) return;
    if (auto k = t->second.key_by_uid.find(std::string(u)); k != t->second.key_by_uid.end()) keys.insert(k->second);
  };
  for (const auto u : changed_pod_owners()) {
    add_owner(u);
    // A Deployment is touched through its ReplicaSets' pods too.
    if (resource == "apps/deployments")
      if (const value* rs = by_uid("apps/replicasets", std::string(u))) add_owner(json::controller_uid_view(*rs));
  }
  if (resource == "apps/deployments")
    for (const auto& ch : changed("apps/replicasets")) {
      add_owner(ch.owner_uid);
      add_owner(ch.previous_owner_uid);
    }
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
    std::vector<const model::Pod*> out;
    out.reserve(it->second.size());
    for (const Entry* e : it->second) out.push_back(e->pod.get());
    return out;
  }
  auto it = counted_.find(std::string(ns));
  return it == counted_.end() ? kNoPods : it->second.pods;
}

const model::Pod* SimCache::pod_of(const web::json::value& pod) const {
  auto it = pod_by_dom_.find(&pod);
  return it == pod_by_dom_.end() ? nullptr : it->second;
}

}  // namespace nonevent::sim
