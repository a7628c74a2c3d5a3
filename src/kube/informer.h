#pragma once
// A shared informer: one list+watch per resource type feeding an indexed cache of compact
// typed objects and a set of event handlers. Reconcilers read the cache; handlers only map
// an object to the keys to enqueue (controller-runtime's rule), so they must be quick and
// must not block — they run on the informer's thread.
//
// After every (re)list the cache is swapped atomically and handlers see exactly the
// differences: adds for new keys, updates for changed resourceVersions, deletes for keys
// that vanished while the watch was broken.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kube/watcher.h"

namespace nonevent::kube {

template <class T>
struct EventHandler {
  std::function<void(const T&)> on_add;
  std::function<void(const T& old_obj, const T& new_obj)> on_update;
  std::function<void(const T&)> on_delete;
};

// An object's values in one index, appended to `values` (which arrives empty): the informer
// hands the same buffer to every call, so indexing a watch event allocates nothing for the
// usual one short value.
template <class T>
using IndexFunc = std::function<void(const T&, std::vector<std::string>& values)>;

template <class T, class Codec>
class Informer final : public WatchSink<T> {
 public:
  using Ptr = std::shared_ptr<const T>;

  Informer(std::shared_ptr<ListWatchSource> source, std::shared_ptr<Clock> clock,
           WatcherOptions opts = {})
      : watcher_(std::move(source), this, std::move(clock), opts) {}
  ~Informer() override { stop(); }
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before start(): indexes are named functions from an object to its index values.
  void add_index(const std::string& name, IndexFunc<T> fn) {
    std::unique_lock g(mu_);
    indexers_[name].fn = std::move(fn);
  }
  // Before or after start(); handlers added after the initial sync are not replayed.
  void add_handler(EventHandler<T> h) {
    std::lock_guard g(handlers_mu_);
    auto next = std::make_shared<std::vector<EventHandler<T>>>(*handlers_);
    next->push_back(std::move(h));
    handlers_ = std::move(next);  // copy-on-write: notify() reads a snapshot without copying
  }

  void start() {
    if (!thread_.joinable()) thread_ = std::thread([this] { watcher_.run(); });
  }
  void stop() {
    watcher_.stop();
    if (thread_.joinable()) thread_.join();
  }
  // Runs the machine on the caller's thread, one transition (tests and benchmarks).
  bool step() { return watcher_.step(); }

  bool has_synced() const {
    std::shared_lock g(mu_);
    return synced_;
  }
  // Blocks (real time) until the first list completed or the timeout passed.
  bool wait_for_sync(std::chrono::milliseconds timeout) {
    std::unique_lock g(sync_mu_);
    return sync_cv_.wait_for(g, timeout, [this] { return has_synced(); });
  }

  Ptr get(const std::string& key) const {
    std::shared_lock g(mu_);
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : it->second;
  }
  std::vector<Ptr> list() const {
    std::shared_lock g(mu_);
    std::vector<Ptr> out;
    out.reserve(items_.size());
    for (const auto& [k, v] : items_) out.push_back(v);
    return out;
  }
  std::vector<Ptr> by_index(const std::string& index, const std::string& value) const {
    std::shared_lock g(mu_);
    std::vector<Ptr> out;
    auto idx = indexers_.find(index);
    if (idx == indexers_.end()) return out;
    auto it = idx->second.index.find(value);
    if (it == idx->second.index.end()) return out;
    out.reserve(it->second.size());
    for (const auto& [key, slot] : it->second) out.push_back(*slot);
    return out;
  }
  std::vector<std::string> index_values(const std::string& index) const {
    std::shared_lock g(mu_);
    std::vector<std::string> out;
    auto idx = indexers_.find(index);
    if (idx == indexers_.end()) return out;
    for (const auto& [v, keys] : idx->second.index) out.push_back(v);
    return out;
  }
  size_t size() const {
    std::shared_lock g(mu_);
    return items_.size();
  }
  std::string last_resource_version() const {
    std::shared_lock g(mu_);
    return last_rv_;
  }
  // The newest resourceVersion whose event handlers have returned (the cache takes a change
  // before its handlers run): a caller that must know the controllers were told of every change
  // up to a version (`nonevent rehearse`'s lock step) waits for this one.
  std::string last_handled_resource_version() const {
    std::shared_lock g(mu_);
    return handled_rv_;
  }
  long relists() const {
    std::shared_lock g(mu_);
    return relists_;
  }
  const typename Watcher<T, Codec>::State& watcher_state() const { return watcher_.state(); }

  // WatchSink (called on the watcher's thread).
  void on_init() override { pending_.clear(); }
  void on_init_page(std::vector<Ptr>&& items) override {
    for (auto& p : items) {
      auto key = Codec::key(*p);
      pending_.insert_or_assign(std::move(key), std::move(p));
    }
  }
  void on_init_done(const std::string& rv) override {
    std::vector<std::pair<Ptr, Ptr>> updates;  // (old, new); old null = add, new null = delete
    {
      std::unique_lock g(mu_);
      for (const auto& [key, obj] : pending_) {
        auto it = items_.find(key);
        if (it == items_.end()) updates.emplace_back(nullptr, obj);
        else if (Codec::resource_version(*it->second) != Codec::resource_version(*obj))
          updates.emplace_back(it->second, obj);
      }
      for (const auto& [key, obj] : items_)
        if (!pending_.count(key)) updates.emplace_back(obj, nullptr);
      items_.swap(pending_);
      pending_ = {};
      rebuild_indices();
      last_rv_ = rv;
      ++relists_;
      synced_ = true;
    }
    {
      std::lock_guard g(sync_mu_);
      sync_cv_.notify_all();
    }
    for (const auto& [old_obj, new_obj] : updates) notify(old_obj, new_obj);
    handled(rv);
  }
  void on_apply(Ptr obj) override {
    Ptr old_obj;
    {
      std::unique_lock g(mu_);
      auto key = Codec::key(*obj);
      last_rv_ = Codec::resource_version(*obj);
      auto it = items_.find(key);
      if (it != items_.end()) {
        old_obj = it->second;
        it->second = obj;
        reindex(it->first, it->second, *old_obj, *obj);
      } else {
        auto [ins, ok] = items_.emplace(std::move(key), obj);
        index(ins->first, ins->second);
      }
    }
    notify(old_obj, obj);
    handled(Codec::resource_version(*obj));
  }
  void on_delete(Ptr obj) override {
    Ptr old_obj;
    {
      std::unique_lock g(mu_);
      last_rv_ = Codec::resource_version(*obj);
      auto it = items_.find(Codec::key(*obj));
      if (it == items_.end()) {
        handled_rv_ = last_rv_;
        return;
      }
      old_obj = it->second;
      unindex(it->first, *old_obj);
      items_.erase(it);
    }
    notify(old_obj, nullptr);
    handled(Codec::resource_version(*obj));
  }
  void on_bookmark(const std::string& rv) override {
    std::unique_lock g(mu_);
    last_rv_ = handled_rv_ = rv;  // events arrive in order: every one before it was handled
  }
  void on_error(const ApiError& e) override {
    std::lock_guard g(handlers_mu_);
    last_error_ = e.to_string();
  }
  // Whether list/watch has kept failing, retry after retry, for longer than `grace` (see
  // Watcher::failing_longer_than).
  bool failing_longer_than(std::chrono::milliseconds grace) const { return watcher_.failing_longer_than(grace); }
  std::string last_error() const {
    std::lock_guard g(handlers_mu_);
    return last_error_;
  }

 private:
  // Index sets map views of the keys stored in items_ to their slots there (a node-based map:
  // stable addresses, and a slot outlives every update of its object), so an entry costs a
  // view and a pointer, and by_index() reads objects without looking their keys up again.
  using IndexSet = std::unordered_map<std::string_view, const Ptr*>;
  struct Indexer {
    IndexFunc<T> fn;
    std::unordered_map<std::string, IndexSet> index;  // index value -> the objects with it
  };

  void index(const std::string& key, const Ptr& slot) {  // caller holds mu_ exclusively
    for (auto& [name, ix] : indexers_) {
      after_.clear();
      ix.fn(*slot, after_);
      for (auto& v : after_) ix.index[std::move(v)].emplace(key, &slot);
    }
  }
  void unindex(const std::string& key, const T& obj) {  // caller holds mu_ exclusively
    for (auto& [name, ix] : indexers_) {
      before_.clear();
      ix.fn(obj, before_);
      remove(ix, key, before_);
    }
  }
  static void remove(Indexer& ix, const std::string& key, const std::vector<std::string>& values) {
    for (const auto& v : values) {
      auto it = ix.index.find(v);
      if (it == ix.index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) ix.index.erase(it);
    }
  }
  // Most updates (status changes) keep every index value: touch only what changed.
  void reindex(const std::string& key, const Ptr& slot, const T& old_obj, const T& new_obj) {  // mu_ exclusive
    for (auto& [name, ix] : indexers_) {
      before_.clear();
      after_.clear();
      ix.fn(old_obj, before_);
      ix.fn(new_obj, after_);
      if (before_ == after_) continue;
      remove(ix, key, before_);
      for (auto& v : after_) ix.index[std::move(v)].emplace(key, &slot);
    }
  }
  void rebuild_indices() {  // caller holds mu_ exclusively
    for (auto& [name, ix] : indexers_) ix.index.clear();
    for (const auto& [key, slot] : items_) index(key, slot);
  }
  void handled(const std::string& rv) {
    std::unique_lock g(mu_);
    handled_rv_ = rv;
  }
  void notify(const Ptr& old_obj, const Ptr& new_obj) {
    std::shared_ptr<const std::vector<EventHandler<T>>> hs;
    {
      std::lock_guard g(handlers_mu_);
      hs = handlers_;
    }
    for (const auto& h : *hs) {
      if (!old_obj && new_obj && h.on_add) h.on_add(*new_obj);
      else if (old_obj && new_obj && h.on_update) h.on_update(*old_obj, *new_obj);
      else if (old_obj && !new_obj && h.on_delete) h.on_delete(*old_obj);
    }
  }

  Watcher<T, Codec> watcher_;
  std::thread thread_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Ptr> items_;                                    // guarded by mu_
  std::map<std::string, Indexer, std::less<>> indexers_;                          // guarded by mu_
  std::vector<std::string> before_, after_;  // guarded by mu_: index values being compared
  std::string last_rv_;                                                           // guarded by mu_
  std::string handled_rv_;  // guarded by mu_: the newest version whose handlers returned
  long relists_ = 0;                                                              // guarded by mu_
  bool synced_ = false;                                                           // guarded by mu_
  std::unordered_map<std::string, Ptr> pending_;  // watcher thread only: the list in progress
  mutable std::mutex handlers_mu_;
  std::shared_ptr<const std::vector<EventHandler<T>>> handlers_ =
      std::make_shared<std::vector<EventHandler<T>>>();  // guarded by handlers_mu_
  std::string last_error_;                 // guarded by handlers_mu_
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
};

}  // namespace nonevent::kube
