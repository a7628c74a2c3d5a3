#pragma once
// A small command-line parser for the nonevent subcommands: --flag value, --flag=value,
// short aliases, positionals; unknown flags are errors that name the flag.
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kube/clock.h"

namespace nonevent::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Flags {
 public:
  // `spec`: flag name → whether it takes a value; `aliases`: "-n" → "--namespace".
  Flags(std::vector<std::string> args, std::map<std::string, bool> spec,
        std::map<std::string, std::string> aliases = {}) {
    for (size_t i = 0; i < args.size(); ++i) {
      std::string a = args[i];
      if (a == "--") {
        positionals_.insert(positionals_.end(), args.begin() + static_cast<long>(i) + 1, args.end());
        break;
      }
      if (a.size() < 2 || a[0] != '-') {
        positionals_.push_back(a);
        continue;
      }
      std::string value;
      bool has_value = false;
      if (auto eq = a.find('='); eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_value = true;
      }
      if (auto al = aliases.find(a); al != aliases.end()) a = al->second;
      auto it = spec.find(a);
      if (it == spec.end()) throw UsageError("unknown flag " + a);
      if (it->second) {
        if (!has_value) {
          if (i + 1 >= args.size()) throw UsageError("flag " + a + " needs a value");
          value = args[++i];
        }
        values_[a] = value;
      } else {
        values_[a] = has_value ? value : "true";
      }
    }
  }
  std::string get(const std::string& name, const std::string& def = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
  }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
};

// --time-scale X [--time-epoch UNIX]: a clock running X times real time from a shared epoch,
// so `sim serve` and an operator rehearsing against it agree on the time. Real time when
// --time-scale is absent or 1.
std::shared_ptr<kube::Clock> clock_from_flags(const Flags& f);

}  // namespace nonevent::cli
