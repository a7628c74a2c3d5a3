#include "controllers/install_limits.h"

#include <algorithm>

namespace nonevent::controllers {

using web::json::value;

namespace {
std::string named_account(const value& tpl) {
  if (!tpl.has_field("spec") || !tpl.at("spec").is_object()) return "";
  const value& spec = tpl.at("spec");
  for (const char* k : {"serviceAccountName", "serviceAccount"})  // the second is the deprecated alias
    if (spec.has_field(k) && spec.at(k).is_string() && !spec.at(k).as_string().empty()) return spec.at(k).as_string();
  return "";
}
}  // namespace

std::vector<std::string> InstallLimits::refuse_drain(const DrainPolicy& d, const std::string& path) const {
  std::vector<std::string> out;
  if (d.on_blocked == "Force" && !allow_force_deletion)
    out.push_back(path + ".onBlocked: Force deletes pods, which this installation does not allow (chart value forceDeletion.enabled)");
  if (d.rollout.when == "WhenBlocked" && !allow_drain_rollout)
    out.push_back(path + ".rollout.when: WhenBlocked changes Deployments, which this installation does not allow (chart value drainRollout.enabled)");
  return out;
}

std::vector<std::string> InstallLimits::refuse_job_template(const value& tpl) const {
  const std::string sa = named_account(tpl);
  if (sa.empty() || sa == patch_job_service_account) return {};
  const auto& ok = allowed_patch_job_service_accounts;
  if (std::find(ok.begin(), ok.end(), sa) != ok.end()) return {};
  std::string allowed = patch_job_service_account.empty() ? "the namespace's default" : "\"" + patch_job_service_account + "\"";
  for (const auto& a : ok) allowed += ", \"" + a + "\"";
  return {"spec.inPlace.jobTemplate.spec.serviceAccountName: \"" + sa + "\" is not allowed: patch Jobs run as " + allowed +
          " (chart value patchJobs.allowedServiceAccounts)"};
}

value InstallLimits::bounded_job_template(value tpl) const {
  if (!tpl.has_field("spec") || !tpl.at("spec").is_object()) tpl["spec"] = value::object();
  auto& spec = tpl["spec"];
  if (named_account(tpl).empty() && !patch_job_service_account.empty()) spec["serviceAccountName"] = value::string(patch_job_service_account);
  if (!spec.has_field("automountServiceAccountToken")) spec["automountServiceAccountToken"] = value::boolean(false);
  return tpl;
}

}  // namespace nonevent::controllers
