#include "sim/faults.h"

namespace nonevent::sim {

std::optional<FaultRule> parse_fault_rule(const std::string& text, std::string& error) {
  FaultRule r;
  size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const auto kv = text.substr(start, comma - start);
    const auto eq = kv.find('=');
    if (eq == std::string::npos) {
      error = "fault \"" + text + "\": expected key=value, got \"" + kv + "\"";
      return std::nullopt;
    }
    const auto k = kv.substr(0, eq), v = kv.substr(eq + 1);
    try {
      if (k == "verb") r.verb = v;
      else if (k == "resource") r.resource = v;
      else if (k == "code") {
        r.code = std::stoi(v);
        if (r.code != 500 && r.code != 503 && r.code != 429 && r.code != 409) {
          error = "fault \"" + text + "\": code must be 500, 503, 429 or 409";
          return std::nullopt;
        }
      } else if (k == "rate") {
        r.rate = std::stod(v);
        if (r.rate < 0 || r.rate > 1) {
          error = "fault \"" + text + "\": rate must be between 0 and 1";
          return std::nullopt;
        }
      } else if (k == "latency") {
        std::string num = v;
        if (num.size() > 2 && num.substr(num.size() - 2) == "ms") num = num.substr(0, num.size() - 2);
        r.latency = std::chrono::milliseconds(std::stol(num));
      } else {
        error = "fault \"" + text + "\": unknown key \"" + k + "\" (verb, resource, code, rate, latency)";
        return std::nullopt;
      }
    } catch (const std::exception&) {
      error = "fault \"" + text + "\": \"" + v + "\" is not a valid " + k;
      return std::nullopt;
    }
    start = comma + 1;
  }
  return r;
}

void FaultInjector::set_rules(std::vector<FaultRule> rules) {
  std::lock_guard g(mu_);
  rules_ = std::move(rules);
}

std::vector<FaultRule> FaultInjector::rules() const {
  std::lock_guard g(mu_);
  return rules_;
}

long FaultInjector::injected() const {
  std::lock_guard g(mu_);
  return injected_;
}

FaultInjector::Decision FaultInjector::decide(const std::string& verb, const std::string& resource) {
  std::lock_guard g(mu_);
  Decision d;
  for (const auto& r : rules_) {
    if (r.verb != "*" && r.verb != verb) continue;
    if (r.resource != "*" && r.resource != resource) continue;
    d.latency = std::max(d.latency, r.latency);
    if (d.code == 0 && r.rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < r.rate) {
      // 409 only makes sense for writes.
      if (r.code == 409 && (verb == "get" || verb == "list" || verb == "watch")) continue;
      d.code = r.code;
      ++injected_;
    }
  }
  return d;
}

}  // namespace nonevent::sim
