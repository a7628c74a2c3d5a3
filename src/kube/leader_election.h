#pragma once
// Leader election on a coordination.k8s.io/v1 Lease with client-go's protocol:
//  - acquire: create the Lease, or take it over once the current holder has not renewed for
//    leaseDuration as observed on *our* clock (observedTime + leaseDuration < now), never by
//    trusting the remote renewTime; optimistic concurrency makes exactly one contender win;
//  - renew every retryPeriod; if no renewal succeeded for renewDeadline, leadership is lost
//    (the callback tells the process to stop acting);
//  - release on clean shutdown (holder cleared, duration 1 s) so a successor starts at once.
// Defaults are controller-runtime's: 15 s lease, 10 s renew deadline, 2 s retry.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "kube/clock.h"
#include "kube/rest_client.h"

namespace nonevent::kube {

struct LeaderElectionConfig {
  std::string lease_namespace = "default";
  std::string lease_name = "nonevent-operator";
  std::string identity;  // unique per process: hostname + "_" + random
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  bool release_on_cancel = true;
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;
};

// The lease record as read from the server.
struct LeaseRecord {
  std::string holder;
  int lease_duration_seconds = 0;
  std::string acquire_time, renew_time;  // MicroTime text
  int transitions = 0;
  std::string resource_version;
};

class LeaderElector {
 public:
  LeaderElector(std::shared_ptr<RestClient> client, LeaderElectionConfig config,
                std::shared_ptr<Clock> clock);
  ~LeaderElector();

  // Blocks: acquires, leads (renewing) until leadership is lost or stop() is called, then
  // returns. Call on a dedicated thread.
  void run();
  // Thread-safe: ends run(); releases the lease when leading and release_on_cancel.
  void stop();
  bool is_leader() const { return leading_.load(); }
  std::string observed_leader() const;

  // One attempt of the acquire-or-renew step (exposed for tests).
  bool try_acquire_or_renew();

 private:
  bool sleep(std::chrono::milliseconds d);  // false if stopped meanwhile
  void release();
  std::optional<LeaseRecord> get_lease(bool* not_found, ApiError* err);
  std::string lease_json(const LeaseRecord& r) const;

  std::shared_ptr<RestClient> client_;
  const LeaderElectionConfig config_;
  std::shared_ptr<Clock> clock_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> stopped_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  LeaseRecord observed_;        // guarded by mu_
  TimePoint observed_time_{};   // guarded by mu_: when observed_ last changed, on our clock
  std::string reported_leader_;  // guarded by mu_
};

std::string default_identity();

}  // namespace nonevent::kube
