#pragma once
// The reconcile contract every controller here keeps (controller-runtime's
// pkg/reconcile/reconcile.go): the manager calls reconcile(name) from one worker thread per
// controller, never twice at once for the same name, with the informer caches synced.
//
// A reconcile is level-triggered and idempotent: it reads the object and the cluster from the
// caches (and, where a cache may lag its own write, fresh from the API server), moves the
// world one step toward the spec, writes what it did to the API server, and returns:
//
// - an error: something failed that a retry may fix (a 409 on a stale write, a 5xx, the
//   network); the key is retried with per-item exponential backoff (5 ms doubling to 1000 s).
// - a duration: done for now, but look again after it even if nothing changes (a soak ends,
//   a window opens, a drain should be re-checked); zero means "at once, on fresh state".
// - std::nullopt ("done"): nothing to do until an object it watches changes; the key's
//   backoff is forgotten. Bad input is reported in status and Events and returns this, not an
//   error: retrying cannot fix a spec.
#include <optional>
#include <string>

#include "kube/clock.h"
#include "kube/api_error.h"

namespace nonevent::controllers {

using ReconcileResult = kube::Result<std::optional<kube::Duration>>;

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // Reconciles the object named `name` (cluster-scoped kinds: the name is the key).
  // Threading: called from the controller's own worker only.
  virtual ReconcileResult reconcile(const std::string& name) = 0;
};

// Shorthands that say which outcome a return means.
inline ReconcileResult done() { return std::optional<kube::Duration>{}; }
inline ReconcileResult requeue_after(kube::Duration d) { return std::optional<kube::Duration>{d}; }

}  // namespace nonevent::controllers
