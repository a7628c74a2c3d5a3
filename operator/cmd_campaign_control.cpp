// `nonevent pause|resume|abort CAMPAIGN` (`kubectl nonevent ...`): the documented gestures on a
// PatchCampaign, each saying what it changed.
//   pause   spec.paused: true   — no new batch starts; nodes in flight finish and are released
//   resume  spec.paused: false  — also how a campaign paused by its failure budget retries
//   abort   the nonevent.dev/abort annotation — stops it for good and gives its nodes back
#include <cpprest/json.h>

#include <cstdio>

#include "commands.h"
#include "controllers/patch_campaign.h"
#include "kube/clock.h"
#include "kube/rest_client.h"
#include "kube/rest_config.h"
#include "sim/json_util.h"

namespace nonevent::cli {
namespace {

using web::json::value;

struct ControlFlags {
  KubeconfigFlags kube;
  std::string campaign;
  std::string reason;
};

std::string phase_of(const value& c) { return sim::json::str(c, {"status", "phase"}, "Pending"); }
bool paused_in_spec(const value& c) { return sim::json::flag(c, {"spec", "paused"}); }

int run_control(const std::string& verb, const ControlFlags& f) {
  auto config = kube::load_default_config({.kubeconfig_path = f.kube.kubeconfig, .context = f.kube.context});
  auto client = kube::make_rest_client(config, kube::real_clock());
  const auto gvr = kube::resources::patch_campaigns();
  const std::string ref = "patchcampaign.nonevent.dev/" + f.campaign;
  auto got = client->get(gvr, "", f.campaign);
  if (!got.ok()) {
    std::fprintf(stderr, "nonevent %s: %s\n", verb.c_str(), got.error().to_string().c_str());
    return 1;
  }
  const value before = value::parse(got.value());
  const std::string phase = phase_of(before);
  if (phase == "Completed" || phase == "Failed") {
    std::fprintf(stderr, "nonevent %s: %s is %s: there is nothing to %s\n", verb.c_str(), ref.c_str(), phase.c_str(), verb.c_str());
    return 1;
  }
  value patch = value::object();
  if (verb == "pause" || verb == "resume") {
    const bool want = verb == "pause";
    if (paused_in_spec(before) == want) {
      std::printf("%s already %s (phase %s)\n", ref.c_str(), want ? "paused" : "unpaused", phase.c_str());
      return 0;
    }
    patch["spec"]["paused"] = value::boolean(want);
  } else {
    const std::string why = f.reason.empty() ? "requested with nonevent abort at " + kube::format_rfc3339(kube::real_clock()->now()) : f.reason;
    patch["metadata"]["annotations"][controllers::kAbortAnnotation] = value::string(why);
  }
  auto r = client->patch(gvr, "", f.campaign, kube::PatchType::kMerge, patch.serialize());
  if (!r.ok()) {
    std::fprintf(stderr, "nonevent %s: %s\n", verb.c_str(), r.error().to_string().c_str());
    return 1;
  }
  if (verb == "pause")
    std::printf("%s paused (was %s): no new batch starts; nodes in flight finish and are released\n", ref.c_str(), phase.c_str());
  else if (verb == "resume")
    std::printf("%s resumed (was %s)\n", ref.c_str(), phase.c_str());
  else
    std::printf("%s abort requested (was %s): the operator gives its nodes back and marks it Failed, reason Aborted\n",
                ref.c_str(), phase.c_str());
  return 0;
}

void add_one(CLI::App& root, Run& run, const std::string& verb, const std::string& help) {
  auto f = std::make_shared<ControlFlags>();
  auto* app = root.add_subcommand(verb, help);
  add_kubeconfig_flags(*app, f->kube);
  app->add_option("campaign", f->campaign, "the PatchCampaign's name")->required();
  if (verb == "abort") app->add_option("--reason", f->reason, "why (kept in the annotation's value)");
  app->callback([f, verb, &run] { run = [f, verb] { return run_control(verb, *f); }; });
}

}  // namespace

void add_campaign_control(CLI::App& root, Run& run) {
  add_one(root, run, "pause", "pause a PatchCampaign (spec.paused: true): no new batch starts");
  add_one(root, run, "resume", "resume a paused PatchCampaign (spec.paused: false), also after its failure budget paused it");
  add_one(root, run, "abort", "stop a PatchCampaign for good (annotation nonevent.dev/abort): its nodes are given back");
}

}  // namespace nonevent::cli
