#pragma once
// core/v1 Events about any object, recorded the way client-go's EventCorrelator does:
//  - an identical event (same object, type, reason, message, source) within the cache's
//    memory is not created again: the existing Event's count and lastTimestamp are patched;
//  - more than 10 events that differ only in message within 10 minutes are combined into
//    one "(combined from similar events): <latest message>" Event;
//  - a token bucket per (source, object) (burst 25, one more every 5 minutes) drops storms;
//  - record() never blocks the caller: events go through a bounded queue (1000) to a
//    sender thread and are dropped (and counted) when it is full.
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "kube/clock.h"
#include "kube/rest_client.h"

namespace nonevent::kube {

struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string ns;  // empty for cluster-scoped objects
  std::string name;
  std::string uid;
  std::string resource_version;
};

struct EventRecorderOptions {
  std::string component = "nonevent-operator";
  std::string host;
  size_t max_queue = 1000;
  size_t cache_size = 4096;       // LRU of recent events
  int spam_burst = 25;
  std::chrono::seconds spam_refill{300};
  int aggregate_max_events = 10;
  std::chrono::seconds aggregate_interval{600};
  // Events of cluster-scoped objects go to this namespace (kube uses "default").
  std::string cluster_scoped_namespace = "default";
};

struct EventRecorderStats {
  long created = 0, patched = 0, dropped_spam = 0, dropped_queue = 0, failed = 0;
};

class EventRecorder {
 public:
  EventRecorder(std::shared_ptr<RestClient> client, std::shared_ptr<Clock> clock,
                EventRecorderOptions opts = {});
  ~EventRecorder();

  // type is "Normal" or "Warning"; reason is CamelCase. Thread-safe, non-blocking.
  void record(const ObjectReference& obj, const std::string& type, const std::string& reason,
              const std::string& message);
  // Blocks until every event recorded so far was sent (tests, and clean shutdown).
  void flush();
  void stop();
  EventRecorderStats stats() const;

 private:
  struct Pending {
    ObjectReference obj;
    std::string type, reason, message;
    TimePoint at;
  };
  struct Seen {  // what the server has for an identical event
    std::string ns, name;
    int count = 0;
    TimePoint first;
  };
  struct Similar {  // events that differ only in message
    std::deque<TimePoint> times;
  };
  struct Bucket {
    double tokens;
    TimePoint last;
  };

  void loop();
  void send(Pending p);
  bool allow_spam_locked(const std::string& key, TimePoint now);

  std::shared_ptr<RestClient> client_;
  std::shared_ptr<Clock> clock_;
  const EventRecorderOptions opts_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  size_t in_flight_ = 0;       // guarded by mu_
  EventRecorderStats stats_;   // guarded by mu_
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_ (bounded: LRU below)
  // Sender thread only:
  std::list<std::string> lru_;
  std::unordered_map<std::string, std::pair<Seen, std::list<std::string>::iterator>> seen_;
  std::unordered_map<std::string, Similar> similar_;
  unsigned long long last_name_nanos_ = 0;
  std::thread thread_;
};

}  // namespace nonevent::kube
