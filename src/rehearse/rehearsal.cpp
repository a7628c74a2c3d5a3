#include "rehearse/rehearsal.h"

#include <stdexcept>
#include <thread>

#include "controllers/manager.h"
#include "kube/log.h"
#include "kube/rest_client.h"
#include "rehearse/embedded_crds.h"
#include "rehearse/recorder.h"
#include "sim/api_server.h"
#include "sim/http_server.h"
#include "sim/json_util.h"
#include "sim/simulation.h"
#include "sim/yaml_json.h"

namespace nonevent::rehearse {

using web::json::value;
using namespace std::chrono_literals;
using sim::json::str;

namespace {

constexpr const char* kOperatorNamespace = "nonevent-system";
// After the resource is done, how long the cluster may take to get every workload back to
// full Ready (a last rebalancing eviction's replacement) before the rehearsal judges.
constexpr kube::Duration kSettleAfter = std::chrono::minutes(15);

// The resource as applied: what the server owns goes, its status with it.
value applied(value r) {
  if (r.has_field("status")) r.erase("status");
  if (r.has_field("metadata"))
    for (const char* k : {"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"})
      if (r["metadata"].has_field(k)) r["metadata"].erase(k);
  return r;
}

// How long to run at most: past a window's end by its rebalancing (30 min) and a margin; a
// campaign's deadline twice over.
kube::Duration default_limit(const value& r, kube::TimePoint start) {
  if (str(r, {"kind"}) == "MaintenanceWindow") {
    if (auto end = kube::parse_rfc3339(str(r, {"spec", "end"}))) return std::max<kube::Duration>(*end - start, 0s) + 45min;
    return std::chrono::hours(24 * 8);  // recurring: the next occurrence within a week
  }
  auto deadline = kube::parse_duration(str(r, {"spec", "deadline"}));
  return std::max<kube::Duration>(2 * deadline.value_or(12h), 1h);
}

bool finished(const std::string& kind, const std::string& phase) {
  if (kind == "MaintenanceWindow") return phase == "Completed" || phase == "Missed" || phase == "Failed";
  // A paused campaign waits for a person: nothing more happens in a rehearsal.
  return phase == "Completed" || phase == "Failed" || phase == "Paused";
}

// Nothing has moved for this long while a campaign says it is rolling: it waits on something
// that will not change by itself (a pod no policy lets go, a budget at zero).
constexpr kube::Duration kStallAfter = std::chrono::hours(2);

bool stalled(const std::string& kind, const Recorder& recorder, kube::TimePoint now) {
  if (kind != "PatchCampaign" || recorder.phase() != "Progressing") return false;
  // Waiting on its schedule or a window is not a stall: those end by themselves.
  if (const value* cs = sim::json::at(recorder.resource(), {"status", "conditions"}); cs && cs->is_array())
    for (const auto& c : cs->as_array())
      if (str(c, {"type"}) == "Progressing") {
        const std::string why = str(c, {"reason"});
        if (why == "Blackout" || why == "OutsideSchedule" || why == "HeldByWindow") return false;
      }
  return now - recorder.last_movement() >= kStallAfter;
}

// The lock step: the simulation steps only while the operator is idle and its caches have
// taken every change of what it watches, until a step changes nothing and the operator stays
// idle (three rounds running); so each step is decided on the same state whatever the
// machine's speed, and the same input and seed give the same run.
struct LockStep {
  controllers::Manager& manager;
  sim::Simulation& simulation;
  sim::ObjectStore& store;
  Recorder& recorder;
  std::optional<kube::TimePoint> sim_next;  // the simulation's next timer after the last step
  long settles = 0;

  bool caught_up() const {
    for (const auto& [watched, rv] : manager.cache_versions()) {
      uint64_t seen = 0;
      try {
        seen = rv.empty() ? 0 : std::stoull(rv);
      } catch (...) {
      }
      if (seen < store.last_change_rv(watched)) return false;
    }
    return true;
  }

  void settle() {
    int quiet = 0;
    const auto give_up = std::chrono::steady_clock::now() + 2min;
    while (quiet < 3 && std::chrono::steady_clock::now() < give_up) {
      recorder.take_changes();
      while (store.undelivered_watch_events() > 0 && std::chrono::steady_clock::now() < give_up) {
        recorder.take_changes();
        std::this_thread::sleep_for(200us);
      }
      while (!caught_up() && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(100us);
      std::this_thread::sleep_for(1ms);  // a cache that took a change hands its key to a queue
      if (!manager.idle()) {
        quiet = 0;
        continue;
      }
      const auto rv = store.resource_version();
      sim_next = simulation.step();
      recorder.take_changes();
      quiet = store.resource_version() == rv && manager.idle() && store.undelivered_watch_events() == 0 && caught_up() ? quiet + 1 : 0;
    }
    ++settles;
  }
};

}  // namespace

RehearsalResult rehearse(const std::vector<value>& snapshot, const value& resource, const RehearsalOptions& opts) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::string kind = str(resource, {"kind"}), name = str(resource, {"metadata", "name"});
  if (kind != "MaintenanceWindow" && kind != "PatchCampaign")
    throw std::runtime_error("rehearse takes a MaintenanceWindow or a PatchCampaign, not " + (kind.empty() ? std::string("a document without kind") : kind));
  if (name.empty()) throw std::runtime_error(kind + " without metadata.name");
  // The operator's Events are logged at warn too (a PDB wait each pass): errors only.
  if (opts.quiet) logging::configure(logging::Level::kError, logging::Format::kText);

  auto clock = std::make_shared<kube::VirtualClock>();
  auto store = std::make_shared<sim::ObjectStore>();
  auto api = std::make_shared<sim::ApiServer>(store, clock, sim::ApiServerOptions{});
  RehearsalResult out;
  out.imported = import_snapshot(snapshot, *store, opts.timings);
  const kube::TimePoint start = out.imported.taken_at;
  clock->set(start);
  for (auto crd : {maintenance_window_crd(), patch_campaign_crd()})
    for (const auto& d : sim::parse_yaml_documents(std::string(crd)))
      if (auto r = api->create_object(d); r.status >= 300) throw std::runtime_error("installing the CRDs: " + r.body);
  value ns = value::object();
  ns["apiVersion"] = value::string("v1");
  ns["kind"] = value::string("Namespace");
  ns["metadata"]["name"] = value::string(kOperatorNamespace);
  api->create_object(ns);

  sim::Simulation simulation(api, clock, out.imported.spec, opts.seed);
  for (int i = 0; i < 3; ++i) simulation.step();  // the components take in what they found

  sim::HttpServer http(api, sim::HttpServerOptions{});
  kube::RestConfig cfg;
  cfg.server = http.url();
  cfg.qps = 0;  // in-process: the lock step, not a rate limit, sets the pace
  controllers::ManagerOptions mopts;
  mopts.namespace_ = mopts.lease_namespace = kOperatorNamespace;
  controllers::Manager manager(kube::make_rest_client(cfg, clock), clock, mopts);
  std::thread manager_thread([&] { manager.run(); });
  for (int i = 0; i < 3000 && !manager.synced(); ++i) std::this_thread::sleep_for(10ms);
  if (!manager.synced()) {
    manager.stop();
    manager_thread.join();
    throw std::runtime_error("the operator's caches did not sync against the rehearsal cluster");
  }
  // Before the resource: every workload's Ready replicas as the snapshot left them settle
  // (a pod caught starting), the baseline its minimum and its end are measured against.
  Recorder recorder(*store, kind, name, start);
  LockStep lock_step{manager, simulation, *store, recorder};
  lock_step.settle();
  recorder.sample(start);
  if (auto r = api->create_object(applied(resource)); r.status >= 300) {
    manager.stop();
    manager_thread.join();
    throw std::runtime_error(kind + " " + name + " was refused: " + r.body);
  }

  kube::TimePoint limit = start + opts.max_duration.value_or(default_limit(resource, start));
  std::optional<kube::TimePoint> done_at;  // the resource finished; the cluster settles for a while
  while (true) {
    lock_step.settle();
    recorder.sample(clock->now());
    if (!done_at && finished(kind, recorder.phase())) {
      done_at = clock->now();
      limit = std::min(limit, *done_at + kSettleAfter);
    }
    if ((done_at && recorder.settled()) || clock->now() >= limit) break;
    if (!done_at && stalled(kind, recorder, clock->now())) break;
    // Jump to the next instant anything waits for, at least a tick on.
    std::optional<kube::TimePoint> next = lock_step.sim_next;
    if (auto w = manager.next_wake(); w && (!next || *w < *next)) next = w;
    kube::TimePoint t = next.value_or(clock->now() + 1min);
    t = std::clamp(t, clock->now() + opts.tick, limit);
    clock->set(t);
  }
  // A window's last steps (restored, rebalanced) and a campaign's release settle first.
  manager.stop();
  manager_thread.join();
  http.stop();

  const auto end = clock->now();
  out.timeline = recorder.to_json(end, opts.pending_limit);
  out.problems = recorder.problems(end, opts.pending_limit);
  value warnings = value::array();
  for (const auto& w : out.imported.warnings) warnings[warnings.size()] = value::string(w);
  out.timeline["warnings"] = warnings;
  value timings = value::object();
  timings["inferred"] = value::array();
  for (const auto& t : out.imported.timings) {
    value e = value::object();
    e["workload"] = value::string(t.workload);
    e["readySeconds"] = value::number(t.ready_s);
    e["pods"] = value::number(t.samples);
    timings["inferred"][timings["inferred"].size()] = e;
  }
  timings["defaulted"] = value::array();
  for (const auto& d : out.imported.defaulted) timings["defaulted"][timings["defaulted"].size()] = value::string(d);
  out.timeline["timings"] = timings;
  out.timeline["seed"] = value::number(static_cast<int64_t>(opts.seed));
  out.settles = lock_step.settles;
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return out;
}

}  // namespace nonevent::rehearse
