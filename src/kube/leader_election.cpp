#include "kube/leader_election.h"

#include <cpprest/json.h>
#include <unistd.h>

#include <random>

namespace nonevent::kube {

using web::json::value;

std::string default_identity() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", rd());
  return std::string(host) + "_" + suffix;
}

LeaderElector::LeaderElector(std::shared_ptr<RestClient> client, LeaderElectionConfig config,
                             std::shared_ptr<Clock> clock)
    : client_(std::move(client)), config_(std::move(config)), clock_(std::move(clock)) {
  if (config_.identity.empty()) throw ConfigError("leader election: identity must not be empty");
  if (config_.lease_duration <= config_.renew_deadline)
    throw ConfigError("leader election: lease duration must be greater than the renew deadline");
}

LeaderElector::~LeaderElector() { stop(); }

std::string LeaderElector::observed_leader() const {
  std::lock_guard g(mu_);
  return observed_.holder;
}

namespace {
std::string field(const value& v, const char* k) {
  return v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : std::string{};
}
int int_field(const value& v, const char* k) {
  return v.has_field(k) && v.at(k).is_integer() ? v.at(k).as_integer() : 0;
}
}  // namespace

std::optional<LeaseRecord> LeaderElector::get_lease(bool* not_found, ApiError* err) {
  auto r = client_->get(resources::leases(), config_.lease_namespace, config_.lease_name);
  if (!r.ok()) {
    *not_found = r.error().is_not_found();
    *err = r.error();
    return std::nullopt;
  }
  std::error_code ec;
  auto v = value::parse(r.value(), ec);
  if (ec || !v.is_object()) {
    *err = ApiError::transport("lease: cannot parse the server's answer");
    return std::nullopt;
  }
  LeaseRecord rec;
  if (v.has_field("metadata")) rec.resource_version = field(v.at("metadata"), "resourceVersion");
  if (v.has_field("spec") && v.at("spec").is_object()) {
    const auto& s = v.at("spec");
    rec.holder = field(s, "holderIdentity");
    rec.lease_duration_seconds = int_field(s, "leaseDurationSeconds");
    rec.acquire_time = field(s, "acquireTime");
    rec.renew_time = field(s, "renewTime");
    rec.transitions = int_field(s, "leaseTransitions");
  }
  return rec;
}

std::string LeaderElector::lease_json(const LeaseRecord& r) const {
  value v = value::object();
  v["apiVersion"] = value::string("coordination.k8s.io/v1");
  v["kind"] = value::string("Lease");
  value meta = value::object();
  meta["name"] = value::string(config_.lease_name);
  meta["namespace"] = value::string(config_.lease_namespace);
  if (!r.resource_version.empty()) meta["resourceVersion"] = value::string(r.resource_version);
  v["metadata"] = meta;
  value spec = value::object();
  spec["holderIdentity"] = value::string(r.holder);
  spec["leaseDurationSeconds"] = value::number(r.lease_duration_seconds);
  if (!r.acquire_time.empty()) spec["acquireTime"] = value::string(r.acquire_time);
  if (!r.renew_time.empty()) spec["renewTime"] = value::string(r.renew_time);
  spec["leaseTransitions"] = value::number(r.transitions);
  v["spec"] = spec;
  return v.serialize();
}

bool LeaderElector::try_acquire_or_renew() {
  const auto now = clock_->now();
  const std::string now_text = format_rfc3339_micro(now);
  LeaseRecord desired;
  desired.holder = config_.identity;
  desired.lease_duration_seconds =
      static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count());
  desired.acquire_time = now_text;
  desired.renew_time = now_text;

  bool not_found = false;
  ApiError err;
  auto current = get_lease(&not_found, &err);
  if (!current) {
    if (!not_found) return false;
    auto created = client_->create(resources::leases(), config_.lease_namespace, lease_json(desired));
    if (!created.ok()) return false;  // someone else created it first (409): try again later
    std::lock_guard g(mu_);
    observed_ = desired;
    observed_time_ = now;
    return true;
  }

  {
    std::lock_guard g(mu_);
    // Remember when the record last changed, on our own clock (never trust remote clocks).
    if (current->holder != observed_.holder || current->renew_time != observed_.renew_time ||
        current->resource_version != observed_.resource_version || observed_time_ == TimePoint{}) {
      observed_ = *current;
      observed_time_ = now;
    }
    const auto duration = std::chrono::seconds(std::max(current->lease_duration_seconds, 0));
    const bool held_by_other = !current->holder.empty() && current->holder != config_.identity;
    if (held_by_other && observed_time_ + duration > now) return false;
  }

  if (current->holder == config_.identity) {
    desired.acquire_time = current->acquire_time;
    desired.transitions = current->transitions;
  } else {
    desired.transitions = current->transitions + 1;
  }
  desired.resource_version = current->resource_version;  // optimistic concurrency
  auto updated = client_->update(resources::leases(), config_.lease_namespace, config_.lease_name,
                                 lease_json(desired));
  if (!updated.ok()) return false;  // 409: another contender won this round
  std::lock_guard g(mu_);
  observed_ = desired;
  observed_time_ = now;
  return true;
}

bool LeaderElector::sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  clock_->wait_until(lock, cv_, clock_->now() + d, [this] { return stopped_.load(); });
  return !stopped_;
}

void LeaderElector::run() {
  std::mt19937 rng(std::random_device{}());
  auto jittered = [&](std::chrono::milliseconds d) {
    return std::chrono::milliseconds(static_cast<long>(
        static_cast<double>(d.count()) * (1.0 + std::uniform_real_distribution<double>(0, 1.2)(rng))));
  };
  auto notify_leader = [&] {
    std::string leader;
    {
      std::lock_guard g(mu_);
      if (observed_.holder == reported_leader_) return;
      reported_leader_ = observed_.holder;
      leader = reported_leader_;
    }
    if (config_.on_new_leader && !leader.empty()) config_.on_new_leader(leader);
  };
  // Acquire.
  while (!stopped_) {
    if (try_acquire_or_renew()) break;
    notify_leader();
    if (!sleep(jittered(config_.retry_period))) return;
  }
  if (stopped_) return;
  leading_ = true;
  notify_leader();
  if (config_.on_started_leading) config_.on_started_leading();
  // Renew until a renewal deadline passes without success, or stop.
  auto last_renew = clock_->now();
  while (!stopped_) {
    if (!sleep(config_.retry_period)) break;
    if (try_acquire_or_renew()) {
      last_renew = clock_->now();
      continue;
    }
    if (clock_->now() - last_renew >= config_.renew_deadline) break;
  }
  const bool clean = stopped_.load();
  if (clean && config_.release_on_cancel) release();
  leading_ = false;
  if (config_.on_stopped_leading) config_.on_stopped_leading();
}

void LeaderElector::release() {
  bool not_found = false;
  ApiError err;
  auto current = get_lease(&not_found, &err);
  if (!current || current->holder != config_.identity) return;
  LeaseRecord r = *current;
  r.holder.clear();
  r.lease_duration_seconds = 1;
  const auto now = format_rfc3339_micro(clock_->now());
  r.renew_time = now;
  r.acquire_time = now;
  client_->update(resources::leases(), config_.lease_namespace, config_.lease_name, lease_json(r));
}

void LeaderElector::stop() {
  stopped_ = true;
  std::lock_guard g(mu_);
  cv_.notify_all();
}

}  // namespace nonevent::kube
