#pragma once
// The simulated controllers' informer: every object they read, decoded once per change
// (not once per pass), with the lookups that would otherwise make each pass quadratic (an
// owner's pods, a node's pods, a namespace's pods, an object by uid), the scheduler's running
// totals (requests per node, the pods spread counting sees), and what changed since the last
// pass so each controller reconciles only what a change touched. Fed from the store's change
// stream and applied between passes, so a pass sees one consistent state. This is what lets
// the embedded cluster hold 150,000 pods: a pass costs what changed, not what exists.
#include <boost/iterator/indirect_iterator.hpp>
#include <cpprest/json.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/codecs.h"
#include "model/objects.h"
#include "planner/scheduling.h"
#include "sim/object_store.h"
#include "sim/selectors.h"

namespace nonevent::sim {

class PassWorker;

// A list of decoded objects that iterates as `const value&` (pointers into the cache).
class Objects {
 public:
  using Ptrs = std::vector<const web::json::value*>;
  using const_iterator = boost::indirect_iterator<Ptrs::const_iterator>;
  const_iterator begin() const { return items.begin(); }
  const_iterator end() const { return items.end(); }
  size_t size() const { return items.size(); }
  bool empty() const { return items.empty(); }
  const web::json::value& operator[](size_t i) const { return *items[i]; }
  Ptrs items;
};

// A cached object's DOM. A pod's is made from its stored text the first time a controller
// asks for it, from either of a pass's threads: most pod changes are read only through the
// decoded model (phase, Ready, owner, node), and building every changed pod's DOM anyway,
// and freeing it at the next change, was an eighth of the simulation's CPU time.
class CachedJson {
 public:
  CachedJson() = default;
  CachedJson(const CachedJson&) = delete;
  CachedJson& operator=(const CachedJson&) = delete;
  const web::json::value& get() const;  // thread-safe
  // The DOM's address whether or not it is built yet (an identity, not for reading).
  const web::json::value* address() const { return &dom_; }
  // The stored text it is (or will be) built from; null for a DOM set whole.
  const StoredObject* text() const { return text_.get(); }
  // Between passes only (no reader may be running).
  void set(web::json::value dom);
  void set_text(StoredPtr text);  // built from `text` on first get()
  web::json::value take();        // the DOM if it was built (else null); then as set_text(nullptr)
  web::json::value* built();      // the DOM to change in place; null when it is not built
  // DOMs built by get() in this process (how many pod DOMs the controllers still need).
  static long lazy_builds();

 private:
  enum : uint8_t { kText, kBuilding, kBuilt };
  mutable std::atomic<uint8_t> state_{kBuilt};
  mutable web::json::value dom_;
  StoredPtr text_;
};

// One object that changed since the previous pass (the latest state, or the last one seen
// when it was deleted), with what it was attached to before the change.
struct Changed {
  std::string key, ns;
  const CachedJson* object = nullptr;         // null when deleted
  std::shared_ptr<const CachedJson> deleted;  // the last state, when deleted
  std::shared_ptr<const model::Pod> pod;      // pods: the decoded latest (or last) state, if it decoded
  std::string owner_uid, previous_owner_uid;  // controller owners
  std::string node, previous_node;            // pods: spec.nodeName
  bool spec_changed = true;                   // created, deleted or a new metadata.generation
  std::optional<int64_t> previous_generation; // before this pass's first change; none if it is new
  const web::json::value& last() const { return object ? object->get() : deleted->get(); }
};


class SimCache : public planner::CountedPods {
 private:
  // What apply() derives from a stored object alone (so it may be made on another thread).
  struct Decoded {
    std::optional<web::json::value> dom;  // none for a pod whose model decoded (built lazily)
    // A status write to a ReplicaSet, Deployment, PDB...: the new status alone, for the DOM
    // of the version it was written over (status_of_rv) to take in place of its own. Those
    // writes are most of an evacuation's changes, and parsing the whole object for each was
    // a sixth of the stepping thread's time at 5,000 nodes.
    std::optional<web::json::value> status;
    // The same for a pod: what its model keeps of the new status.
    std::optional<model::PodStatusFacts> pod_status;
    uint64_t status_of_rv = 0;
    std::string owner_uid, uid, node;
    std::vector<std::string> label_keys;  // pods
    std::shared_ptr<const model::Pod> pod;
    std::shared_ptr<const model::Node> node_model;
  };

 public:
  // The resources the controllers read (ResourceType keys).
  static const std::vector<std::string>& resources();

  // From the store's observer (under the store's lock): queues the change, decodes nothing.
  void on_change(const Change& c);
  // Loads what the store holds now (after the observer is registered: a queued change older
  // than what was loaded is ignored by resourceVersion). Everything loaded counts as changed.
  void load(const ObjectStore& store);
  // Applies queued changes; what they touched is changed() until clear_changes(). With
  // `helper` (an idle thread), both threads decode a batch of more than a few changes.
  size_t apply_pending(PassWorker* helper = nullptr);
  void clear_changes();
  // Work for a pass's thread that has finished its controllers while the other has not (it
  // may run beside the controllers, which only read): destroys the DOMs and models the last
  // apply_pending replaced, or decodes a change queued since, so that the next apply_pending,
  // which the whole pass waits for, mostly files. False when there is nothing to do now.
  bool work_ahead();

  // Every object of a resource, in store order (namespace/name).
  Objects list(const std::string& resource) const;
  const web::json::value* get(const std::string& resource, const std::string& key) const;
  const web::json::value* by_uid(const std::string& resource, const std::string& uid) const;
  // Objects whose controller owner has this uid.
  Objects owned_by(const std::string& resource, const std::string& owner_uid) const;
  Objects pods_in_namespace(const std::string& ns) const;
  Objects pods_on_node(const std::string& node) const;
  // The same without building their DOMs: keys, and the decoded models (pods whose model
  // did not decode are left out).
  std::vector<std::string> pod_keys_on_node(const std::string& node) const;
  std::vector<const model::Pod*> pod_models_owned_by(const std::string& owner_uid) const;
  // A pod's DOM, built only when get() is called; null when the cache does not hold it.
  const CachedJson* pod_json(const std::string& key) const;
  // Pods of a namespace a label selector selects (through the label index when the selector
  // has an equality requirement, as most do).
  Objects pods_selected(const std::string& ns, const Selector& selector) const;
  // What the disruption controller counts over the pods one label selects, kept change by
  // change: a PDB whose selector is one label (as nearly all are) then costs its pods'
  // controllers, not its pods (walking 30 pods for each of the PDBs an evacuation touches was
  // the biggest part of a pass).
  struct LabelTally {
    size_t pods = 0;
    size_t ready_staying = 0;  // Ready and not terminating
    std::unordered_map<std::string, size_t> controllers;  // controller uid ("" for none) → pods
  };
  // The tally of the pods of `ns` the selector selects, when it is one equality requirement
  // (the pods pods_selected() would return); null for any other selector.
  const LabelTally* pods_tally(const std::string& ns, const Selector& selector) const;
  // What the ReplicaSet and Deployment controllers count over the pods a controller owns,
  // kept the same way: their statuses then cost their ReplicaSets, not their pods.
  struct OwnerTally {
    size_t active = 0;        // not terminating, not Succeeded or Failed
    size_t active_ready = 0;  // of those, Ready
  };
  const OwnerTally& owner_tally(const std::string& owner_uid) const;
  // The pod `name` of `ns` if `selector` (one equality requirement, as for pods_tally())
  // selects it (its decoded model; null also when it did not decode).
  const model::Pod* selected_pod(const std::string& ns, const Selector& selector, const std::string& name) const;
  const std::vector<Changed>& changed(const std::string& resource) const;
  // The objects of a workload resource a pass must reconcile: those that changed and the
  // controller owners of changed pods (for Deployments, through their ReplicaSets too).
  Objects touched(const std::string& resource) const;

  // The scheduler's view: every node, requests per node, and (CountedPods) the bound,
  // non-terminating pods per namespace, all kept current change by change.
  // Nodes not being deleted, in name order; rebuilt only after a node changed (the scheduler
  // asks on every pass, and copying 5,000 of them each time grew with cluster × passes).
  const std::vector<const model::Node*>& node_models() const;
  // Changes whenever a node changes (what was derived from node_models() is then stale).
  uint64_t nodes_version() const { return nodes_version_; }
  const model::Pod* pod_model(const std::string& key) const;
  const model::Node* node_model(const std::string& name) const;
  // The decoded model of a pod this cache holds, by its DOM's address: the facts controllers
  // ask of every pod on every pass (phase, Ready, terminating, owner) without walking JSON,
  // which was a third of the simulation's time. Null for a DOM this cache does not hold.
  const model::Pod* pod_of(const web::json::value& pod) const;
  const std::unordered_map<std::string, planner::NodeUsage>& usage() const { return usage_; }
  std::vector<const model::Pod*> candidates(std::string_view ns, const model::LabelSelector& selector) const override;

 private:
  struct Entry {
    std::unique_ptr<CachedJson> dom;  // stable address while the object exists
    std::string owner_uid, ns, uid, node;
    std::vector<std::string> label_keys;  // label_index_key of each label
    uint64_t rv = 0;
    int64_t generation = 0;
    std::shared_ptr<const model::Pod> pod;    // for /pods
    std::shared_ptr<const model::Node> node_model;  // for /nodes
    planner::NodeUsage used;                  // pods: what it adds to `node`'s usage
    size_t counted_pos = SIZE_MAX;            // pods: index in counted_[ns] when counted
    bool is_pod = false;
    // What this pod counts as in its labels' and owner's tallies (as last counted).
    struct Counts {
      bool ready_staying = false, active = false, active_ready = false;
    } tallied;
  };
  // id → the objects filed under it, in key order; the keys are views of by_key's (stable
  // node-based map keys) and the values its entries, so a lookup finds nothing twice.
  using Index = std::unordered_map<std::string, std::map<std::string_view, const Entry*>>;
  struct Table {
    std::map<std::string, Entry> by_key;  // in store order, for lists
    // The same entries by hash, for lookups: 150,000 keys that share long prefixes
    // ("team-3/svc-1234-...") made each ordered lookup a dozen string comparisons.
    std::unordered_map<std::string_view, std::map<std::string, Entry>::iterator> hashed;
    std::map<std::string, Entry>::iterator find(const std::string& key) {
      auto h = hashed.find(key);
      return h == hashed.end() ? by_key.end() : h->second;
    }
    std::map<std::string, Entry>::const_iterator find(const std::string& key) const {
      auto h = hashed.find(key);
      return h == hashed.end() ? by_key.cend() : std::map<std::string, Entry>::const_iterator(h->second);
    }
    Index keys_by_owner, keys_by_ns, keys_by_node, keys_by_label;
    std::unordered_map<std::string, std::string> key_by_uid;
    std::vector<Changed> changed;
    std::unordered_map<std::string, size_t> changed_pos;  // key → index in `changed`
  };
  void unindex(Table& t, const std::string& key, Entry& e);
  void unindex_keys(Table& t, const std::string& key, Entry& e);  // the lookup maps
  static void drop_key(Index& index, const std::string& id, const std::string& key);
  void index_keys(Table& t, const std::string& key, Entry& e);
  void unindex_pod(Entry& e);  // a pod's usage and spread counting
  void index_pod(Entry& e);
  static void record(Changed& ch, const Entry& e);  // the changed record's latest state: `e`
  // A pod's status was written over the version `e` holds: `pod` is its new model.
  void refile_status(Entry& e, std::shared_ptr<const model::Pod> pod, const StoredPtr& stored);
  static Decoded decode(const Change& c);  // as decode_whole(), or the status alone
  static Decoded decode_whole(const std::string& resource, const StoredObject& o);
  void apply(const std::string& resource, ChangeType type, const StoredPtr& o, Decoded* decoded = nullptr);
  static Objects lookup(const Index& index, const std::string& id);

  std::unordered_map<std::string, Table> tables_;
  // The controller owners (uids, now or before) of this pass's changed pods, found once per
  // pass for every workload controller's touched(): each walked all the changed pods itself,
  // 150,000 of them in a boot pass, into a set of strings.
  const std::vector<std::string_view>& changed_pod_owners() const;  // thread-safe
  void forget_changed_pod_owners();  // when the changed records change
  mutable std::mutex owners_mu_;
  mutable bool owners_valid_ = false;                          // guarded by owners_mu_
  mutable std::vector<std::string_view> changed_pod_owners_;   // views of the changed records
  std::unordered_map<std::string, planner::NodeUsage> usage_;
  std::unordered_map<const web::json::value*, const model::Pod*> pod_by_dom_;
  mutable std::vector<const model::Node*> node_models_;
  uint64_t nodes_version_ = 0;
  mutable uint64_t node_models_version_ = UINT64_MAX;  // nodes_version_ node_models_ was built at
  struct Counted {
    std::vector<const model::Pod*> pods;
    std::vector<Entry*> entries;  // parallel to pods, for swap-removal
  };
  std::unordered_map<std::string, Counted> counted_;  // by namespace
  // "ns\x1fk=v" → the counted pods' entries (entries, not models: a status write gives a pod a
  // new model, and its entry stays).
  std::unordered_map<std::string, std::unordered_set<const Entry*>> counted_by_label_;
  std::unordered_map<std::string, LabelTally> tallies_;  // by label index key, over every pod
  std::unordered_map<std::string, OwnerTally> owner_tallies_;  // by controller uid
  void tally(const Entry& e, int sign);                  // adds or removes e as last counted
  void retally(Entry& e, const Entry::Counts& now);      // e's counts moved, not its labels or owner
  static Entry::Counts counts_of(const Entry& e);
  // Queued changes, some already decoded by work_ahead().
  struct Pending {
    Change change;
    std::optional<Decoded> decoded;
  };
  std::mutex pending_mu_;
  std::vector<Pending> pending_;  // guarded by pending_mu_
  std::vector<Pending> spare_;    // the applying thread's: an emptied queue to swap in next
  size_t decode_next_ = 0;        // guarded by pending_mu_: pending_[decode_next_..] not taken by work_ahead
  uint64_t pending_batch_ = 0;    // guarded by pending_mu_: which queue a work_ahead decode belongs to
  // What apply() replaced or dropped (a pod's old DOM and models), left for work_ahead() to
  // destroy: freeing each replaced pod's JSON tree inline was a third of apply_pending.
  struct Retired {
    web::json::value dom;
    std::shared_ptr<const model::Pod> pod;
    std::shared_ptr<const model::Node> node_model;
  };
  static constexpr size_t kMaxRetired = 16384;
  std::vector<Retired> retiring_;  // this apply_pending's, on the applying thread
  size_t retired_before_apply_ = 0;
  std::mutex retired_mu_;
  std::vector<Retired> retired_;   // guarded by retired_mu_
  size_t retired_count();
  bool free_retired(size_t count);  // false when there was nothing to free
};

}  // namespace nonevent::sim
