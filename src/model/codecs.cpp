#include "model/codecs.h"
#include "model/codecs_protobuf.h"

#include <simdjson.h>

#include <algorithm>

#include "kube/clock.h"
#include "model/quantity.h"


namespace nonevent::model {

namespace od = simdjson::ondemand;
using kube::ApiError;
using kube::ListPage;
using kube::Result;
using kube::WatchEvent;
using kube::WatchEventType;

// Stage 1 (finding structure) runs in libsimdjson, which picks the best kernel for this CPU
// at run time; that is what this reports. Compiling this file for AVX2 as well was measured
// (bench/informer_decode) to make no difference, so it is built for the baseline target.
const char* codec_simd_kernel() { return simdjson::get_active_implementation()->name().data(); }

std::string object_key(const ObjectMeta& m) {
  if (m.namespace_.empty()) return m.name;
  std::string k;
  k.reserve(m.namespace_.view().size() + 1 + m.name.size());
  k.append(m.namespace_.view()).push_back('/');
  k.append(m.name);
  return k;
}

namespace {

// ---------- pools shared by every decoding thread ----------
SharedPool<Labels>& label_pool() {
  static SharedPool<Labels> p;
  return p;
}
SharedPool<VolumeInfo>& volume_pool() {
  static SharedPool<VolumeInfo> p;
  return p;
}

// ---------- small readers ----------
bool is_null(od::value& v) { return v.type() == od::json_type::null; }

std::string_view str(od::value& v) {
  if (is_null(v)) return {};
  return v.get_string();
}
int64_t int64(od::value& v) {
  if (is_null(v)) return 0;
  if (v.type() == od::json_type::number) return v.get_int64();
  return 0;
}
bool boolean(od::value& v) {
  if (is_null(v)) return false;
  return v.get_bool();
}
std::optional<TimePoint> time(od::value& v) {
  if (is_null(v)) return std::nullopt;
  return kube::parse_rfc3339(v.get_string());
}

// Raw JSON text of any value (dedup keys). Consumes the value.
std::string_view raw(od::value& v) {
  switch (v.type()) {
    case od::json_type::object: {
      od::object o = v.get_object();
      return o.raw_json();
    }
    case od::json_type::array: {
      od::array a = v.get_array();
      return a.raw_json();
    }
    default: {
      std::string_view t = v.raw_json_token();
      while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t'))
        t.remove_suffix(1);
      return t;
    }
  }
}

// Parses text set aside as a dedup key (a pool miss) with a second parser: the outer
// document's parser is still in the middle of its own document.
template <class F>
auto parse_aside(std::string_view text, F&& f) {
  thread_local od::parser aside;
  simdjson::padded_string padded(text);
  od::document doc = aside.iterate(padded);
  od::value v = doc.get_value();
  return f(v);
}

Labels parse_string_map(od::value& v) {
  Labels out;
  if (is_null(v)) return out;
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    out.emplace_back(IStr(k), IStr(str(f.value())));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::vector<IStr> parse_string_list(od::value& v) {
  std::vector<IStr> out;
  if (is_null(v)) return out;
  for (od::value item : v.get_array()) out.emplace_back(str(item));
  return out;
}

std::vector<LabelSelectorRequirement> parse_requirements(od::value& v) {
  std::vector<LabelSelectorRequirement> out;
  if (is_null(v)) return out;
  for (od::value item : v.get_array()) {
    LabelSelectorRequirement r;
    for (od::field f : item.get_object()) {
      std::string_view k = f.unescaped_key();
      if (k == "key") r.key = IStr(str(f.value()));
      else if (k == "operator") r.op = IStr(str(f.value()));
      else if (k == "values") r.values = parse_string_list(f.value());
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<LabelSelector> parse_selector(od::value& v) {
  if (is_null(v)) return std::nullopt;
  LabelSelector s;
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    if (k == "matchLabels") s.match_labels = parse_string_map(f.value());
    else if (k == "matchExpressions") s.match_expressions = parse_requirements(f.value());
  }
  return s;
}

std::shared_ptr<const Labels> pooled_labels(od::value& v) {
  if (is_null(v)) return nullptr;
  od::object o = v.get_object();
  const std::string_view text = o.raw_json();
  return label_pool().get(text, [&] {
    return parse_aside(text, [](od::value& x) { return parse_string_map(x); });
  });
}

// ---------- metadata ----------
// `on_annotation` sees every annotation (key, value); may be null.
template <class OnAnnotation>
void parse_meta(od::value& v, ObjectMeta& m, OnAnnotation&& on_annotation) {
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    od::value& x = f.value();
    if (k == "name") m.name = std::string(str(x));
    else if (k == "namespace") m.namespace_ = IStr(str(x));
    else if (k == "uid") m.uid = Uid::from(str(x));
    else if (k == "resourceVersion") m.resource_version = std::string(str(x));
    else if (k == "generation") m.generation = int64(x);
    else if (k == "labels") m.labels = pooled_labels(x);
    else if (k == "annotations") {
      if (is_null(x)) continue;
      for (od::field a : x.get_object()) {
        std::string_view ak = a.unescaped_key();
        on_annotation(ak, str(a.value()));
      }
    } else if (k == "ownerReferences") {
      if (is_null(x)) continue;
      for (od::value item : x.get_array()) {
        OwnerRef o;
        for (od::field of : item.get_object()) {
          std::string_view ok = of.unescaped_key();
          if (ok == "apiVersion") o.api_version = IStr(str(of.value()));
          else if (ok == "kind") o.kind = IStr(str(of.value()));
          else if (ok == "name") o.name = IStr(str(of.value()));
          else if (ok == "uid") o.uid = Uid::from(str(of.value()));
          else if (ok == "controller") o.controller = boolean(of.value());
        }
        m.owners.push_back(std::move(o));
      }
    } else if (k == "finalizers") m.finalizers = parse_string_list(x);
    else if (k == "creationTimestamp") m.created = time(x).value_or(TimePoint{});
    else if (k == "deletionTimestamp") m.deleted = time(x);
  }
}

void parse_meta(od::value& v, ObjectMeta& m) {
  parse_meta(v, m, [](std::string_view, std::string_view) {});
}

// ---------- pod template ----------
struct Requests {
  int64_t cpu = 0, mem = 0;
};

Requests parse_resources(od::value& v) {
  Requests req, lim;
  bool has_req_cpu = false, has_req_mem = false;
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    if (k != "requests" && k != "limits") continue;
    Requests& into = k == "requests" ? req : lim;
    if (is_null(f.value())) continue;
    for (od::field r : f.value().get_object()) {
      std::string_view rk = r.unescaped_key();
      std::string_view q = str(r.value());
      if (rk == "cpu") {
        into.cpu = parse_quantity_milli(q).value_or(0);
        if (&into == &req) has_req_cpu = true;
      } else if (rk == "memory") {
        into.mem = parse_quantity(q).value_or(0);
        if (&into == &req) has_req_mem = true;
      }
    }
  }
  // The API server defaults requests to limits when only limits are set.
  if (!has_req_cpu) req.cpu = lim.cpu;
  if (!has_req_mem) req.mem = lim.mem;
  return req;
}

// `images`, when given, gets each container's name and image.
Requests parse_containers(od::value& v, bool take_max,
                          std::vector<std::pair<std::string, std::string>>* images = nullptr) {
  Requests total;
  if (is_null(v)) return total;
  for (od::value c : v.get_array()) {
    if (images) images->emplace_back();
    for (od::field f : c.get_object()) {
      const std::string_view k = f.unescaped_key().value();
      if (images && k == "name") images->back().first = std::string(str(f.value()));
      if (images && k == "image") images->back().second = std::string(str(f.value()));
      if (k != "resources") continue;
      auto r = parse_resources(f.value());
      if (take_max) {
        total.cpu = std::max(total.cpu, r.cpu);
        total.mem = std::max(total.mem, r.mem);
      } else {
        total.cpu += r.cpu;
        total.mem += r.mem;
      }
    }
  }
  return total;
}

std::vector<Toleration> parse_tolerations(od::value& v) {
  std::vector<Toleration> out;
  if (is_null(v)) return out;
  for (od::value item : v.get_array()) {
    Toleration t;
    for (od::field f : item.get_object()) {
      std::string_view k = f.unescaped_key();
      if (k == "key") t.key = IStr(str(f.value()));
      else if (k == "operator") t.op = IStr(str(f.value()));
      else if (k == "value") t.value = IStr(str(f.value()));
      else if (k == "effect") t.effect = IStr(str(f.value()));
      else if (k == "tolerationSeconds" && !is_null(f.value())) t.seconds = int64(f.value());
    }
    out.push_back(std::move(t));
  }
  return out;
}

void parse_affinity(od::value& v, PodTemplateInfo& t) {
  if (is_null(v)) return;
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    if (k == "podAntiAffinity") {
      t.has_pod_anti_affinity = !is_null(f.value());
      continue;
    }
    if (k != "nodeAffinity" || is_null(f.value())) continue;
    for (od::field na : f.value().get_object()) {
      if (na.unescaped_key().value() != "requiredDuringSchedulingIgnoredDuringExecution") continue;
      if (is_null(na.value())) continue;
      for (od::field sel : na.value().get_object()) {
        if (sel.unescaped_key().value() != "nodeSelectorTerms") continue;
        for (od::value term : sel.value().get_array()) {
          NodeSelectorTerm nt;
          for (od::field tf : term.get_object()) {
            std::string_view tk = tf.unescaped_key();
            if (tk == "matchExpressions") nt.match_expressions = parse_requirements(tf.value());
            else if (tk == "matchFields") nt.match_fields = parse_requirements(tf.value());
          }
          t.required_node_affinity.push_back(std::move(nt));
        }
      }
    }
  }
}

std::vector<TopologySpreadConstraint> parse_spread(od::value& v) {
  std::vector<TopologySpreadConstraint> out;
  if (is_null(v)) return out;
  for (od::value item : v.get_array()) {
    TopologySpreadConstraint c;
    for (od::field f : item.get_object()) {
      std::string_view k = f.unescaped_key();
      od::value& x = f.value();
      if (k == "maxSkew") c.max_skew = static_cast<int32_t>(int64(x));
      else if (k == "topologyKey") c.topology_key = IStr(str(x));
      else if (k == "whenUnsatisfiable") c.do_not_schedule = str(x) != "ScheduleAnyway";
      else if (k == "labelSelector") c.selector = parse_selector(x);
      else if (k == "minDomains" && !is_null(x)) c.min_domains = static_cast<int32_t>(int64(x));
      else if (k == "nodeAffinityPolicy") c.honor_node_affinity = str(x) != "Ignore";
      else if (k == "nodeTaintsPolicy") c.honor_node_taints = str(x) == "Honor";
      else if (k == "matchLabelKeys") c.match_label_keys = parse_string_list(x);
    }
    out.push_back(std::move(c));
  }
  return out;
}

// `v` is an object of the template-relevant pod spec fields (see pod_template_key).
PodTemplateInfo parse_template(od::value& v) {
  PodTemplateInfo t;
  Requests containers, init, overhead;
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    od::value& x = f.value();
    if (k == "containers") containers = parse_containers(x, false, &t.containers);
    else if (k == "initContainers") init = parse_containers(x, true);
    else if (k == "overhead") {
      if (is_null(x)) continue;
      for (od::field r : x.get_object()) {
        std::string_view rk = r.unescaped_key();
        if (rk == "cpu") overhead.cpu = parse_quantity_milli(str(r.value())).value_or(0);
        else if (rk == "memory") overhead.mem = parse_quantity(str(r.value())).value_or(0);
      }
    } else if (k == "nodeSelector") t.node_selector = parse_string_map(x);
    else if (k == "tolerations") t.tolerations = parse_tolerations(x);
    else if (k == "affinity") parse_affinity(x, t);
    else if (k == "topologySpreadConstraints") t.spread = parse_spread(x);
    else if (k == "priority") t.priority = static_cast<int32_t>(int64(x));
    else if (k == "priorityClassName") t.priority_class = IStr(str(x));
    else if (k == "schedulerName") t.scheduler_name = IStr(str(x));
    else if (k == "terminationGracePeriodSeconds" && !is_null(x)) t.termination_grace_seconds = int64(x);
    else if (k == "restartPolicy" && !is_null(x)) t.restart_always = str(x) == "Always";
  }
  t.cpu_milli = std::max(containers.cpu, init.cpu) + overhead.cpu;
  t.memory_bytes = std::max(containers.mem, init.mem) + overhead.mem;
  return t;
}

VolumeInfo parse_volumes(od::value& v) {
  VolumeInfo vi;
  if (is_null(v)) return vi;
  for (od::value item : v.get_array()) {
    for (od::field f : item.get_object()) {
      std::string_view k = f.unescaped_key();
      if (k == "emptyDir") vi.has_empty_dir = true;
      else if (k == "hostPath") vi.has_host_path = true;
      else if (k == "persistentVolumeClaim" && !is_null(f.value())) {
        for (od::field c : f.value().get_object())
          if (c.unescaped_key().value() == "claimName") vi.claims.emplace_back(str(c.value()));
      }
    }
  }
  return vi;
}


// Pod templates deduplicated by content. Lookups hash the spec's pieces where they lie in the
// input; the JSON key is only assembled for a template not seen before (then parsed aside).
class TemplatePool {
 public:
  struct Piece {
    std::string_view key, raw;
  };
  std::shared_ptr<const PodTemplateInfo> get(const std::vector<Piece>& pieces) {
    PieceHasher h;
    for (const auto& p : pieces) {
      h.add(p.key);
      h.add(p.raw);
    }
    const uint64_t hash = h.value();
    std::lock_guard g(mu_);
    auto& bucket = map_[hash];
    for (auto it = bucket.begin(); it != bucket.end();) {
      auto sp = it->second.lock();
      if (!sp) {
        it = bucket.erase(it);
        continue;
      }
      if (equal(it->first, pieces)) return sp;
      ++it;
    }
    std::string key = assemble(pieces);
    auto sp = std::make_shared<const PodTemplateInfo>(
        parse_aside(key, [](od::value& y) { return parse_template(y); }));
    bucket.emplace_back(std::move(key), sp);
    if (++inserts_ % 4096 == 0) prune();
    return sp;
  }

 private:
  static std::string assemble(const std::vector<Piece>& pieces) {
    std::string key = "{";
    for (const auto& p : pieces) {
      if (key.size() > 1) key.push_back(',');
      key.push_back('"');
      key.append(p.key);  // keys of a pod spec never need escaping
      key.append("\":");
      key.append(p.raw);
    }
    key.push_back('}');
    return key;
  }
  // Compares with assemble()'s layout without building it.
  static bool equal(const std::string& stored, const std::vector<Piece>& pieces) {
    std::string_view rest(stored);
    auto eat = [&](std::string_view part) {
      if (rest.substr(0, part.size()) != part) return false;
      rest.remove_prefix(part.size());
      return true;
    };
    if (!eat("{")) return false;
    bool first = true;
    for (const auto& p : pieces) {
      if (!first && !eat(",")) return false;
      first = false;
      if (!eat("\"") || !eat(p.key) || !eat("\":") || !eat(p.raw)) return false;
    }
    return rest == "}";
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

// Fields of a pod spec that differ between pods of one template; everything else is shared.
bool per_pod_field(std::string_view k) {
  return k == "nodeName" || k == "hostname" || k == "subdomain" || k == "volumes" ||
         k == "nominatedNodeName";
}

// Reads a pod spec (or a workload's template spec), sharing the template and volume parts
// between identical pods. `node_name` may be null.
void parse_pod_spec(od::value& v, std::shared_ptr<const PodTemplateInfo>& spec,
                    std::shared_ptr<const VolumeInfo>& volumes, IStr* node_name) {
  thread_local std::vector<TemplatePool::Piece> pieces;
  pieces.clear();
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    od::value& x = f.value();
    if (per_pod_field(k)) {
      if (k == "nodeName" && node_name) *node_name = IStr(str(x));
      else if (k == "volumes") {
        const std::string_view text = raw(x);
        // Most pods only mount configMaps, secrets and projected tokens: nothing the drain
        // cares about, and nothing worth keeping (a pooled entry nobody holds dies at once).
        if (text.find("\"emptyDir\"") == std::string_view::npos &&
            text.find("\"hostPath\"") == std::string_view::npos &&
            text.find("\"persistentVolumeClaim\"") == std::string_view::npos)
          continue;
        auto vi = volume_pool().get(text, [&] {
          return parse_aside(text, [](od::value& y) { return parse_volumes(y); });
        });
        if (vi->has_empty_dir || vi->has_host_path || !vi->claims.empty()) volumes = std::move(vi);
      }
      continue;
    }
    // unescaped_key() points into the parser's string buffer, which later keys may reuse
    // only after this document is done; raw() points into the input. Both outlive the loop.
    pieces.push_back({k, raw(x)});
  }
  spec = template_pool().get(pieces);
}

// ---------- objects ----------
// A pod's status into `p` (a Pod or PodStatusFacts: the same members).
template <class Facts>
void decode_pod_status_into(od::value& x, Facts& p) {
  for (od::field s : x.get_object()) {
    std::string_view sk = s.unescaped_key();
    if (sk == "phase") {
      std::string_view ph = str(s.value());
      p.phase = ph == "Running"     ? PodPhase::kRunning
                : ph == "Succeeded" ? PodPhase::kSucceeded
                : ph == "Failed"    ? PodPhase::kFailed
                : ph == "Pending"   ? PodPhase::kPending
                                    : PodPhase::kUnknown;
    } else if (sk == "conditions" && !is_null(s.value())) {
      for (od::value c : s.value().get_array()) {
        std::string_view type, status, reason;
        std::optional<TimePoint> since;
        for (od::field cf : c.get_object()) {
          std::string_view ck = cf.unescaped_key();
          if (ck == "type") type = str(cf.value());
          else if (ck == "status") status = str(cf.value());
          else if (ck == "reason") reason = str(cf.value());
          else if (ck == "lastTransitionTime") since = time(cf.value());
        }
        if (type == "Ready") {
          p.ready = status == "True";
          if (p.ready) p.ready_since = since;
        } else if (type == "PodScheduled") {
          p.unschedulable = status == "False" && reason == "Unschedulable";
        }
      }
    }
  }
}

std::shared_ptr<Pod> decode_pod(od::value& v) {
  auto p = std::make_shared<Pod>();
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    od::value& x = f.value();
    if (k == "metadata") {
      parse_meta(x, p->meta, [&](std::string_view ak, std::string_view av) {
        if (ak == "kubernetes.io/config.mirror") p->mirror = true;
        else if (ak == "controller.kubernetes.io/pod-deletion-cost") p->deletion_cost = static_cast<int32_t>(std::strtol(std::string(av).c_str(), nullptr, 10));
        else if (ak.rfind("nonevent.dev/", 0) == 0) {
          if (ak == "nonevent.dev/do-not-evict") p->do_not_evict = av == "true";
          p->nonevent_annotations.emplace_back(IStr(ak), std::string(av));
        }
      });
    } else if (k == "spec") {
      parse_pod_spec(x, p->spec, p->volumes, &p->node_name);
    } else if (k == "status") {
      decode_pod_status_into(x, *p);
    }
  }
  if (!p->spec) p->spec = template_pool().get({});
  return p;
}

std::shared_ptr<Node> decode_node(od::value& v) {
  auto n = std::make_shared<Node>();
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    od::value& x = f.value();
    if (k == "metadata") {
      parse_meta(x, n->meta, [&](std::string_view ak, std::string_view av) {
        n->annotations.emplace_back(IStr(ak), std::string(av));
      });
    } else if (k == "spec") {
      for (od::field s : x.get_object()) {
        std::string_view sk = s.unescaped_key();
        if (sk == "unschedulable") n->unschedulable = boolean(s.value());
        else if (sk == "providerID") n->provider_id = std::string(str(s.value()));
        else if (sk == "taints" && !is_null(s.value())) {
          for (od::value t : s.value().get_array()) {
            Taint taint;
            for (od::field tf : t.get_object()) {
              std::string_view tk = tf.unescaped_key();
              if (tk == "key") taint.key = IStr(str(tf.value()));
              else if (tk == "value") taint.value = IStr(str(tf.value()));
              else if (tk == "effect") taint.effect = IStr(str(tf.value()));
            }
            n->taints.push_back(std::move(taint));
          }
        }
      }
    } else if (k == "status") {
      for (od::field s : x.get_object()) {
        std::string_view sk = s.unescaped_key();
        if (sk == "allocatable" && !is_null(s.value())) {
          for (od::field r : s.value().get_object()) {
            std::string_view rk = r.unescaped_key();
            std::string_view q = str(r.value());
            if (rk == "cpu") n->cpu_milli = parse_quantity_milli(q).value_or(0);
            else if (rk == "memory") n->memory_bytes = parse_quantity(q).value_or(0);
            else if (rk == "pods") n->pods = parse_quantity(q).value_or(0);
          }
        } else if (sk == "conditions" && !is_null(s.value())) {
          for (od::value c : s.value().get_array()) {
            NodeCondition nc;
            for (od::field cf : c.get_object()) {
              std::string_view ck = cf.unescaped_key();
              if (ck == "type") nc.type = IStr(str(cf.value()));
              else if (ck == "status") nc.status = IStr(str(cf.value()));
            }
            if (nc.type == "Ready") n->ready = nc.status == "True";
            n->conditions.push_back(nc);
          }
        } else if (sk == "nodeInfo" && !is_null(s.value())) {
          for (od::field i : s.value().get_object()) {
            std::string_view ik = i.unescaped_key();
            if (ik == "osImage") n->os_image = std::string(str(i.value()));
            else if (ik == "kernelVersion") n->kernel_version = std::string(str(i.value()));
            else if (ik == "kubeletVersion") n->kubelet_version = std::string(str(i.value()));
          }
        }
      }
    }
  }
  const auto& labels = n->meta.label_set();
  if (auto* z = find_label(labels, "topology.kubernetes.io/zone")) n->zone = *z;
  else if (auto* dz = find_label(labels, "failure-domain.beta.kubernetes.io/zone")) n->zone = *dz;
  return n;
}

std::optional<IntOrPercent> int_or_percent(od::value& v) {
  if (is_null(v)) return std::nullopt;
  IntOrPercent ip;
  if (v.type() == od::json_type::string) {
    std::string_view s = v.get_string();
    ip.is_percent = !s.empty() && s.back() == '%';
    if (ip.is_percent) s.remove_suffix(1);
    ip.value = 0;
    for (char c : s) {
      if (c < '0' || c > '9') break;
      ip.value = ip.value * 10 + (c - '0');
    }
  } else {
    ip.value = static_cast<int32_t>(v.get_int64());
  }
  return ip;
}

std::shared_ptr<PodDisruptionBudget> decode_pdb(od::value& v) {
  auto p = std::make_shared<PodDisruptionBudget>();
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    od::value& x = f.value();
    if (k == "metadata") parse_meta(x, p->meta);
    else if (k == "spec") {
      for (od::field s : x.get_object()) {
        std::string_view sk = s.unescaped_key();
        if (sk == "selector") p->selector = parse_selector(s.value());
        else if (sk == "minAvailable") p->min_available = int_or_percent(s.value());
        else if (sk == "maxUnavailable") p->max_unavailable = int_or_percent(s.value());
        else if (sk == "unhealthyPodEvictionPolicy") p->unhealthy_pod_eviction_policy = IStr(str(s.value()));
      }
    } else if (k == "status") {
      for (od::field s : x.get_object()) {
        std::string_view sk = s.unescaped_key();
        od::value& y = s.value();
        if (sk == "observedGeneration") p->observed_generation = int64(y);
        else if (sk == "disruptionsAllowed") p->disruptions_allowed = static_cast<int32_t>(int64(y));
        else if (sk == "currentHealthy") p->current_healthy = static_cast<int32_t>(int64(y));
        else if (sk == "desiredHealthy") p->desired_healthy = static_cast<int32_t>(int64(y));
        else if (sk == "expectedPods") p->expected_pods = static_cast<int32_t>(int64(y));
        else if (sk == "disruptedPods" && !is_null(y)) {
          for (od::field d : y.get_object()) p->disrupted_pods.emplace_back(d.unescaped_key().value());
        }
      }
    }
  }
  return p;
}

std::shared_ptr<Lease> decode_lease(od::value& v) {
  auto l = std::make_shared<Lease>();
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    od::value& x = f.value();
    if (k == "metadata") parse_meta(x, l->meta);
    else if (k == "spec") {
      for (od::field s : x.get_object()) {
        std::string_view sk = s.unescaped_key();
        od::value& y = s.value();
        if (sk == "holderIdentity") l->holder_identity = std::string(str(y));
        else if (sk == "leaseDurationSeconds" && !is_null(y)) l->lease_duration_seconds = static_cast<int32_t>(int64(y));
        else if (sk == "acquireTime") l->acquire_time = time(y);
        else if (sk == "renewTime") l->renew_time = time(y);
        else if (sk == "leaseTransitions") l->lease_transitions = static_cast<int32_t>(int64(y));
      }
    }
  }
  return l;
}

template <WorkloadKind K>
std::shared_ptr<Workload> decode_workload(od::value& v) {
  auto w = std::make_shared<Workload>();
  w->kind = K;
  for (od::field f : v.get_object()) {
    std::string_view k = f.unescaped_key();
    od::value& x = f.value();
    if (k == "metadata") parse_meta(x, w->meta);
    else if (k == "spec") {
      for (od::field s : x.get_object()) {
        std::string_view sk = s.unescaped_key();
        od::value& y = s.value();
        if (sk == "replicas" && !is_null(y)) w->replicas = static_cast<int32_t>(int64(y));
        else if (sk == "selector") w->selector = parse_selector(y);
        else if (sk == "template" && !is_null(y)) {
          for (od::field t : y.get_object()) {
            if (t.unescaped_key().value() != "spec") continue;
            std::shared_ptr<const VolumeInfo> ignored;
            parse_pod_spec(t.value(), w->template_spec, ignored, nullptr);
          }
        }
      }
    } else if (k == "status") {
      for (od::field s : x.get_object()) {
        std::string_view sk = s.unescaped_key();
        od::value& y = s.value();
        if (sk == "readyReplicas" || sk == "numberReady") w->ready_replicas = static_cast<int32_t>(int64(y));
        else if (sk == "availableReplicas" || sk == "numberAvailable") w->available_replicas = static_cast<int32_t>(int64(y));
        else if (sk == "updatedReplicas" || sk == "updatedNumberScheduled") w->updated_replicas = static_cast<int32_t>(int64(y));
        else if (sk == "observedGeneration") w->observed_generation = int64(y);
        else if (sk == "desiredNumberScheduled" && !w->replicas) w->replicas = static_cast<int32_t>(int64(y));
      }
    }
  }
  return w;
}

std::shared_ptr<GenericObject> decode_generic(od::value& v) {
  auto g = std::make_shared<GenericObject>();
  od::object o = v.get_object();
  g->json = std::string(o.raw_json().value());
  parse_aside(g->json, [&](od::value& y) {
    for (od::field f : y.get_object())
      if (f.unescaped_key().value() == "metadata") parse_meta(f.value(), g->meta);
    return 0;
  });
  return g;
}

// ---------- the generic list / event / object drivers ----------
thread_local od::parser t_parser;

// Gives the parser padded input without copying when the string has room for the padding.
simdjson::padded_string_view padded(std::string& s) {
  if (s.capacity() < s.size() + simdjson::SIMDJSON_PADDING) s.reserve(s.size() + simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(s.data(), s.size(), s.capacity());
}

template <class T, class Decode>
Result<ListPage<T>> decode_list_with(std::string& body, Decode&& decode) {
  ListPage<T> page;
  try {
    od::document doc = t_parser.iterate(padded(body));
    for (od::field f : doc.get_object()) {
      std::string_view k = f.unescaped_key();
      if (k == "metadata") {
        for (od::field m : f.value().get_object()) {
          std::string_view mk = m.unescaped_key();
          if (mk == "resourceVersion") page.resource_version = std::string(str(m.value()));
          else if (mk == "continue") page.continue_token = std::string(str(m.value()));
        }
      } else if (k == "items") {
        if (is_null(f.value())) continue;
        for (od::value item : f.value().get_array()) page.items.push_back(decode(item));
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    return ApiError::transport(std::string("cannot decode list: ") + e.what());
  }
  return page;
}

template <class T, class Decode>
Result<WatchEvent<T>> decode_event_with(std::string_view line, Decode&& decode) {
  thread_local std::string buf;
  buf.assign(line);
  WatchEvent<T> ev;
  std::string type;
  bool has_object = false;
  // Interprets the event's object once its type is known.
  auto take_object = [&](od::value& obj) {
    has_object = true;
    if (type == "ERROR") {
      ev.type = WatchEventType::kError;
      ev.error = ApiError::from_response(500, raw(obj));  // the Status's own code wins
    } else if (type == "BOOKMARK") {
      ev.type = WatchEventType::kBookmark;
      for (od::field o : obj.get_object()) {
        if (o.unescaped_key().value() != "metadata") continue;
        for (od::field m : o.value().get_object())
          if (m.unescaped_key().value() == "resourceVersion")
            ev.resource_version = std::string(str(m.value()));
      }
    } else {
      ev.type = type == "ADDED"     ? WatchEventType::kAdded
                : type == "DELETED" ? WatchEventType::kDeleted
                                    : WatchEventType::kModified;
      auto decoded = decode(obj);
      ev.resource_version = decoded->meta.resource_version;
      ev.object = std::move(decoded);
    }
  };
  try {
    std::string deferred;  // the object, when it came before the type
    od::document doc = t_parser.iterate(padded(buf));
    for (od::field f : doc.get_object()) {
      std::string_view k = f.unescaped_key();
      if (k == "type") {
        type = std::string(str(f.value()));
      } else if (k == "object") {
        if (type.empty()) deferred = std::string(raw(f.value()));
        else take_object(f.value());
      }
    }
    if (!deferred.empty() && !type.empty())
      parse_aside(deferred, [&](od::value& obj) { take_object(obj); return 0; });
  } catch (const simdjson::simdjson_error& e) {
    return ApiError::transport(std::string("cannot decode watch event: ") + e.what());
  }
  if (type != "ADDED" && type != "MODIFIED" && type != "DELETED" && type != "BOOKMARK" &&
      type != "ERROR")
    return ApiError::transport("watch event of unknown type \"" + type + "\"");
  if (!has_object) return ApiError::transport("watch event " + type + " without object");
  return ev;
}

template <class T, class Decode>
Result<std::shared_ptr<const T>> decode_one_with(std::string_view json, Decode&& decode) {
  thread_local std::string buf;
  buf.assign(json);
  try {
    od::document doc = t_parser.iterate(padded(buf));
    od::value v = doc.get_value();
    return std::shared_ptr<const T>(decode(v));
  } catch (const simdjson::simdjson_error& e) {
    return ApiError::transport(std::string("cannot decode object: ") + e.what());
  }
}

}  // namespace

#define NONEVENT_DEFINE_CODEC(TYPE, DECODE)                                                 \
  Result<ListPage<TYPE>> CodecFor<TYPE>::decode_list(std::string& body) {                \
    return decode_list_with<TYPE>(body, [](od::value& v) { return DECODE(v); });           \
  }                                                                                        \
  Result<WatchEvent<TYPE>> CodecFor<TYPE>::decode_event(std::string_view line) {         \
    return decode_event_with<TYPE>(line, [](od::value& v) { return DECODE(v); });          \
  }                                                                                        \
  Result<std::shared_ptr<const TYPE>> CodecFor<TYPE>::decode(std::string_view json) {    \
    return decode_one_with<TYPE>(json, [](od::value& v) { return DECODE(v); });           \
  }                                                                                        \
  std::string CodecFor<TYPE>::key(const TYPE& o) { return object_key(o.meta); }

// Pods also read protobuf (codecs_protobuf.h), told apart by their first bytes.
Result<ListPage<Pod>> CodecFor<Pod>::decode_list(std::string& body) {
  if (is_protobuf_body(body)) return decode_pod_list_protobuf(body);
  return decode_list_with<Pod>(body, [](od::value& v) { return decode_pod(v); });
}
Result<WatchEvent<Pod>> CodecFor<Pod>::decode_event(std::string_view line) {
  if (is_protobuf_watch_frame(line)) return decode_pod_event_protobuf(line);
  return decode_event_with<Pod>(line, [](od::value& v) { return decode_pod(v); });
}
Result<std::shared_ptr<const Pod>> CodecFor<Pod>::decode(std::string_view json) {
  if (is_protobuf_body(json)) return decode_pod_protobuf(json);
  return decode_one_with<Pod>(json, [](od::value& v) { return decode_pod(v); });
}
std::string CodecFor<Pod>::key(const Pod& o) { return object_key(o.meta); }

Result<PodStatusFacts> decode_pod_status(std::string_view status_json) {
  thread_local std::string buf;
  buf.assign(status_json);
  try {
    od::document doc = t_parser.iterate(padded(buf));
    od::value v = doc.get_value();
    PodStatusFacts facts;
    decode_pod_status_into(v, facts);
    return facts;
  } catch (const simdjson::simdjson_error& e) {
    return ApiError::transport(std::string("cannot decode a pod's status: ") + e.what());
  }
}

std::shared_ptr<const Pod> pod_with_status(const Pod& before, const PodStatusFacts& status, std::string rv) {
  auto p = std::make_shared<Pod>(before);
  p->meta.resource_version = std::move(rv);
  p->phase = status.phase;
  p->ready = status.ready;
  p->unschedulable = status.unschedulable;
  p->ready_since = status.ready_since;
  return p;
}
NONEVENT_DEFINE_CODEC(Node, decode_node)
NONEVENT_DEFINE_CODEC(PodDisruptionBudget, decode_pdb)
NONEVENT_DEFINE_CODEC(Lease, decode_lease)
NONEVENT_DEFINE_CODEC(GenericObject, decode_generic)
#undef NONEVENT_DEFINE_CODEC

template <WorkloadKind K>
Result<ListPage<Workload>> WorkloadCodec<K>::decode_list(std::string& body) {
  return decode_list_with<Workload>(body, [](od::value& v) { return decode_workload<K>(v); });
}
template <WorkloadKind K>
Result<WatchEvent<Workload>> WorkloadCodec<K>::decode_event(std::string_view line) {
  return decode_event_with<Workload>(line, [](od::value& v) { return decode_workload<K>(v); });
}
template <WorkloadKind K>
Result<std::shared_ptr<const Workload>> WorkloadCodec<K>::decode(std::string_view json) {
  return decode_one_with<Workload>(json, [](od::value& v) { return decode_workload<K>(v); });
}
template <WorkloadKind K>
std::string WorkloadCodec<K>::key(const Workload& o) {
  return object_key(o.meta);
}

template struct WorkloadCodec<WorkloadKind::kDeployment>;
template struct WorkloadCodec<WorkloadKind::kReplicaSet>;
template struct WorkloadCodec<WorkloadKind::kStatefulSet>;
template struct WorkloadCodec<WorkloadKind::kDaemonSet>;
template struct WorkloadCodec<WorkloadKind::kJob>;
template struct WorkloadCodec<WorkloadKind::kReplicationController>;

}  // namespace nonevent::model
