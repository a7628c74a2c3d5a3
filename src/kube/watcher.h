#pragma once
// The list-then-watch protocol as an explicit state machine (kube-runtime's watcher):
//
//   Empty --list page--> Listing --last page--> Watching --410--> Empty
//                         (410 on continue: Empty)   (clean end/timeout/drop: Watching again,
//                                                     from the last resourceVersion seen)
//
// A relist is delivered as on_init, on_init_page..., on_init_done so the consumer can swap
// its store atomically and compute the right add/update/delete notifications. Errors back
// off exponentially with jitter (client-go reflector: 800 ms doubling to 30 s).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <random>
#include <variant>

#include "kube/log.h"
#include "kube/clock.h"
#include "kube/http_transport.h"
#include "kube/watch_types.h"

namespace nonevent::kube {

template <class T>
class WatchSink {
 public:
  virtual ~WatchSink() = default;
  virtual void on_init() = 0;
  virtual void on_init_page(std::vector<std::shared_ptr<const T>>&& items) = 0;
  virtual void on_init_done(const std::string& resource_version) = 0;
  virtual void on_apply(std::shared_ptr<const T> obj) = 0;
  virtual void on_delete(std::shared_ptr<const T> obj) = 0;
  virtual void on_bookmark(const std::string& /*resource_version*/) {}
  virtual void on_error(const ApiError& /*error*/) {}
};

struct WatcherOptions {
  long page_size = 500;  // client-go pager's default
  std::chrono::milliseconds backoff_initial{800};
  std::chrono::milliseconds backoff_max{30'000};
  long watch_timeout_min_s = 300;  // each watch asks for a random 5-10 min timeoutSeconds
  long watch_timeout_max_s = 600;
};

template <class T, class Codec>
class Watcher {
 public:
  struct Empty {};
  struct Listing {
    std::string continue_token;
  };
  struct Watching {
    std::string resource_version;
  };
  using State = std::variant<Empty, Listing, Watching>;

  Watcher(std::shared_ptr<ListWatchSource> source, WatchSink<T>* sink, std::shared_ptr<Clock> clock,
          WatcherOptions opts = {})
      : source_(std::move(source)), sink_(sink), clock_(std::move(clock)), opts_(opts),
        rng_(std::random_device{}()) {}

  const State& state() const { return state_; }

  // Performs one transition (one list page, or one watch until it ends). Returns false when
  // the step failed; the caller backs off (run() does).
  bool step() {
    if (std::holds_alternative<Empty>(state_)) return list_page({});
    if (auto* l = std::get_if<Listing>(&state_)) return list_page(l->continue_token);
    return watch_once(std::get<Watching>(state_).resource_version);
  }

  // Steps until stop() is called, backing off with jitter after failures.
  void run() {
    int failures = 0;
    while (!stopped_) {
      if (step()) {
        failing_since_ns_ = 0;
        if (failures > 0)
          logging::info("informer", "list/watch works again", {{"resource", source_->describe()}, {"after_failures", std::to_string(failures)}});
        failures = 0;
        continue;
      }
      if (stopped_) break;
      ++failures;
      // A second failure in a row: not a dropped connection that the next try mends.
      if (failures == 2) failing_since_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
      const double base = static_cast<double>(opts_.backoff_initial.count()) *
                          std::pow(2.0, std::min(failures - 1, 16));
      const double capped = std::min(base, static_cast<double>(opts_.backoff_max.count()));
      const double jittered = capped * (1.0 + std::uniform_real_distribution<double>(0, 1)(rng_));
      // Every failure at first, then one in ten: a dead server must show in the log, not flood it.
      if (failures <= 3 || failures % 10 == 0)
        logging::warn("informer", "list/watch failed; retrying after a backoff",
                      {{"resource", source_->describe()}, {"error", last_error_}, {"failures", std::to_string(failures)},
                       {"backoff", std::to_string(static_cast<long>(jittered)) + "ms"}});
      sleep(std::chrono::milliseconds(static_cast<long>(jittered)));
    }
  }

  // Thread-safe. Whether list/watch has failed twice or more in a row, with no success since,
  // for longer than `grace` (real time: readiness is about this process). One failure (a
  // dropped watch) is normal and is mended by the next try.
  bool failing_longer_than(std::chrono::milliseconds grace) const {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    // A watch open for half a second has been accepted: the retries worked (a watch only
    // returns when it ends, and an idle one may carry no event for minutes).
    if (const int64_t open = watch_open_since_ns_.load(); open != 0 && now - std::chrono::steady_clock::duration(open) > std::chrono::milliseconds(500))
      return false;
    const int64_t since = failing_since_ns_.load();
    return since != 0 && now - std::chrono::steady_clock::duration(since) > grace;
  }

  // Thread-safe: ends run() promptly, cancelling a watch in progress.
  void stop() {
    stopped_ = true;
    cancel_.cancel();
    std::lock_guard g(sleep_mu_);
    sleep_cv_.notify_all();
  }

 private:
  void fail(const ApiError& e) {
    last_error_ = e.to_string();
    sink_->on_error(e);
  }
  void sleep(std::chrono::milliseconds d) {
    std::unique_lock lock(sleep_mu_);
    clock_->wait_until(lock, sleep_cv_, clock_->now() + d, [this] { return stopped_.load(); });
  }

  bool list_page(const std::string& continue_token) {
    ListOptions o;
    o.limit = opts_.page_size;
    o.continue_token = continue_token;
    auto body = source_->list(o);
    if (!body.ok()) {
      fail(body.error());
      // An expired continue token means the snapshot is gone: start the list over.
      if (body.error().is_gone()) state_ = Empty{};
      return false;
    }
    auto page = Codec::decode_list(body.value());
    if (!page.ok()) {
      fail(page.error());
      state_ = Empty{};
      return false;
    }
    if (continue_token.empty()) sink_->on_init();
    sink_->on_init_page(std::move(page.value().items));
    if (!page.value().continue_token.empty()) {
      state_ = Listing{page.value().continue_token};
    } else {
      sink_->on_init_done(page.value().resource_version);
      state_ = Watching{page.value().resource_version};
    }
    return true;
  }

  bool watch_once(std::string rv) {
    ListOptions o;
    o.resource_version = rv;
    o.allow_watch_bookmarks = true;
    o.timeout_seconds = std::uniform_int_distribution<long>(opts_.watch_timeout_min_s,
                                                            opts_.watch_timeout_max_s)(rng_);
    bool relist = false;
    std::optional<ApiError> event_error;
    watch_open_since_ns_ = std::chrono::steady_clock::now().time_since_epoch().count();
    struct Closed {
      std::atomic<int64_t>& since;
      ~Closed() { since = 0; }
    } closed{watch_open_since_ns_};
    auto status = source_->watch(
        o,
        [&](std::string_view line) {
          auto ev = Codec::decode_event(line);
          if (!ev.ok()) {
            event_error = ev.error();
            return false;  // a line we cannot decode: re-watch from the last good version
          }
          auto& e = ev.value();
          switch (e.type) {
            case WatchEventType::kAdded:
            case WatchEventType::kModified:
              rv = e.resource_version;
              sink_->on_apply(std::move(e.object));
              break;
            case WatchEventType::kDeleted:
              rv = e.resource_version;
              sink_->on_delete(std::move(e.object));
              break;
            case WatchEventType::kBookmark:
              rv = e.resource_version;
              sink_->on_bookmark(rv);
              break;
            case WatchEventType::kError:
              event_error = e.error;
              if (e.error && e.error->is_gone()) relist = true;
              return false;
          }
          return !stopped_.load();
        },
        &cancel_);
    if (!status.ok() && status.error().is_gone()) relist = true;
    if (relist) {
      if (event_error) fail(*event_error);
      else fail(status.error());
      state_ = Empty{};
      return true;  // relisting right away is the normal answer to 410, not a failure
    }
    if (!status.ok() && status.error().is_not_found()) {
      // The type is not served (a CRD deleted): list again after the backoff.
      if (!stopped_) fail(status.error());
      state_ = Empty{};
      return false;
    }
    state_ = Watching{rv};  // resume from the last version we saw
    if (!status.ok()) {
      if (!stopped_) fail(status.error());
      return false;
    }
    if (event_error) {
      fail(*event_error);
      return false;
    }
    return true;
  }

  std::shared_ptr<ListWatchSource> source_;
  WatchSink<T>* sink_;
  std::shared_ptr<Clock> clock_;
  const WatcherOptions opts_;
  std::mt19937 rng_;
  State state_ = Empty{};
  std::string last_error_;  // the stepping thread's only
  std::atomic<int64_t> failing_since_ns_{0};    // steady_clock; 0: not failing
  std::atomic<int64_t> watch_open_since_ns_{0};  // steady_clock; 0: no watch open
  std::atomic<bool> stopped_{false};
  CancelToken cancel_;
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
};

}  // namespace nonevent::kube
