#pragma once
// The embedded API server's storage: every object of every resource, a global monotonic
// resourceVersion, and a bounded history of changes that watches replay from. Objects are
// kept as their JSON text (what is served) with the few fields selectors need; writers
// hand in the new object as a DOM and the store stamps resourceVersion before keeping it.
#include <cpprest/json.h>

#include <condition_variable>
#include <deque>
#include <iosfwd>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <string>
#include <vector>

#include "kube/api_error.h"
#include "sim/json_text.h"
#include "sim/selectors.h"
#include "sim/spin_wait.h"

namespace nonevent::sim {

struct StoredObject {
  std::string json;  // as served
  std::string ns, name;
  uint64_t rv = 0;
  // metadata.labels and metadata.ownerReferences[].uid, never null, shared by the versions
  // that keep them (a status write, a binding): copying them into each version, and freeing
  // each copy when the history let it go, was work at every one of the 1.3 million writes
  // of a 5,000-node simulation.
  std::shared_ptr<const StringMap> labels = no_labels();
  std::shared_ptr<const std::vector<std::string>> owner_uids = no_owners();
  StringMap fields;  // metadata.name, metadata.namespace and per-kind fields (spec.nodeName...)
  // Where `json` has metadata.resourceVersion and status (noted as it is written, so a status
  // write need not search the text for them), and whether metadata.deletionTimestamp is set.
  std::optional<json_text::StatusSplice> splice;
  bool being_deleted = false;

  static const std::shared_ptr<const StringMap>& no_labels();
  static const std::shared_ptr<const std::vector<std::string>>& no_owners();
};
using StoredPtr = std::shared_ptr<const StoredObject>;

enum class ChangeType { kAdded, kModified, kDeleted };

struct Change {
  ChangeType type;
  std::string resource;  // ResourceType::key()
  StoredPtr object;      // for kDeleted: the last state, with the deletion's resourceVersion
  StoredPtr previous;    // for kModified: the state before (selector transitions)
  // kModified by a status write: `object` is `previous` with only its status and
  // resourceVersion replaced (a reader holding `previous` may change just those two).
  bool status_only = false;
};

struct WatchFilter {
  std::string resource;
  std::string ns;  // empty: all namespaces
  Selector labels, fields;
  bool matches(const StoredObject& o) const;
};

// A watch registration: the store forgets it once the last owner lets go. Events are queued; a consumer
// that falls too far behind is closed with 410, as the API server drops slow watchers.
class Watch {
 public:
  struct Event {
    ChangeType type;
    StoredPtr object;
  };
  // Blocks (real time) up to `timeout` for the next event. Empty on timeout or when closed.
  std::optional<Event> next(std::chrono::milliseconds timeout);
  bool closed() const;
  bool expired() const;  // closed because it fell behind (or the history was compacted)

 private:
  friend class ObjectStore;
  void push(Event e);
  void close(bool expired);
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;  // guarded by mu_
  bool closed_ = false;      // guarded by mu_
  bool expired_ = false;     // guarded by mu_
  WatchFilter filter_;
  static constexpr size_t kMaxQueue = 100'000;
};

// The store's lock: a std::mutex that tries for up to ~100 us before it sleeps. Both of a
// pass's threads write through the store, each write holding the lock for a few
// microseconds; sleeping for it (a futex wait, and a wake-up on unlock) cost more than the
// wait itself on these VMs: 480 of 11,805 samples at 3,000 nodes.
class BriefSpinMutex {
 public:
  void lock() {
    for (int i = 0; i < 2000; ++i) {
      if (mu_.try_lock()) return;
      cpu_relax();
    }
    mu_.lock();
  }
  bool try_lock() { return mu_.try_lock(); }
  void unlock() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class ObjectStore {
 public:
  // Extracts the selectable fields of an object of a resource (kind-specific).
  using FieldExtractor = std::function<void(const std::string& resource, const web::json::value&, StringMap&)>;

  explicit ObjectStore(size_t history_limit = 200'000);

  uint64_t resource_version() const;
  // The resourceVersion of the newest change to `resource` (0: none since start): a client
  // whose watch of it has seen this version has seen every change of it.
  uint64_t last_change_rv(const std::string& resource) const;
  StoredPtr get(const std::string& resource, const std::string& ns, const std::string& name) const;

  struct ListResult {
    std::vector<StoredPtr> items;
    uint64_t rv = 0;
    std::string continue_token;
    long remaining = 0;
  };
  kube::Result<ListResult> list(const WatchFilter& filter, long limit, const std::string& continue_token) const;

  // Writes. `obj` is the whole new object; the store sets metadata.resourceVersion.
  // create: 409 AlreadyExists. update: 404 when absent; 409 Conflict when
  // `expected_rv` is set and stale. remove: 404 when absent; the Change carries `obj`.
  kube::Result<StoredPtr> create(const std::string& resource, web::json::value obj);
  kube::Result<StoredPtr> update(const std::string& resource, web::json::value obj,
                                 const std::string& expected_rv = {});
  // A write of the status subresource, which keeps everything but the status: the new
  // status is written into `current`'s text in place of the old one (at `where`: its
  // `splice`, or found by json_text::status_splice) with the new resourceVersion, byte for byte what update()
  // would store for the whole object with that status, without a DOM of the whole object.
  // As update() otherwise, and 409 Conflict also when the object is no longer `current`.
  // `status` is moved from meanwhile and given back as it was (a caller retrying a refused
  // write needs it again, and copying it was a fiftieth of the simulation's work).
  kube::Result<StoredPtr> update_status(const std::string& resource, const StoredPtr& current,
                                        const json_text::StatusSplice& where, web::json::value& status,
                                        const std::string& expected_rv = {});
  // The same with the new status as text, as the store writes JSON (compact, members in key
  // order: what model::to_json writes), spliced in as it is: for an in-process writer that
  // vouches for its form (ApiRequest::status_json). Field selectors see its `phase`.
  kube::Result<StoredPtr> update_status_text(const std::string& resource, const StoredPtr& current,
                                             const json_text::StatusSplice& where, std::string status_json,
                                             const std::string& expected_rv = {});
  // A write that changes a few members of `current` and keeps every other byte of its text:
  // each edit replaces a span of the text (an insertion when the span is empty; in order,
  // not overlapping each other, the resourceVersion at `where`, or the edge of the status
  // there), the new resourceVersion is written at `where`, and `fields` and `being_deleted`
  // are the new object's (the caller knows what its edits changed). The text must be what
  // update() would store for the whole object so changed: the caller's edits keep the
  // store's key order and writing (json_text::insert_members, model::to_json).
  // As update_status() otherwise.
  struct TextEdit {
    json_text::Span at;
    std::string text;
  };
  kube::Result<StoredPtr> update_text(const std::string& resource, const StoredPtr& current,
                                      const json_text::StatusSplice& where, std::vector<TextEdit> edits,
                                      StringMap fields, bool being_deleted, const std::string& expected_rv = {});
  kube::Result<StoredPtr> remove(const std::string& resource, const std::string& ns,
                                 const std::string& name, const std::string& expected_uid = {},
                                 const std::string& expected_rv = {});

  // Starts a watch. from_rv empty or "0": synthetic ADDED events for what exists now, then
  // changes. Otherwise: the changes after from_rv, or 410 Expired if history no longer has them.
  kube::Result<std::shared_ptr<Watch>> watch(const WatchFilter& filter, const std::string& from_rv);

  // The store's resourceVersion if `w` has nothing queued (checked atomically with respect to
  // writes), for a bookmark that cannot overtake an event the watch has yet to deliver.
  std::optional<uint64_t> bookmark_rv(const Watch& w) const;
  // Events queued on open watches and not yet taken by their servers (benchmarks wait for 0:
  // a consumer that keeps up with a real-time cluster has no backlog when time moves on).
  size_t undelivered_watch_events() const;
  // Ends every open watch without expiring it.
  void close_watches();
  // Forgets all history (fault injection: every watch from an older version now gets 410).
  void compact();
  // The storage etcd keeps across an API server restart (`sim serve --state`): every object
  // with its resourceVersion, one JSON line each after a header line with the store's version.
  // restore() replaces what the store holds with that (before any watch is opened), keeping
  // versions, uids and timestamps, and
  // continues counting from the saved version; history starts empty, so a watch from before
  // the restart gets 410 and relists, as after an etcd compaction. It throws std::runtime_error
  // naming the line at fault. Set the field extractor first (the server's constructor does).
  void save(std::ostream& out) const;
  void restore(std::istream& in);
  // Observers see every change, in order, synchronously under the store's lock: keep them quick.
  void add_observer(std::function<void(const Change&)> fn);
  void set_field_extractor(FieldExtractor fn);
  size_t count(const std::string& resource) const;
  // Objects with an ownerReference to `owner_uid` (the garbage collector's graph), as
  // (resource, object) pairs.
  std::vector<std::pair<std::string, StoredPtr>> dependents(const std::string& owner_uid) const;

 private:
  // An object's stored form. Made before the lock is taken, with version 0, and versioned
  // under it by set_version(): serializing a pod under the store's lock was most of what the
  // other thread's writes waited for.
  std::shared_ptr<StoredObject> make_stored(const std::string& resource, web::json::value& obj, uint64_t rv) const;
  static void set_version(StoredObject& s, web::json::value& obj, uint64_t rv);
  // update_text(), and update_status() with status_only (what the Change says).
  kube::Result<StoredPtr> write_edits(const std::string& resource, const StoredPtr& current,
                                      const json_text::StatusSplice& where, std::vector<TextEdit> edits,
                                      StringMap fields, bool being_deleted, const std::string& expected_rv,
                                      bool status_only);
  // Holds mu_ for a write and, once it has let go, frees the history the write pushed out:
  // the oldest change may hold the last reference to an object's text, and freeing it under
  // the lock kept the other thread's writes waiting (a third of publishing a change).
  class WriteLock {
   public:
    explicit WriteLock(ObjectStore& store);
    ~WriteLock();
    WriteLock(const WriteLock&) = delete;
    WriteLock& operator=(const WriteLock&) = delete;

   private:
    ObjectStore& store_;
  };
  void publish(const Change& c);  // caller holds mu_ (a WriteLock)
  // The fields of `current` with those read from a status replaced by those of the new one
  // (a DOM {"status": ...} holding what of it the field extractor reads).
  StringMap with_status_fields(const std::string& resource, const StoredObject& current,
                               const web::json::value& status_holder) const;
  void link_owners(const std::string& resource, const StoredObject* before, const StoredObject* after);  // caller holds mu_
  // Keeps dependents_ and pods_by_node_ in step with a write; caller holds mu_.
  void reindex(const std::string& resource, const StoredObject* before, const StoredObject* after);

  mutable BriefSpinMutex mu_;
  uint64_t rv_ = 1;                                                  // guarded by mu_
  std::unordered_map<std::string, uint64_t> last_change_rv_;         // guarded by mu_: resource → its newest change
  std::map<std::string, std::map<std::string, StoredPtr>> data_;     // guarded by mu_: resource → "ns/name"
  std::deque<Change> history_;                                       // guarded by mu_
  std::vector<Change> evicted_;  // guarded by mu_: out of history_, to free outside the lock
  uint64_t oldest_rv_ = 1;                                           // guarded by mu_: history starts after this
  const size_t history_limit_;
  std::list<std::weak_ptr<Watch>> watches_;                          // guarded by mu_
  std::vector<std::function<void(const Change&)>> observers_;        // guarded by mu_
  // owner uid → (resource, "ns/name") of its dependents; guarded by mu_
  std::unordered_map<std::string, std::set<std::pair<std::string, std::string>>> dependents_;
  // spec.nodeName → pod keys, as kube-apiserver's watch cache indexes it (kubelets and
  // kubectl drain list a node's pods by this field); guarded by mu_
  std::unordered_map<std::string, std::set<std::string>> pods_by_node_;
  FieldExtractor extract_fields_;
};

std::string store_key(const std::string& ns, const std::string& name);

}  // namespace nonevent::sim
