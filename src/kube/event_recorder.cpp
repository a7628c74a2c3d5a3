#include "kube/event_recorder.h"

#include "kube/log.h"

#include <cpprest/json.h>

#include <algorithm>
#include <cstdio>

namespace nonevent::kube {

using web::json::value;

EventRecorder::EventRecorder(std::shared_ptr<RestClient> client, std::shared_ptr<Clock> clock,
                             EventRecorderOptions opts)
    : client_(std::move(client)), clock_(std::move(clock)), opts_(std::move(opts)) {
  thread_ = std::thread([this] { loop(); });
}

EventRecorder::~EventRecorder() { stop(); }

void EventRecorder::stop() {
  {
    std::lock_guard g(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

EventRecorderStats EventRecorder::stats() const {
  std::lock_guard g(mu_);
  return stats_;
}

namespace {
std::string object_key(const ObjectReference& o) {
  return o.kind + "/" + o.ns + "/" + o.name + "/" + o.uid;
}
}  // namespace

bool EventRecorder::allow_spam_locked(const std::string& key, TimePoint now) {
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(opts_.spam_burst), now});
  auto& b = it->second;
  const double refill = std::chrono::duration<double>(now - b.last).count() /
                        static_cast<double>(opts_.spam_refill.count());
  b.tokens = std::min<double>(opts_.spam_burst, b.tokens + refill);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  if (buckets_.size() > opts_.cache_size) {  // bounded: forget full buckets first
    for (auto i = buckets_.begin(); i != buckets_.end();)
      i = i->second.tokens >= opts_.spam_burst - 1 ? buckets_.erase(i) : std::next(i);
  }
  return true;
}

void EventRecorder::record(const ObjectReference& obj, const std::string& type,
                           const std::string& reason, const std::string& message) {
  const auto now = clock_->now();
  {
    std::lock_guard g(mu_);
    if (stopping_) return;
    if (!allow_spam_locked(opts_.component + "/" + object_key(obj), now)) {
      ++stats_.dropped_spam;
      return;
    }
  }
  // Every Event is a decision and goes to the log too (past the spam filter, so a drain
  // waiting on a budget for an hour does not write a line every pass).
  logging::write(type == "Warning" ? logging::Level::kWarn : logging::Level::kInfo, "event", message,
                 {{"reason", reason}, {"kind", obj.kind}, {"name", obj.ns.empty() ? obj.name : obj.ns + "/" + obj.name}});
  std::lock_guard g(mu_);
  if (stopping_) return;
  if (queue_.size() >= opts_.max_queue) {
    ++stats_.dropped_queue;
    return;
  }
  queue_.push_back({obj, type, reason, message.substr(0, 1024), now});
  cv_.notify_all();
}

void EventRecorder::flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return queue_.empty() && in_flight_ == 0; });
}

void EventRecorder::loop() {
  for (;;) {
    Pending p;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      p = std::move(queue_.front());
      queue_.pop_front();
      ++in_flight_;
    }
    send(std::move(p));
    std::lock_guard g(mu_);
    --in_flight_;
    cv_.notify_all();
  }
}

void EventRecorder::send(Pending p) {
  const std::string obj_key = object_key(p.obj);
  // Aggregation: many events differing only in message become one combined event.
  const std::string similar_key = obj_key + "|" + p.type + "|" + p.reason;
  auto& sim = similar_[similar_key];
  while (!sim.times.empty() && p.at - sim.times.front() > opts_.aggregate_interval) sim.times.pop_front();
  sim.times.push_back(p.at);
  if (static_cast<int>(sim.times.size()) > opts_.aggregate_max_events)
    p.message = "(combined from similar events): " + p.message;
  if (similar_.size() > opts_.cache_size) similar_.clear();

  const std::string ev_ns = p.obj.ns.empty() ? opts_.cluster_scoped_namespace : p.obj.ns;
  const std::string key = similar_key + "|" + p.message;
  const std::string ts = format_rfc3339(p.at);
  auto it = seen_.find(key);
  if (it != seen_.end()) {
    // Identical event: bump count and lastTimestamp on the existing Event.
    auto& seen = it->second.first;
    value patch = value::object();
    patch["count"] = value::number(seen.count + 1);
    patch["lastTimestamp"] = value::string(ts);
    auto r = client_->patch(resources::events(), seen.ns, seen.name, PatchType::kMerge, patch.serialize());
    lru_.splice(lru_.begin(), lru_, it->second.second);
    if (r.ok()) {
      ++seen.count;
      std::lock_guard g(mu_);
      ++stats_.patched;
      return;
    }
    if (!r.error().is_not_found()) {
      std::lock_guard g(mu_);
      ++stats_.failed;
      return;
    }
    // The Event expired on the server (1 h TTL): create it again below.
    lru_.erase(it->second.second);
    seen_.erase(it);
  }

  // client-go names events <object>.<unix nanos in hex>; strictly increasing here so two
  // events in the same nanosecond (or on a paused virtual clock) do not collide.
  const auto nanos = static_cast<unsigned long long>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(p.at.time_since_epoch()).count());
  last_name_nanos_ = std::max(nanos, last_name_nanos_ + 1);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", last_name_nanos_);
  const std::string name = p.obj.name + suffix;
  value ev = value::object();
  ev["apiVersion"] = value::string("v1");
  ev["kind"] = value::string("Event");
  value meta = value::object();
  meta["name"] = value::string(name);
  meta["namespace"] = value::string(ev_ns);
  ev["metadata"] = meta;
  value involved = value::object();
  involved["apiVersion"] = value::string(p.obj.api_version);
  involved["kind"] = value::string(p.obj.kind);
  involved["name"] = value::string(p.obj.name);
  if (!p.obj.ns.empty()) involved["namespace"] = value::string(p.obj.ns);
  if (!p.obj.uid.empty()) involved["uid"] = value::string(p.obj.uid);
  if (!p.obj.resource_version.empty()) involved["resourceVersion"] = value::string(p.obj.resource_version);
  ev["involvedObject"] = involved;
  ev["type"] = value::string(p.type);
  ev["reason"] = value::string(p.reason);
  ev["message"] = value::string(p.message);
  ev["count"] = value::number(1);
  ev["firstTimestamp"] = value::string(ts);
  ev["lastTimestamp"] = value::string(ts);
  value source = value::object();
  source["component"] = value::string(opts_.component);
  if (!opts_.host.empty()) source["host"] = value::string(opts_.host);
  ev["source"] = source;
  ev["reportingComponent"] = value::string(opts_.component);
  ev["reportingInstance"] = value::string(opts_.host.empty() ? opts_.component : opts_.host);
  auto r = client_->create(resources::events(), ev_ns, ev.serialize());
  std::lock_guard g(mu_);
  if (!r.ok()) {
    ++stats_.failed;
    return;
  }
  ++stats_.created;
  lru_.push_front(key);
  seen_[key] = {Seen{ev_ns, name, 1, p.at}, lru_.begin()};
  while (seen_.size() > opts_.cache_size) {
    seen_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace nonevent::kube
