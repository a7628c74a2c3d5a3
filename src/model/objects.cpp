#include "model/objects.h"

#include <algorithm>
#include <charconv>

namespace nonevent::model {

Uid Uid::from(std::string_view s) {
  Uid u;
  u.size = static_cast<uint8_t>(std::min(s.size(), u.bytes.size()));
  std::copy_n(s.begin(), u.size, u.bytes.begin());
  return u;
}

const Labels& ObjectMeta::label_set() const {
  static const Labels kEmpty;
  return labels ? *labels : kEmpty;
}

const OwnerRef* ObjectMeta::controller() const {
  for (const auto& o : owners)
    if (o.controller) return &o;
  return nullptr;
}

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& [k, v] : match_labels) {
    const IStr* have = find_label(labels, k);
    if (!have || !(*have == v)) return false;
  }
  for (const auto& r : match_expressions) {
    const IStr* have = find_label(labels, r.key);
    const bool in_values =
        have && std::any_of(r.values.begin(), r.values.end(), [&](const IStr& x) { return x == *have; });
    if (r.op == "In") {
      if (!in_values) return false;
    } else if (r.op == "NotIn") {
      if (in_values) return false;
    } else if (r.op == "Exists") {
      if (!have) return false;
    } else if (r.op == "DoesNotExist") {
      if (have) return false;
    } else {
      return false;  // unknown operator selects nothing, as the API server rejects it
    }
  }
  return true;
}

const std::string* Node::annotation(std::string_view key) const {
  for (const auto& [k, v] : annotations)
    if (k == key) return &v;
  return nullptr;
}

const char* to_string(WorkloadKind k) {
  switch (k) {
    case WorkloadKind::kDeployment: return "Deployment";
    case WorkloadKind::kReplicaSet: return "ReplicaSet";
    case WorkloadKind::kStatefulSet: return "StatefulSet";
    case WorkloadKind::kDaemonSet: return "DaemonSet";
    case WorkloadKind::kJob: return "Job";
    case WorkloadKind::kReplicationController: return "ReplicationController";
  }
  return "Unknown";
}

int64_t IntOrPercent::scaled(int64_t total, bool round_up) const {
  if (!is_percent) return value;
  const int64_t x = static_cast<int64_t>(value) * total;
  return round_up ? (x + 99) / 100 : x / 100;
}

std::optional<IntOrPercent> IntOrPercent::parse(std::string_view text) {
  IntOrPercent out;
  out.is_percent = !text.empty() && text.back() == '%';
  if (out.is_percent) text.remove_suffix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out.value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return out;
}

}  // namespace nonevent::model
