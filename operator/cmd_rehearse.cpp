// `nonevent rehearse -f window-or-campaign.yaml (--snapshot F | --kubeconfig F [--context C])
//  [-o table|json] [--report report.html] [--seed N]` (issue 30): the maintenance run on a copy
// of the cluster before it is done for real (rehearse/rehearsal.h), printed as a timeline.
// Exit 0 when every workload ends at full Ready and nothing blocked; 3 when something would
// block, stay Pending, drop below its budget or miss its deadline or lead time, naming it;
// 1 for input that cannot be rehearsed; 2 for a mistake on the command line.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "kube/rest_client.h"
#include "kube/rest_config.h"
#include "rehearse/rehearsal.h"
#include "rehearse/report_html.h"
#include "sim/yaml_json.h"

namespace nonevent::cli {

namespace {

using web::json::value;

struct RehearseFlags {
  std::string file, snapshot, output = "table", report, max_duration;
  KubeconfigFlags kube;
  uint64_t seed = 1;
  double termination_seconds = 2, node_reboot_seconds = 60, pod_start_seconds = 2;
};

// A read-only copy of the live cluster: the kinds a rehearsal runs on, as a kubectl get would
// show them (each item with its apiVersion and kind).
std::vector<value> read_cluster(const KubeconfigFlags& f) {
  auto client = kube::make_rest_client(kube::load_default_config({.kubeconfig_path = f.kubeconfig, .context = f.context}));
  std::vector<value> out;
  struct Kind {
    kube::GroupVersionResource gvr;
    const char* api_version;
    const char* kind;
  };
  namespace r = kube::resources;
  for (const Kind& k : {Kind{r::nodes(), "v1", "Node"}, Kind{r::pods(), "v1", "Pod"},
                        Kind{r::pod_disruption_budgets(), "policy/v1", "PodDisruptionBudget"},
                        Kind{r::deployments(), "apps/v1", "Deployment"}, Kind{r::replica_sets(), "apps/v1", "ReplicaSet"},
                        Kind{r::stateful_sets(), "apps/v1", "StatefulSet"}, Kind{r::daemon_sets(), "apps/v1", "DaemonSet"}}) {
    kube::ListOptions opts;
    opts.limit = 500;
    do {
      auto page = client->list(k.gvr, "", opts);
      if (!page.ok()) throw std::runtime_error("list " + k.gvr.resource + ": " + page.error().to_string());
      std::error_code ec;
      value list = value::parse(page.value(), ec);
      if (ec) throw std::runtime_error("list " + k.gvr.resource + ": not JSON");
      if (list.has_field("items"))
        for (auto item : list.at("items").as_array()) {
          item["apiVersion"] = value::string(k.api_version);
          item["kind"] = value::string(k.kind);
          out.push_back(std::move(item));
        }
      opts.continue_token = list.has_field("metadata") && list.at("metadata").has_field("continue") ? list.at("metadata").at("continue").as_string() : "";
    } while (!opts.continue_token.empty());
  }
  return out;
}

std::string clock_text(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "+%02d:%02d:%02d", static_cast<int>(s) / 3600, (static_cast<int>(s) / 60) % 60, static_cast<int>(s) % 60);
  return b;
}
double num(const value& v, const char* k) { return v.has_field(k) && v.at(k).is_number() ? v.at(k).as_double() : 0; }
std::string text(const value& v, const char* k) { return v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : ""; }

void print_table(const value& t, const rehearse::RehearsalResult& r) {
  std::printf("%s %s rehearsed from %s to %s (%s of virtual time, %.1f s wall)\n", text(t, "kind").c_str(), text(t, "name").c_str(),
              text(t, "start").c_str(), text(t, "end").c_str(), clock_text(num(t, "durationSeconds")).c_str(), r.wall_seconds);
  if (t.at("warnings").size() > 0) {
    std::printf("\nWHAT THE SNAPSHOT LACKS\n");
    for (const auto& w : t.at("warnings").as_array()) std::printf("  %s\n", w.as_string().c_str());
  }
  std::printf("\nTIMINGS\n");
  for (const auto& i : t.at("timings").at("inferred").as_array())
    std::printf("  %-50s ready %.0fs after scheduling (inferred from %d pod(s))\n", text(i, "workload").c_str(), num(i, "readySeconds"),
                static_cast<int>(num(i, "pods")));
  for (const auto& d : t.at("timings").at("defaulted").as_array()) std::printf("  %s (defaulted)\n", d.as_string().c_str());
  // One timeline, in time order: phases, zones, batches, pending pods.
  std::vector<std::pair<double, std::string>> lines;
  for (const auto& p : t.at("phases").as_array()) lines.emplace_back(num(p, "at"), text(p, "phase"));
  for (const auto& z : t.at("zones").as_array()) {
    if (z.has_field("cordonedAt")) lines.emplace_back(num(z, "cordonedAt"), "zone " + text(z, "zone") + ": every node cordoned");
    if (z.has_field("emptyAt")) lines.emplace_back(num(z, "emptyAt"), "zone " + text(z, "zone") + ": empty");
  }
  if (t.has_field("batches"))
    for (const auto& b : t.at("batches").as_array()) {
      std::string nodes;
      for (const auto& n : b.at("nodes").as_array()) nodes += (nodes.empty() ? "" : ", ") + text(n, "name");
      lines.emplace_back(num(b, "start"), std::string(b.at("canary").as_bool() ? "canary " : "") + "batch in " + text(b, "zone") + ": " + nodes +
                                              (b.has_field("end") ? " (done " + clock_text(num(b, "end")) + ")" : " (unfinished)"));
    }
  for (const auto& p : t.at("pending").as_array())
    lines.emplace_back(num(p, "from"), "Pending " + text(p, "pod") + (p.has_field("to") ? " until " + clock_text(num(p, "to")) : " to the end") +
                                           (text(p, "reason").empty() ? "" : ": " + text(p, "reason")));
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::printf("\nTIMELINE\n");
  for (const auto& [at, line] : lines) std::printf("  %s  %s\n", clock_text(at).c_str(), line.c_str());
  std::printf("\nWORKLOADS THAT MOVED (min Ready of the start, and when; max zone skew)\n");
  int shown = 0;
  for (const auto& w : t.at("workloads").as_array()) {
    if (w.at("series").size() <= 1) continue;
    if (++shown > 30) break;
    std::printf("  %-50s %3.0f/%-3.0f at %s  skew %.0f  end %.0f\n", text(w, "workload").c_str(), num(w, "minReady"), num(w, "readyAtStart"),
                clock_text(num(w, "minReadyAt")).c_str(), num(w, "maxSkew"), num(w, "readyAtEnd"));
  }
  if (shown == 0) std::printf("  none\n");
  std::printf("\nPDB WAITS %zu, PDB BREACHES %zu\n", t.at("pdbWaits").size(), t.at("pdbBreaches").size());
  if (t.has_field("window") && t.at("window").has_field("evacuationSeconds")) {
    const value& w = t.at("window");
    std::printf("EVACUATION %.0f s (lower bound %.0f s; evacuateBefore %s)\n", num(w, "evacuationSeconds"), num(w, "lowerBoundSeconds"),
                text(w, "evacuateBefore").empty() ? "2h" : text(w, "evacuateBefore").c_str());
  }
  if (t.has_field("deadline"))
    std::printf("DEADLINE %s, %s %s\n", text(t, "deadline").c_str(), t.has_field("completedAt") ? "completed" : "projected end",
                (t.has_field("completedAt") ? text(t, "completedAt") : text(t, "estimatedCompletion").empty() ? std::string("unknown") : text(t, "estimatedCompletion")).c_str());
  if (r.problems.empty()) {
    std::printf("\nOK: every workload is back at full Ready, nothing blocked, stayed Pending or dropped below its budget\n");
  } else {
    std::printf("\nPROBLEMS\n");
    for (const auto& p : r.problems) std::printf("  %s\n", p.c_str());
  }
}

int rehearse_cmd(const RehearseFlags& f) {
  const std::string origin = f.file == "-" ? "standard input" : f.file;
  value resource = value::null();
  for (const auto& d : sim::parse_yaml_documents(read_file(f.file))) {
    const std::string kind = d.is_object() && d.has_field("kind") && d.at("kind").is_string() ? d.at("kind").as_string() : "";
    if (kind != "MaintenanceWindow" && kind != "PatchCampaign") continue;
    if (!resource.is_null()) throw UsageError(origin + ": more than one MaintenanceWindow or PatchCampaign; rehearse one at a time");
    resource = d;
  }
  if (resource.is_null()) throw UsageError(origin + ": kind: no MaintenanceWindow or PatchCampaign in it");
  rehearse::RehearsalOptions opts;
  opts.seed = f.seed;
  opts.timings.termination_s = f.termination_seconds;
  opts.timings.node_reboot_s = f.node_reboot_seconds;
  opts.timings.pod_start_s = f.pod_start_seconds;
  if (!f.max_duration.empty()) {
    const double s = positive_seconds("--max-duration", f.max_duration);
    opts.max_duration = std::chrono::duration_cast<kube::Duration>(std::chrono::duration<double>(s));
  }
  std::vector<value> snapshot;
  try {
    snapshot = !f.snapshot.empty() ? sim::parse_yaml_documents(read_file(f.snapshot)) : read_cluster(f.kube);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nonevent rehearse: %s: %s\n", f.snapshot.empty() ? "the cluster" : f.snapshot.c_str(), e.what());
    return 1;
  }
  rehearse::RehearsalResult r;
  try {
    r = rehearse::rehearse(snapshot, resource, opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nonevent rehearse: %s\n", e.what());
    return 1;
  }
  if (!f.report.empty()) {
    std::ofstream out(f.report);
    out << rehearse::report_html(r.timeline);
    if (!out) {
      std::fprintf(stderr, "nonevent rehearse: cannot write --report %s\n", f.report.c_str());
      return 1;
    }
  }
  if (f.output == "json") std::printf("%s\n", r.timeline.serialize().c_str());
  else print_table(r.timeline, r);
  return r.problems.empty() ? 0 : 3;
}

}  // namespace

void add_rehearse(CLI::App& root, Run& run) {
  auto* app = root.add_subcommand("rehearse",
                                  "run a MaintenanceWindow or PatchCampaign on a copy of the cluster, on virtual time, and print what would "
                                  "happen (exit 3: something would block, stay Pending, drop below its budget or run late)");
  auto f = std::make_shared<RehearseFlags>();
  app->add_option("-f,--filename", f->file, "the manifest: one MaintenanceWindow or PatchCampaign; - for standard input")->required();
  app->add_option("--snapshot", f->snapshot,
                  "rehearse on `kubectl get nodes,pods,pdb,deployments,replicasets,statefulsets,daemonsets -A -o yaml` output "
                  "(default: read the cluster of --kubeconfig, read-only)");
  add_kubeconfig_flags(*app, f->kube);
  app->add_option("-o,--output", f->output, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
  app->add_option("--report", f->report, "also write a self-contained HTML report here (inline SVG, no network)");
  app->add_option("--seed", f->seed, "the simulation's seed (the same input and seed give the same timeline)")->capture_default_str();
  app->add_option("--max-duration", f->max_duration, "stop after this much virtual time (default: the window's end plus rebalancing; twice a campaign's deadline)");
  app->add_option("--termination-seconds", f->termination_seconds, "how long a pod takes to stop, capped by its grace period (not in a snapshot)")
      ->capture_default_str();
  app->add_option("--node-reboot-seconds", f->node_reboot_seconds, "how long a patched node takes to come back (not in a snapshot)")
      ->capture_default_str();
  app->add_option("--pod-start-seconds", f->pod_start_seconds, "of a pod's time to Ready, the part before its containers start")
      ->capture_default_str();
  app->callback([f, &run] { run = [f] { return rehearse_cmd(*f); }; });
}

}  // namespace nonevent::cli
