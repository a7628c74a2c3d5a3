#include "rehearse/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace nonevent::rehearse {

using web::json::value;

namespace {

// Charts show at most this many workloads and bars: the ones that moved first.
constexpr size_t kMaxCharts = 40;
constexpr size_t kMaxBars = 60;
const char* const kColours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string text(const value& v, const char* k) { return v.has_field(k) && v.at(k).is_string() ? v.at(k).as_string() : ""; }
double num(const value& v, const char* k) { return v.has_field(k) && v.at(k).is_number() ? v.at(k).as_double() : 0; }

std::string fmt(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", x);
  return b;
}

std::string clock_text(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "+%d:%02d", static_cast<int>(s) / 3600, (static_cast<int>(s) / 60) % 60);
  return b;
}

struct Frame {
  double w = 640, h = 150, left = 40, right = 10, top = 10, bottom = 22;
  double t_end = 1, y_max = 1;
  double x(double t) const { return left + (w - left - right) * std::min(t, t_end) / t_end; }
  double y(double v) const { return top + (h - top - bottom) * (1 - v / y_max); }
  std::string axes() const {
    std::ostringstream o;
    o << "<line x1='" << left << "' y1='" << y(0) << "' x2='" << w - right << "' y2='" << y(0) << "' stroke='#999'/>";
    o << "<line x1='" << left << "' y1='" << top << "' x2='" << left << "' y2='" << y(0) << "' stroke='#999'/>";
    for (int i = 0; i <= 4; ++i) {
      const double t = t_end * i / 4;
      o << "<text x='" << fmt(x(t)) << "' y='" << h - 6 << "' font-size='10' text-anchor='middle'>" << clock_text(t) << "</text>";
    }
    o << "<text x='" << left - 4 << "' y='" << fmt(y(y_max) + 4) << "' font-size='10' text-anchor='end'>" << fmt(y_max) << "</text>";
    o << "<text x='" << left - 4 << "' y='" << fmt(y(0)) << "' font-size='10' text-anchor='end'>0</text>";
    return o.str();
  }
};

// A step line per key of the points' maps ("ready" per zone, or node states).
std::string step_chart(const std::vector<std::pair<double, std::map<std::string, double>>>& pts, const std::vector<std::string>& keys,
                       double t_end, const std::string& title) {
  Frame f;
  f.t_end = std::max(t_end, 1.0);
  for (const auto& [t, m] : pts)
    for (const auto& [k, v] : m) f.y_max = std::max(f.y_max, v);
  std::ostringstream o;
  o << "<figure><figcaption>" << esc(title) << "</figcaption><svg width='" << f.w << "' height='" << f.h << "' role='img'>" << f.axes();
  for (size_t i = 0; i < keys.size(); ++i) {
    std::ostringstream path;
    double last_y = -1;
    for (size_t p = 0; p < pts.size(); ++p) {
      const auto& m = pts[p].second;
      const double v = m.count(keys[i]) ? m.at(keys[i]) : 0;
      const double x = f.x(pts[p].first), y = f.y(v);
      if (p == 0) path << "M" << fmt(x) << "," << fmt(y);
      else path << " H" << fmt(x) << " V" << fmt(y);
      last_y = y;
    }
    if (!pts.empty()) path << " H" << fmt(f.x(f.t_end)) << " V" << fmt(last_y);
    o << "<path d='" << path.str() << "' fill='none' stroke='" << kColours[i % 8] << "' stroke-width='2'/>";
  }
  o << "</svg><div class='legend'>";
  for (size_t i = 0; i < keys.size(); ++i) o << "<span style='color:" << kColours[i % 8] << "'>&#9632; " << esc(keys[i]) << "</span> ";
  o << "</div></figure>";
  return o.str();
}

std::string bars(const std::vector<std::tuple<std::string, double, double, std::string>>& rows, double t_end, const std::string& title) {
  Frame f;
  f.t_end = std::max(t_end, 1.0);
  f.left = 200;
  const double row_h = 14;
  f.h = f.top + f.bottom + row_h * static_cast<double>(rows.size());
  std::ostringstream o;
  o << "<figure><figcaption>" << esc(title) << "</figcaption><svg width='" << f.w << "' height='" << f.h << "' role='img'>";
  for (int i = 0; i <= 4; ++i) {
    const double t = f.t_end * i / 4;
    o << "<text x='" << fmt(f.x(t)) << "' y='" << f.h - 6 << "' font-size='10' text-anchor='middle'>" << clock_text(t) << "</text>";
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& [label, from, to, colour] = rows[r];
    const double y = f.top + row_h * static_cast<double>(r);
    o << "<text x='" << f.left - 4 << "' y='" << fmt(y + 10) << "' font-size='10' text-anchor='end'>" << esc(label) << "</text>";
    o << "<rect x='" << fmt(f.x(from)) << "' y='" << fmt(y + 2) << "' width='" << fmt(std::max(1.0, f.x(to) - f.x(from))) << "' height='"
      << row_h - 4 << "' fill='" << colour << "'><title>" << esc(label) << ": " << clock_text(from) << " to " << clock_text(to)
      << "</title></rect>";
  }
  o << "</svg></figure>";
  return o.str();
}

}  // namespace

std::string report_html(const value& t) {
  const double t_end = num(t, "durationSeconds");
  std::ostringstream o;
  const std::string title = "nonevent rehearse: " + text(t, "kind") + " " + text(t, "name");
  o << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" << esc(title) << "</title><style>"
    << "body{font-family:sans-serif;margin:2em;max-width:1400px}figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}"
    << "figcaption{font-size:12px;font-weight:bold}.legend{font-size:11px}.bad{color:#b00}.ok{color:#080}td,th{font-size:12px;padding:2px 8px;text-align:left}"
    << "</style></head><body><h1>" << esc(title) << "</h1>";
  const value problems = t.has_field("problems") ? t.at("problems") : value::array();
  o << "<p>" << esc(text(t, "start")) << " to " << esc(text(t, "end")) << " (" << clock_text(t_end) << " of virtual time), ended "
    << esc(text(t, "phase")) << ": "
    << (problems.size() == 0 ? "<b class='ok'>nothing would block, stay Pending or drop below its budget</b>"
                             : "<b class='bad'>" + std::to_string(problems.size()) + " problem(s)</b>")
    << "</p>";
  if (problems.size() > 0) {
    o << "<ul class='bad'>";
    for (const auto& p : problems.as_array()) o << "<li>" << esc(p.as_string()) << "</li>";
    o << "</ul>";
  }
  if (t.has_field("warnings") && t.at("warnings").size() > 0) {
    o << "<h2>What the snapshot lacks</h2><ul>";
    for (const auto& w : t.at("warnings").as_array()) o << "<li>" << esc(w.as_string()) << "</li>";
    o << "</ul>";
  }
  o << "<h2>Timeline</h2><table><tr><th>time</th><th>phase</th></tr>";
  if (t.has_field("phases"))
    for (const auto& p : t.at("phases").as_array()) o << "<tr><td>" << clock_text(num(p, "at")) << "</td><td>" << esc(text(p, "phase")) << "</td></tr>";
  if (t.has_field("zones"))
    for (const auto& z : t.at("zones").as_array()) {
      if (z.has_field("cordonedAt")) o << "<tr><td>" << clock_text(num(z, "cordonedAt")) << "</td><td>zone " << esc(text(z, "zone")) << " cordoned</td></tr>";
      if (z.has_field("emptyAt")) o << "<tr><td>" << clock_text(num(z, "emptyAt")) << "</td><td>zone " << esc(text(z, "zone")) << " empty</td></tr>";
    }
  o << "</table>";

  // Workloads whose spread moved, most moved first.
  std::vector<const value*> moved;
  if (t.has_field("workloads"))
    for (const auto& w : t.at("workloads").as_array())
      if (w.at("series").size() > 1) moved.push_back(&w);
  std::stable_sort(moved.begin(), moved.end(), [](const value* a, const value* b) { return a->at("series").size() > b->at("series").size(); });
  o << "<h2>Ready replicas per zone</h2>";
  if (moved.empty()) o << "<p>No workload's Ready replicas changed.</p>";
  for (size_t i = 0; i < moved.size() && i < kMaxCharts; ++i) {
    const value& w = *moved[i];
    std::vector<std::pair<double, std::map<std::string, double>>> pts;
    std::set<std::string> zones;
    for (const auto& p : w.at("series").as_array()) {
      std::map<std::string, double> m;
      for (const auto& [z, v] : p.at("ready").as_object()) {
        m[z] = v.as_double();
        zones.insert(z);
      }
      pts.emplace_back(num(p, "at"), m);
    }
    o << step_chart(pts, {zones.begin(), zones.end()}, t_end,
                    text(w, "workload") + ": min Ready " + fmt(num(w, "minReady")) + " of " + fmt(num(w, "readyAtStart")) + " at " +
                        clock_text(num(w, "minReadyAt")) + ", max skew " + fmt(num(w, "maxSkew")));
  }
  if (moved.size() > kMaxCharts) o << "<p>" << moved.size() - kMaxCharts << " more workloads moved (in the JSON).</p>";

  o << "<h2>Nodes</h2>";
  std::vector<std::pair<double, std::map<std::string, double>>> nodes;
  if (t.has_field("nodeStates"))
    for (const auto& p : t.at("nodeStates").as_array()) {
      std::map<std::string, double> m;
      for (const char* k : {"Ready", "Cordoned", "NotReady"}) m[k] = num(p, k);
      nodes.emplace_back(num(p, "at"), m);
    }
  o << step_chart(nodes, {"Ready", "Cordoned", "NotReady"}, t_end, "nodes per state");

  auto interval_rows = [&](const char* key, const char* label_key, const char* colour) {
    std::vector<std::tuple<std::string, double, double, std::string>> rows;
    if (t.has_field(key))
      for (const auto& i : t.at(key).as_array()) {
        if (rows.size() >= kMaxBars) break;
        rows.emplace_back(text(i, label_key), num(i, "from"), i.has_field("to") ? num(i, "to") : t_end, colour);
      }
    return rows;
  };
  if (auto rows = interval_rows("pdbWaits", "pdb", "#e6a23c"); !rows.empty()) o << "<h2>PodDisruptionBudget waits</h2>" << bars(rows, t_end, "a disruption in flight and none allowed");
  if (auto rows = interval_rows("pending", "pod", "#d62728"); !rows.empty()) o << "<h2>Pending pods</h2>" << bars(rows, t_end, "from creation until scheduled");
  if (t.has_field("batches") && t.at("batches").size() > 0) {
    std::vector<std::tuple<std::string, double, double, std::string>> rows;
    for (const auto& b : t.at("batches").as_array()) {
      if (rows.size() >= kMaxBars) break;
      const std::string label = text(b, "zone") + " (" + std::to_string(b.at("nodes").size()) + " node" + (b.at("nodes").size() == 1 ? "" : "s") +
                                (b.has_field("canary") && b.at("canary").as_bool() ? ", canary" : "") + ")";
      rows.emplace_back(label, num(b, "start"), b.has_field("end") ? num(b, "end") : t_end, "#1f77b4");
    }
    o << "<h2>Batches</h2>" << bars(rows, t_end, "claim to release, per batch");
  }
  o << "</body></html>\n";
  return o.str();
}

}  // namespace nonevent::rehearse
