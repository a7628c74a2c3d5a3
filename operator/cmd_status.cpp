// `nonevent status` (`kubectl nonevent status`): every MaintenanceWindow and PatchCampaign at a
// glance — phase, progress per zone as bars, what each waits for, ETA against deadline — read
// from their status, as the operator wrote it. `-w` follows; `-o json|yaml` gives the objects.
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cpprest/json.h>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "commands.h"
#include "kube/clock.h"
#include "kube/rest_client.h"
#include "kube/rest_config.h"
#include "sim/json_util.h"

namespace nonevent::cli {
namespace {

using web::json::value;

using sim::json::at;
using sim::json::condition_true;
using sim::json::num;
using sim::json::str;

struct Style {
  bool colour = false;
  std::string paint(const std::string& text, const char* code) const {
    return colour ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
  std::string phase(const std::string& p) const {
    if (p == "Completed" || p == "Evacuated") return paint(p, "32");           // green
    if (p == "Failed" || p == "Blocked" || p == "Missed") return paint(p, "31");  // red
    if (p == "Paused") return paint(p, "33");                                   // yellow
    return paint(p.empty() ? "Pending" : p, "36");                              // cyan: moving
  }
};

// [#####-----] done/total, 20 cells wide.
std::string bar(int64_t done, int64_t total) {
  constexpr int kWidth = 20;
  const int filled = total > 0 ? static_cast<int>(kWidth * std::min(done, total) / total) : 0;
  return "[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + "] " + std::to_string(done) + "/" +
         std::to_string(total);
}

const value* condition(const value& obj, const std::string& type) {
  const value* cs = at(obj, {"status", "conditions"});
  if (!cs || !cs->is_array()) return nullptr;
  for (const auto& c : cs->as_array())
    if (str(c, {"type"}) == type) return &c;
  return nullptr;
}

// What holds it up now, each a short phrase: blockers (PDBs, pods, zones), a window holding
// its zones, the schedule (a blackout, outside the allowed slots), failing health checks, quarantined nodes, other
// disruptors, a pause, a missed deadline.
std::vector<std::string> waiting_for_campaign(const value& c) {
  std::vector<std::string> out;
  if (const value* p = condition(c, "Paused"); p && str(*p, {"status"}) == "True")
    out.push_back("paused (" + str(*p, {"reason"}) + ")" + (str(*p, {"message"}).empty() ? "" : ": " + str(*p, {"message"})));
  if (const value* p = condition(c, "Progressing"); p && str(*p, {"reason"}) == "HeldByWindow")
    out.push_back("window: " + str(*p, {"message"}));
  if (const std::string state = str(c, {"status", "schedule", "state"}); state == "Blackout" || state == "OutsideSchedule")
    out.push_back((state == "Blackout" ? "blackout: " : "schedule: ") + str(c, {"status", "schedule", "message"}));
  // Failing health checks (issue 26); a pause they made already said why above.
  if (const value* h = condition(c, "HealthChecksPassing"); h && str(*h, {"status"}) == "False" && !at(c, {"status", "healthPause"}))
    out.push_back("health: " + str(*h, {"message"}));
  if (const value* q = at(c, {"status", "quarantinedNodes"}); q && q->is_array())
    for (const auto& n : q->as_array())
      out.push_back("quarantined " + str(n, {"name"}) + " (left cordoned: " + str(n, {"reason"}) + ")");
  if (const value* h = condition(c, "HeldByOthers"); h && str(*h, {"status"}) == "True")
    out.push_back("other disruptors: " + str(*h, {"message"}));
  if (const value* blockers = at(c, {"status", "blockers"}); blockers && blockers->is_array())
    for (const auto& b : blockers->as_array()) {
      std::string who = str(b, {"kind"}) + " " + (str(b, {"namespace"}).empty() ? "" : str(b, {"namespace"}) + "/") + str(b, {"name"});
      out.push_back(who + " (" + str(b, {"reason"}) + (str(b, {"message"}).empty() ? "" : ": " + str(b, {"message"})) + ")");
    }
  return out;
}

std::string render_campaign(const value& c, const Style& s) {
  std::ostringstream o;
  const std::string name = str(c, {"metadata", "name"});
  o << name << "  " << s.phase(str(c, {"status", "phase"})) << "  " << num(c, {"status", "nodes", "updated"}) << "/"
    << num(c, {"status", "nodes", "total"}) << " nodes on " << str(c, {"spec", "target", "version"});
  if (int64_t failed = num(c, {"status", "nodes", "failed"}); failed > 0) o << "  " << s.paint(std::to_string(failed) + " failed", "31");
  if (int64_t q = num(c, {"status", "nodes", "quarantined"}); q > 0) o << "  " << s.paint(std::to_string(q) + " quarantined", "33");
  const std::string eta = str(c, {"status", "estimatedCompletion"}), deadline = str(c, {"status", "deadline"});
  if (!eta.empty()) o << "  ETA " << eta;
  if (!deadline.empty()) o << "  deadline " << deadline;
  if (condition_true(c, "BehindDeadline")) o << "  " << s.paint("BEHIND DEADLINE", "31");
  o << "\n";
  if (const value* zones = at(c, {"status", "zones"}); zones && zones->is_array())
    for (const auto& z : zones->as_array()) {
      o << "  " << str(z, {"zone"}) << "  " << bar(num(z, {"updated"}), num(z, {"total"}));
      if (int64_t n = num(z, {"inProgress"}); n > 0) o << "  " << n << " in progress";
      if (int64_t n = num(z, {"failed"}); n > 0) o << "  " << s.paint(std::to_string(n) + " failed", "31");
      if (int64_t n = num(z, {"quarantined"}); n > 0) o << "  " << s.paint(std::to_string(n) + " quarantined", "33");
      if (const std::string st = str(z, {"state"}); st == "Blackout" || st == "OutsideSchedule") o << "  " << st;
      o << "\n";
    }
  for (const auto& w : waiting_for_campaign(c)) o << "  waiting for: " << w << "\n";
  if (auto sum = str(c, {"status", "summary"}); !sum.empty()) o << "  " << sum << "\n";
  return o.str();
}

std::string render_window(const value& w, const Style& s) {
  std::ostringstream o;
  std::string zones;
  if (const value* zs = at(w, {"spec", "zones"}); zs && zs->is_array())
    for (const auto& z : zs->as_array()) zones += (zones.empty() ? "" : ",") + (z.is_string() ? z.as_string() : "");
  o << str(w, {"metadata", "name"}) << "  " << s.phase(str(w, {"status", "phase"})) << "  zones " << zones;
  if (auto a = str(w, {"status", "windowStart"}); !a.empty()) o << "  window " << a << " to " << str(w, {"status", "windowEnd"});
  o << "\n";
  const int64_t total = num(w, {"status", "nodes", "total"});
  o << "  drained " << bar(num(w, {"status", "nodes", "drained"}), total) << "  cordoned " << num(w, {"status", "nodes", "cordoned"}) << "\n";
  if (int64_t blocked = num(w, {"status", "pods", "blocked"}); blocked > 0)
    o << "  waiting for: " << s.paint(std::to_string(blocked) + " pod(s) that cannot be evicted yet", "33") << "\n";
  if (const value* b = condition(w, "Blocked"); b && str(*b, {"status"}) == "True")
    o << "  waiting for: " << s.paint(str(*b, {"reason"}), "31") << ": " << str(*b, {"message"}) << "\n";
  if (auto sum = str(w, {"status", "summary"}); !sum.empty()) o << "  " << sum << "\n";
  return o.str();
}

std::vector<value> items(const std::string& list_body) {
  std::vector<value> out;
  const value list = value::parse(list_body);
  if (list.has_field("items"))
    for (const auto& i : list.at("items").as_array()) out.push_back(i);
  return out;
}

void emit_yaml(YAML::Emitter& e, const value& v) {
  if (v.is_object()) {
    e << YAML::BeginMap;
    for (const auto& [k, x] : v.as_object()) {
      e << YAML::Key << k << YAML::Value;
      emit_yaml(e, x);
    }
    e << YAML::EndMap;
  } else if (v.is_array()) {
    e << YAML::BeginSeq;
    for (const auto& x : v.as_array()) emit_yaml(e, x);
    e << YAML::EndSeq;
  } else if (v.is_string()) {
    e << YAML::DoubleQuoted << v.as_string();
  } else if (v.is_null()) {
    e << YAML::Null;
  } else {
    e << v.serialize();  // numbers and booleans as JSON writes them
  }
}

struct StatusFlags {
  KubeconfigFlags kube;
  std::string output = "table";
  bool watch = false;
  std::string interval = "2s";
};

int run_status(const StatusFlags& f) {
  auto config = kube::load_default_config({.kubeconfig_path = f.kube.kubeconfig, .context = f.kube.context});
  auto client = kube::make_rest_client(config, kube::real_clock());
  const Style style{.colour = isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR") && f.output == "table"};
  const auto every = std::chrono::milliseconds(static_cast<long>(positive_seconds("--interval", f.interval) * 1000));
  std::string last;
  while (true) {
    auto windows = client->list(kube::resources::maintenance_windows(), "");
    auto campaigns = client->list(kube::resources::patch_campaigns(), "");
    if (!windows.ok() || !campaigns.ok()) {
      const auto& e = !windows.ok() ? windows.error() : campaigns.error();
      std::fprintf(stderr, "nonevent status: %s%s\n", e.to_string().c_str(),
                   e.is_not_found() ? " (are nonevent's CRDs installed? helm install nonevent charts/nonevent)" : "");
      return 1;
    }
    std::string out;
    if (f.output == "table") {
      const auto ws = items(windows.value()), cs = items(campaigns.value());
      if (ws.empty() && cs.empty()) out = "No MaintenanceWindows or PatchCampaigns.\n";
      if (!ws.empty()) out += style.paint("MAINTENANCE WINDOWS", "1") + "\n";
      for (const auto& w : ws) out += render_window(w, style);
      if (!cs.empty()) out += (ws.empty() ? "" : "\n") + style.paint("PATCH CAMPAIGNS", "1") + "\n";
      for (const auto& c : cs) out += render_campaign(c, style);
    } else {
      value list = value::object();
      list["apiVersion"] = value::string("v1");
      list["kind"] = value::string("List");
      list["items"] = value::array();
      size_t i = 0;
      for (const auto* body : {&windows.value(), &campaigns.value()})
        for (auto& item : items(*body)) list["items"][i++] = item;
      if (f.output == "json") {
        out = list.serialize() + "\n";
      } else {
        YAML::Emitter e;
        emit_yaml(e, list);
        out = std::string(e.c_str()) + "\n";
      }
    }
    if (out != last) {
      if (f.watch && !last.empty()) std::fputs("\n", stdout);
      std::fputs(out.c_str(), stdout);
      std::fflush(stdout);
      last = out;
    }
    if (!f.watch) return 0;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace

void add_status(CLI::App& root, Run& run) {
  auto f = std::make_shared<StatusFlags>();
  auto* app = root.add_subcommand("status", "every MaintenanceWindow and PatchCampaign at a glance: phase, zones, what it waits for, ETA");
  add_kubeconfig_flags(*app, f->kube);
  app->add_option("-o,--output", f->output, "table, json or yaml")->check(CLI::IsMember({"table", "json", "yaml"}))->capture_default_str();
  app->add_flag("-w,--watch", f->watch, "keep watching: print again whenever something changed");
  app->add_option("--interval", f->interval, "how often -w looks (a duration)")->capture_default_str();
  app->callback([f, &run] { run = [f] { return run_status(*f); }; });
}

}  // namespace nonevent::cli
