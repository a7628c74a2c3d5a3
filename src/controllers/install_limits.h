#pragma once
// What this installation of the operator lets a MaintenanceWindow or PatchCampaign ask for:
// the chart's values, passed as flags. Whoever may create one of our CRs borrows the
// operator's rights, so the powers that go beyond cordon-and-evict are granted by whoever
// installs it, not by whoever writes the CR (no confused deputy):
//  - onBlocked: Force deletes pods (RBAC: delete pods);
//  - drain.rollout changes Deployments (RBAC: patch deployments and pods);
//  - an InPlace campaign's patch Job runs a chosen image on every selected node, in the patch
//    namespace, as the patch ServiceAccount (no API rights) unless the installation allows
//    the ServiceAccount the template names.
// A CR that asks for more than allowed is refused with the field and the chart value named,
// before it touches anything.
#include <cpprest/json.h>

#include <string>
#include <vector>

#include "controllers/drain_policy.h"

namespace nonevent::controllers {

struct InstallLimits {
  bool allow_force_deletion = true;  // --allow-force-deletion (chart forceDeletion.enabled)
  bool allow_drain_rollout = true;   // --allow-drain-rollout (chart drainRollout.enabled)
  // The ServiceAccount patch Jobs run as when the template names none ("": the namespace's
  // default), and the others a template may name (--patch-job-service-account,
  // --allowed-patch-job-service-accounts).
  std::string patch_job_service_account;
  std::vector<std::string> allowed_patch_job_service_accounts;

  // The problems of a drain policy at `path` ("spec.drain"), each naming the field.
  std::vector<std::string> refuse_drain(const DrainPolicy& d, const std::string& path) const;
  // The problems of an InPlace job template's pod template (spec.inPlace.jobTemplate).
  std::vector<std::string> refuse_job_template(const web::json::value& pod_template) const;
  // The template as it runs: the patch ServiceAccount when it names none, and no API token
  // mounted unless it asks for one.
  web::json::value bounded_job_template(web::json::value pod_template) const;
};

}  // namespace nonevent::controllers
