#include "model/codecs_protobuf.h"

#include <cpprest/json.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/interned.h"
#include "model/protobuf_wire.h"
#include "model/quantity.h"

namespace nonevent::model {

using kube::ApiError;
using kube::ListPage;
using kube::Result;
using kube::WatchEvent;
using kube::WatchEventType;
using pb::kLen;
using pb::kVarint;
using pb::Reader;

namespace {

constexpr std::string_view kMagic("k8s\0", 4);

// Field numbers of the 1.32 generated.proto files (third_party/k8s-proto), by message.
namespace f {
// runtime.Unknown, meta/v1 WatchEvent, runtime.RawExtension, ListMeta, PodList
constexpr uint32_t kUnknownRaw = 2, kEventType = 1, kEventObject = 2, kRawExtensionRaw = 1;
constexpr uint32_t kListMeta = 1, kListItems = 2, kListMetaResourceVersion = 2, kListMetaContinue = 3;
// meta/v1 Status (an ERROR event's object)
constexpr uint32_t kStatusStatus = 2, kStatusMessage = 3, kStatusReason = 4, kStatusCode = 6;
// Pod
constexpr uint32_t kPodMeta = 1, kPodSpec = 2, kPodStatus = 3;
// ObjectMeta, OwnerReference, Time, map entries
constexpr uint32_t kName = 1, kNamespace = 3, kUid = 5, kResourceVersion = 6, kGeneration = 7,
                   kCreated = 8, kDeleted = 9, kLabels = 11, kAnnotations = 12, kOwners = 13, kFinalizers = 14;
constexpr uint32_t kOwnerKind = 1, kOwnerName = 3, kOwnerUid = 4, kOwnerApiVersion = 5, kOwnerController = 6;
constexpr uint32_t kTimeSeconds = 1, kEntryKey = 1, kEntryValue = 2, kQuantityString = 1;
// PodSpec
constexpr uint32_t kVolumes = 1, kContainers = 2, kRestartPolicy = 3, kGrace = 4, kNodeSelector = 7,
                   kNodeName = 10, kHostname = 16, kSubdomain = 17, kAffinity = 18, kSchedulerName = 19,
                   kInitContainers = 20, kTolerations = 22, kPriorityClassName = 24, kPriority = 25,
                   kOverhead = 32, kSpread = 33;
constexpr uint32_t kContainerName = 1, kContainerImage = 2, kContainerResources = 8;
constexpr uint32_t kLimits = 1, kRequests = 2;
constexpr uint32_t kTolKey = 1, kTolOperator = 2, kTolValue = 3, kTolEffect = 4, kTolSeconds = 5;
constexpr uint32_t kNodeAffinity = 1, kPodAntiAffinity = 3, kRequiredTerms = 1, kNodeSelectorTerms = 1;
constexpr uint32_t kMatchExpressions = 1, kMatchFields = 2, kReqKey = 1, kReqOperator = 2, kReqValues = 3;
constexpr uint32_t kSelMatchLabels = 1, kSelMatchExpressions = 2;
constexpr uint32_t kSpreadMaxSkew = 1, kSpreadTopologyKey = 2, kSpreadWhen = 3, kSpreadSelector = 4,
                   kSpreadMinDomains = 5, kSpreadNodeAffinityPolicy = 6, kSpreadNodeTaintsPolicy = 7,
                   kSpreadMatchLabelKeys = 8;
constexpr uint32_t kVolumeSource = 2, kHostPath = 1, kEmptyDir = 2, kPersistentVolumeClaim = 10, kClaimName = 1;
// PodStatus, PodCondition
constexpr uint32_t kPhase = 1, kConditions = 2, kCondType = 1, kCondStatus = 2, kCondTransition = 4, kCondReason = 5;
}  // namespace f

ApiError malformed(std::string_view what) { return ApiError::transport("cannot decode protobuf " + std::string(what)); }

// The message inside "k8s\0" + runtime.Unknown; empty view when the body is not one.
bool unwrap(std::string_view body, std::string_view& message) {
  if (!is_protobuf_body(body)) return false;
  Reader r(body.substr(kMagic.size()));
  message = {};
  while (r.next())
    if (r.is(f::kUnknownRaw, kLen)) message = r.bytes();
  return !r.failed();
}

// A map<string, V> entry: its key and its value's bytes.
bool map_entry(std::string_view entry, std::string_view& key, std::string_view& value) {
  Reader r(entry);
  key = value = {};
  while (r.next()) {
    if (r.is(f::kEntryKey, kLen)) key = r.bytes();
    else if (r.is(f::kEntryValue, kLen)) value = r.bytes();
  }
  return !r.failed();
}

std::string_view quantity_string(std::string_view quantity) {
  Reader r(quantity);
  std::string_view s;
  while (r.next())
    if (r.is(f::kQuantityString, kLen)) s = r.bytes();
  return s;
}

// A meta/v1 Time; nullopt when malformed or outside 1678-2261: a TimePoint counts nanoseconds
// in 64 bits, and the JSON reading (kube::parse_rfc3339) refuses the same years.
std::optional<TimePoint> time_of(std::string_view t) {
  Reader r(t);
  int64_t seconds = 0;
  while (r.next())
    if (r.is(f::kTimeSeconds, kVarint)) seconds = r.ivalue();
  constexpr int64_t k1678 = -9214560000, k2262 = 9214646400;  // 1678-01-01, 2262-01-01 (UTC)
  if (r.failed() || seconds < k1678 || seconds >= k2262) return std::nullopt;
  // JSON carries whole seconds (RFC 3339 without a fraction); so does the model either way.
  return TimePoint{std::chrono::seconds(seconds)};
}

Labels string_map(const std::vector<std::string_view>& entries) {
  Labels out;
  out.reserve(entries.size());
  for (auto e : entries) {
    std::string_view k, v;
    map_entry(e, k, v);
    out.emplace_back(IStr(k), IStr(v));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// The bytes of one repeated field's occurrences: one view when they lie side by side (as
// every encoder writes them), else their concatenation in `scratch`.
class Run {
 public:
  void add(std::string_view whole_field) {
    if (split_) scratch_.append(whole_field);
    else if (view_.empty()) view_ = whole_field;
    else if (view_.data() + view_.size() == whole_field.data()) view_ = {view_.data(), view_.size() + whole_field.size()};
    else {
      scratch_.assign(view_);
      scratch_.append(whole_field);
      split_ = true;
    }
  }
  std::string_view bytes() const { return split_ ? std::string_view(scratch_) : view_; }
  bool empty() const { return bytes().empty(); }

 private:
  std::string_view view_;
  std::string scratch_;
  bool split_ = false;
};

SharedPool<Labels>& label_pool() {
  static SharedPool<Labels> p;
  return p;
}
SharedPool<VolumeInfo>& volume_pool() {
  static SharedPool<VolumeInfo> p;
  return p;
}

// Labels shared between pods with the same ones, keyed by their encoded entries.
std::shared_ptr<const Labels> pooled_labels(std::string_view encoded_entries) {
  return label_pool().get(encoded_entries, [&] {
    std::vector<std::string_view> entries;
    Reader r(encoded_entries);
    while (r.next())
      if (r.is(f::kLabels, kLen)) entries.push_back(r.bytes());
    return string_map(entries);
  });
}

template <class OnAnnotation>
bool parse_meta(std::string_view msg, ObjectMeta& m, OnAnnotation&& on_annotation) {
  Reader r(msg);
  Run labels;
  while (r.next()) {
    switch (r.field()) {
      case f::kName: m.name = std::string(r.bytes()); break;
      case f::kNamespace: m.namespace_ = IStr(r.bytes()); break;
      case f::kUid: m.uid = Uid::from(r.bytes()); break;
      case f::kResourceVersion: m.resource_version = std::string(r.bytes()); break;
      case f::kGeneration: m.generation = r.ivalue(); break;
      case f::kCreated: {
        auto t = time_of(r.bytes());
        if (!t) return false;
        m.created = *t;
        break;
      }
      case f::kDeleted:
        m.deleted = time_of(r.bytes());
        if (!m.deleted) return false;
        break;
      case f::kLabels: labels.add(r.whole_field()); break;
      case f::kAnnotations: {
        std::string_view k, v;
        if (!map_entry(r.bytes(), k, v)) return false;
        on_annotation(k, v);
        break;
      }
      case f::kOwners: {
        OwnerRef o;
        Reader orr(r.bytes());
        while (orr.next()) {
          switch (orr.field()) {
            case f::kOwnerKind: o.kind = IStr(orr.bytes()); break;
            case f::kOwnerName: o.name = IStr(orr.bytes()); break;
            case f::kOwnerUid: o.uid = Uid::from(orr.bytes()); break;
            case f::kOwnerApiVersion: o.api_version = IStr(orr.bytes()); break;
            case f::kOwnerController: o.controller = orr.uvalue() != 0; break;
            default: break;
          }
        }
        if (orr.failed()) return false;
        m.owners.push_back(std::move(o));
        break;
      }
      case f::kFinalizers: m.finalizers.emplace_back(r.bytes()); break;
      default: break;
    }
  }
  if (!labels.empty()) m.labels = pooled_labels(labels.bytes());
  return !r.failed();
}

// ---------- the pod template (pooled) ----------
struct Requests {
  int64_t cpu = 0, mem = 0;
};

Requests resources(std::string_view msg) {
  Requests req, lim;
  bool has_req_cpu = false, has_req_mem = false;
  Reader r(msg);
  while (r.next()) {
    if (r.wire() != kLen || (r.field() != f::kRequests && r.field() != f::kLimits)) continue;
    const bool is_req = r.field() == f::kRequests;
    std::string_view k, v;
    map_entry(r.bytes(), k, v);
    const std::string_view q = quantity_string(v);
    Requests& into = is_req ? req : lim;
    if (k == "cpu") {
      into.cpu = parse_quantity_milli(q).value_or(0);
      has_req_cpu |= is_req;
    } else if (k == "memory") {
      into.mem = parse_quantity(q).value_or(0);
      has_req_mem |= is_req;
    }
  }
  // The API server defaults requests to limits when only limits are set.
  if (!has_req_cpu) req.cpu = lim.cpu;
  if (!has_req_mem) req.mem = lim.mem;
  return req;
}

Requests container(std::string_view msg, std::vector<std::pair<std::string, std::string>>* images) {
  Requests req;
  if (images) images->emplace_back();
  Reader r(msg);
  while (r.next()) {
    if (images && r.is(f::kContainerName, kLen)) images->back().first = std::string(r.bytes());
    else if (images && r.is(f::kContainerImage, kLen)) images->back().second = std::string(r.bytes());
    else if (r.is(f::kContainerResources, kLen)) req = resources(r.bytes());
  }
  return req;
}

LabelSelectorRequirement requirement(std::string_view msg) {
  LabelSelectorRequirement q;
  Reader r(msg);
  while (r.next()) {
    if (r.is(f::kReqKey, kLen)) q.key = IStr(r.bytes());
    else if (r.is(f::kReqOperator, kLen)) q.op = IStr(r.bytes());
    else if (r.is(f::kReqValues, kLen)) q.values.emplace_back(r.bytes());
  }
  return q;
}

LabelSelector selector(std::string_view msg) {
  LabelSelector s;
  std::vector<std::string_view> labels;
  Reader r(msg);
  while (r.next()) {
    if (r.is(f::kSelMatchLabels, kLen)) labels.push_back(r.bytes());
    else if (r.is(f::kSelMatchExpressions, kLen)) s.match_expressions.push_back(requirement(r.bytes()));
  }
  s.match_labels = string_map(labels);
  return s;
}

void affinity(std::string_view msg, PodTemplateInfo& t) {
  Reader r(msg);
  while (r.next()) {
    if (r.is(f::kPodAntiAffinity, kLen)) t.has_pod_anti_affinity = true;
    if (!r.is(f::kNodeAffinity, kLen)) continue;
    Reader na(r.bytes());
    while (na.next()) {
      if (!na.is(f::kRequiredTerms, kLen)) continue;
      Reader sel(na.bytes());
      while (sel.next()) {
        if (!sel.is(f::kNodeSelectorTerms, kLen)) continue;
        NodeSelectorTerm term;
        Reader tr(sel.bytes());
        while (tr.next()) {
          if (tr.is(f::kMatchExpressions, kLen)) term.match_expressions.push_back(requirement(tr.bytes()));
          else if (tr.is(f::kMatchFields, kLen)) term.match_fields.push_back(requirement(tr.bytes()));
        }
        t.required_node_affinity.push_back(std::move(term));
      }
    }
  }
}

TopologySpreadConstraint spread(std::string_view msg) {
  TopologySpreadConstraint c;
  Reader r(msg);
  while (r.next()) {
    switch (r.field()) {
      case f::kSpreadMaxSkew: c.max_skew = static_cast<int32_t>(r.ivalue()); break;
      case f::kSpreadTopologyKey: c.topology_key = IStr(r.bytes()); break;
      case f::kSpreadWhen: c.do_not_schedule = r.bytes() != "ScheduleAnyway"; break;
      case f::kSpreadSelector: c.selector = selector(r.bytes()); break;
      case f::kSpreadMinDomains: c.min_domains = static_cast<int32_t>(r.ivalue()); break;
      case f::kSpreadNodeAffinityPolicy: c.honor_node_affinity = r.bytes() != "Ignore"; break;
      case f::kSpreadNodeTaintsPolicy: c.honor_node_taints = r.bytes() == "Honor"; break;
      case f::kSpreadMatchLabelKeys: c.match_label_keys.emplace_back(r.bytes()); break;
      default: break;
    }
  }
  return c;
}

Toleration toleration(std::string_view msg) {
  Toleration t;
  Reader r(msg);
  while (r.next()) {
    switch (r.field()) {
      case f::kTolKey: t.key = IStr(r.bytes()); break;
      case f::kTolOperator: t.op = IStr(r.bytes()); break;
      case f::kTolValue: t.value = IStr(r.bytes()); break;
      case f::kTolEffect: t.effect = IStr(r.bytes()); break;
      case f::kTolSeconds: t.seconds = r.ivalue(); break;
      default: break;
    }
  }
  return t;
}

// `spec` holds the template-relevant fields of a PodSpec (everything but the per-pod ones).
PodTemplateInfo parse_template(std::string_view spec) {
  PodTemplateInfo t;
  Requests containers, init, overhead;
  std::vector<std::string_view> node_selector;
  Reader r(spec);
  while (r.next()) {
    switch (r.field()) {
      case f::kContainers: {
        auto c = container(r.bytes(), &t.containers);
        containers.cpu += c.cpu;
        containers.mem += c.mem;
        break;
      }
      case f::kInitContainers: {
        auto c = container(r.bytes(), nullptr);
        init.cpu = std::max(init.cpu, c.cpu);
        init.mem = std::max(init.mem, c.mem);
        break;
      }
      case f::kOverhead: {
        std::string_view k, v;
        map_entry(r.bytes(), k, v);
        if (k == "cpu") overhead.cpu = parse_quantity_milli(quantity_string(v)).value_or(0);
        else if (k == "memory") overhead.mem = parse_quantity(quantity_string(v)).value_or(0);
        break;
      }
      case f::kNodeSelector: node_selector.push_back(r.bytes()); break;
      case f::kTolerations: t.tolerations.push_back(toleration(r.bytes())); break;
      case f::kAffinity: affinity(r.bytes(), t); break;
      case f::kSpread: t.spread.push_back(spread(r.bytes())); break;
      case f::kPriority: t.priority = static_cast<int32_t>(r.ivalue()); break;
      case f::kPriorityClassName: t.priority_class = IStr(r.bytes()); break;
      case f::kSchedulerName: t.scheduler_name = IStr(r.bytes()); break;
      case f::kGrace: t.termination_grace_seconds = r.ivalue(); break;
      // Go writes an unset string as empty; the JSON leaves it out (the default, Always).
      case f::kRestartPolicy: if (!r.bytes().empty()) t.restart_always = r.bytes() == "Always"; break;
      default: break;
    }
  }
  t.node_selector = string_map(node_selector);
  t.cpu_milli = std::max(containers.cpu, init.cpu) + overhead.cpu;
  t.memory_bytes = std::max(containers.mem, init.mem) + overhead.mem;
  return t;
}

// Pod templates deduplicated by content: the spec's fields but the per-pod ones, as they lie
// in the message, hashed where they lie and compared run by run; a template not seen before
// is parsed from their concatenation (itself a PodSpec message).
class TemplatePool {
 public:
  std::shared_ptr<const PodTemplateInfo> get(const std::vector<std::string_view>& runs) {
    PieceHasher h;
    for (auto run : runs) h.add(run);
    const uint64_t hash = h.value();
    std::lock_guard g(mu_);
    auto& bucket = map_[hash];
    for (auto it = bucket.begin(); it != bucket.end();) {
      auto sp = it->second.lock();
      if (!sp) {
        it = bucket.erase(it);
        continue;
      }
      if (equal(it->first, runs)) return sp;
      ++it;
    }
    std::string key;
    for (auto run : runs) key.append(run);
    auto sp = std::make_shared<const PodTemplateInfo>(parse_template(key));
    bucket.emplace_back(std::move(key), sp);
    if (++inserts_ % 4096 == 0) prune();
    return sp;
  }

 private:
  static bool equal(std::string_view stored, const std::vector<std::string_view>& runs) {
    for (auto run : runs) {
      if (stored.substr(0, run.size()) != run) return false;
      stored.remove_prefix(run.size());
    }
    return stored.empty();
  }
  void prune() {
    for (auto it = map_.begin(); it != map_.end();) {
      auto& b = it->second;
      b.erase(std::remove_if(b.begin(), b.end(), [](auto& e) { return e.second.expired(); }), b.end());
      it = b.empty() ? map_.erase(it) : std::next(it);
    }
  }
  std::mutex mu_;
  std::unordered_map<uint64_t, std::vector<std::pair<std::string, std::weak_ptr<const PodTemplateInfo>>>> map_;
  size_t inserts_ = 0;
};

TemplatePool& template_pool() {
  static TemplatePool p;
  return p;
}

// Whether one Volume's source is a kind the drain cares about.
bool volume_of_note(std::string_view volume) {
  Reader r(volume);
  while (r.next()) {
    if (!r.is(f::kVolumeSource, kLen)) continue;
    Reader s(r.bytes());
    while (s.next())
      if (s.field() == f::kHostPath || s.field() == f::kEmptyDir || s.field() == f::kPersistentVolumeClaim) return true;
  }
  return false;
}

VolumeInfo parse_volumes(std::string_view encoded_volumes) {
  VolumeInfo vi;
  Reader r(encoded_volumes);
  while (r.next()) {
    if (!r.is(f::kVolumes, kLen)) continue;
    Reader v(r.bytes());
    while (v.next()) {
      if (!v.is(f::kVolumeSource, kLen)) continue;
      Reader s(v.bytes());
      while (s.next()) {
        if (s.field() == f::kEmptyDir) vi.has_empty_dir = true;
        else if (s.field() == f::kHostPath) vi.has_host_path = true;
        else if (s.is(f::kPersistentVolumeClaim, kLen)) {
          Reader c(s.bytes());
          while (c.next())
            if (c.is(f::kClaimName, kLen)) vi.claims.emplace_back(c.bytes());
        }
      }
    }
  }
  return vi;
}

bool parse_spec(std::string_view msg, Pod& p) {
  thread_local std::vector<std::string_view> runs;
  runs.clear();
  Run volumes;
  bool volumes_of_note = false;
  const char* run_start = msg.data();
  Reader r(msg);
  auto close_run = [&](const char* end) {
    if (end > run_start) runs.emplace_back(run_start, static_cast<size_t>(end - run_start));
  };
  while (true) {
    const char* field_start = r.position();
    if (!r.next()) {
      close_run(field_start);
      break;
    }
    const uint32_t k = r.field();
    if (k != f::kNodeName && k != f::kHostname && k != f::kSubdomain && k != f::kVolumes) continue;
    close_run(field_start);
    run_start = r.position();
    if (k == f::kNodeName) p.node_name = IStr(r.bytes());
    else if (k == f::kVolumes) {
      volumes.add(r.whole_field());
      volumes_of_note = volumes_of_note || volume_of_note(r.bytes());
    }
  }
  if (r.failed()) return false;
  // Most pods only mount configMaps, secrets and projected tokens: nothing the drain cares
  // about, and nothing worth keeping.
  if (volumes_of_note) p.volumes = volume_pool().get(volumes.bytes(), [&] { return parse_volumes(volumes.bytes()); });
  p.spec = template_pool().get(runs);
  return true;
}

bool parse_status(std::string_view msg, Pod& p) {
  Reader r(msg);
  while (r.next()) {
    if (r.is(f::kPhase, kLen)) {
      const auto ph = r.bytes();
      p.phase = ph == "Running"     ? PodPhase::kRunning
                : ph == "Succeeded" ? PodPhase::kSucceeded
                : ph == "Failed"    ? PodPhase::kFailed
                : ph == "Pending"   ? PodPhase::kPending
                                    : PodPhase::kUnknown;
    } else if (r.is(f::kConditions, kLen)) {
      std::string_view type, status, reason;
      std::optional<TimePoint> since;
      Reader c(r.bytes());
      while (c.next()) {
        if (c.is(f::kCondType, kLen)) type = c.bytes();
        else if (c.is(f::kCondStatus, kLen)) status = c.bytes();
        else if (c.is(f::kCondReason, kLen)) reason = c.bytes();
        else if (c.is(f::kCondTransition, kLen)) {
          since = time_of(c.bytes());
          if (!since) return false;
        }
      }
      if (c.failed()) return false;
      if (type == "Ready") {
        p.ready = status == "True";
        if (p.ready) p.ready_since = since;
      } else if (type == "PodScheduled") {
        p.unschedulable = status == "False" && reason == "Unschedulable";
      }
    }
  }
  return !r.failed();
}

// A Pod message (no envelope) into the model; null when it is malformed.
std::shared_ptr<Pod> decode_pod_message(std::string_view msg) {
  auto p = std::make_shared<Pod>();
  Reader r(msg);
  bool ok = true;
  while (ok && r.next()) {
    if (r.is(f::kPodMeta, kLen)) {
      ok = parse_meta(r.bytes(), p->meta, [&](std::string_view ak, std::string_view av) {
        if (ak == "kubernetes.io/config.mirror") p->mirror = true;
        else if (ak == "controller.kubernetes.io/pod-deletion-cost")
          p->deletion_cost = static_cast<int32_t>(std::strtol(std::string(av).c_str(), nullptr, 10));
        else if (ak.rfind("nonevent.dev/", 0) == 0) {
          if (ak == "nonevent.dev/do-not-evict") p->do_not_evict = av == "true";
          p->nonevent_annotations.emplace_back(IStr(ak), std::string(av));
        }
      });
    } else if (r.is(f::kPodSpec, kLen)) {
      ok = parse_spec(r.bytes(), *p);
    } else if (r.is(f::kPodStatus, kLen)) {
      ok = parse_status(r.bytes(), *p);
    }
  }
  if (!ok || r.failed()) return nullptr;
  if (!p->spec) p->spec = template_pool().get({});
  return p;
}

// An ERROR event's Status, as the JSON ApiError reads.
ApiError status_error(std::string_view status_msg) {
  web::json::value s = web::json::value::object();
  s["kind"] = web::json::value::string("Status");
  s["apiVersion"] = web::json::value::string("v1");
  int code = 500;
  Reader r(status_msg);
  while (r.next()) {
    if (r.is(f::kStatusStatus, kLen)) s["status"] = web::json::value::string(std::string(r.bytes()));
    else if (r.is(f::kStatusMessage, kLen)) s["message"] = web::json::value::string(std::string(r.bytes()));
    else if (r.is(f::kStatusReason, kLen)) s["reason"] = web::json::value::string(std::string(r.bytes()));
    else if (r.is(f::kStatusCode, kVarint)) code = static_cast<int>(r.ivalue());
  }
  s["code"] = web::json::value::number(code);
  return ApiError::from_response(code, s.serialize());
}

}  // namespace

bool is_protobuf_body(std::string_view body) { return body.substr(0, kMagic.size()) == kMagic; }
bool is_protobuf_watch_frame(std::string_view frame) { return !frame.empty() && frame[0] == '\x0a'; }

Result<std::shared_ptr<const Pod>> decode_pod_protobuf(std::string_view body) {
  std::string_view msg;
  if (!unwrap(body, msg)) return malformed("object: no k8s envelope");
  auto p = decode_pod_message(msg);
  if (!p) return malformed("Pod");
  return std::shared_ptr<const Pod>(std::move(p));
}

Result<ListPage<Pod>> decode_pod_list_protobuf(std::string_view body) {
  std::string_view msg;
  if (!unwrap(body, msg)) return malformed("list: no k8s envelope");
  ListPage<Pod> page;
  Reader r(msg);
  while (r.next()) {
    if (r.is(f::kListMeta, kLen)) {
      Reader m(r.bytes());
      while (m.next()) {
        if (m.is(f::kListMetaResourceVersion, kLen)) page.resource_version = std::string(m.bytes());
        else if (m.is(f::kListMetaContinue, kLen)) page.continue_token = std::string(m.bytes());
      }
      if (m.failed()) return malformed("ListMeta");
    } else if (r.is(f::kListItems, kLen)) {
      auto p = decode_pod_message(r.bytes());
      if (!p) return malformed("Pod in a list");
      page.items.push_back(std::move(p));
    }
  }
  if (r.failed()) return malformed("PodList");
  return page;
}

Result<WatchEvent<Pod>> decode_pod_event_protobuf(std::string_view frame) {
  std::string_view type, raw;
  bool has_object = false;
  Reader r(frame);
  while (r.next()) {
    if (r.is(f::kEventType, kLen)) type = r.bytes();
    else if (r.is(f::kEventObject, kLen)) {
      has_object = true;
      Reader o(r.bytes());
      while (o.next())
        if (o.is(f::kRawExtensionRaw, kLen)) raw = o.bytes();
      if (o.failed()) return malformed("watch event object");
    }
  }
  if (r.failed()) return malformed("watch event");
  if (type != "ADDED" && type != "MODIFIED" && type != "DELETED" && type != "BOOKMARK" && type != "ERROR")
    return ApiError::transport("watch event of unknown type \"" + std::string(type) + "\"");
  if (!has_object) return ApiError::transport("watch event " + std::string(type) + " without object");
  std::string_view msg;
  if (!unwrap(raw, msg)) return malformed("watch event object: no k8s envelope");
  WatchEvent<Pod> ev;
  if (type == "ERROR") {
    ev.type = WatchEventType::kError;
    ev.error = status_error(msg);
    return ev;
  }
  auto p = decode_pod_message(msg);
  if (!p) return malformed("Pod in a watch event");
  ev.resource_version = p->meta.resource_version;
  ev.type = type == "ADDED"      ? WatchEventType::kAdded
            : type == "DELETED"  ? WatchEventType::kDeleted
            : type == "BOOKMARK" ? WatchEventType::kBookmark
                                 : WatchEventType::kModified;
  if (ev.type != WatchEventType::kBookmark) ev.object = std::move(p);
  return ev;
}

}  // namespace nonevent::model
