#include "sim/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <chrono>
#include <cmath>
#include <set>

#include "kube/clock.h"
#include "kube/rest_config.h"  // base64

namespace nonevent::sim::proto {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;
using web::json::value;

namespace {

constexpr std::string_view kMetaV1 = "k8s.io.apimachinery.pkg.apis.meta.v1.";

// How a message type appears in JSON.
enum class Form { Object, Quantity, IntOrString, Time, MicroTime, Duration, RawJson, StringList };

Form form_of(const pb::Descriptor* d) {
  const std::string& n = d->full_name();
  if (n == "k8s.io.apimachinery.pkg.api.resource.Quantity") return Form::Quantity;
  if (n == "k8s.io.apimachinery.pkg.util.intstr.IntOrString") return Form::IntOrString;
  if (n == "k8s.io.apimachinery.pkg.runtime.RawExtension") return Form::RawJson;
  if (n.starts_with(kMetaV1)) {
    const std::string_view local = std::string_view(n).substr(kMetaV1.size());
    if (local == "Time") return Form::Time;
    if (local == "MicroTime") return Form::MicroTime;
    if (local == "Duration") return Form::Duration;
    if (local == "FieldsV1") return Form::RawJson;
    if (local == "Verbs") return Form::StringList;
  }
  if (d->name() == "ExtraValue") return Form::StringList;  // authentication, authorization, certificates
  return Form::Object;
}

// Go struct fields tagged `json:",inline"` in k8s.io/api 1.32: the proto has them as a field,
// the JSON as members of the enclosing object. The .proto files do not mark them.
bool is_inline(const FD* f) {
  static const std::set<std::string, std::less<>> fields = {
      "k8s.io.api.core.v1.Volume.volumeSource",
      "k8s.io.api.core.v1.PersistentVolumeSpec.persistentVolumeSource",
      "k8s.io.api.core.v1.EphemeralContainer.ephemeralContainerCommon",
      "k8s.io.api.core.v1.Probe.handler",
      "k8s.io.api.core.v1.ConfigMapEnvSource.localObjectReference",
      "k8s.io.api.core.v1.ConfigMapKeySelector.localObjectReference",
      "k8s.io.api.core.v1.ConfigMapProjection.localObjectReference",
      "k8s.io.api.core.v1.ConfigMapVolumeSource.localObjectReference",
      "k8s.io.api.core.v1.SecretEnvSource.localObjectReference",
      "k8s.io.api.core.v1.SecretKeySelector.localObjectReference",
      "k8s.io.api.core.v1.SecretProjection.localObjectReference",
      "k8s.io.api.networking.v1.IngressRule.ingressRuleValue",
      "k8s.io.api.admissionregistration.v1.NamedRuleWithOperations.ruleWithOperations",
      "k8s.io.api.admissionregistration.v1.RuleWithOperations.rule",
  };
  return fields.contains(f->full_name());
}

// Go's time.Duration.String(): "1h2m3.5s", "250ms", "0s".
std::string go_duration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  auto fraction = [](uint64_t v, uint64_t unit) {  // v/unit with trailing zeros trimmed
    std::string out = std::to_string(v / unit);
    if (uint64_t rest = v % unit) {
      std::string f = std::to_string(rest + unit).substr(1);
      while (!f.empty() && f.back() == '0') f.pop_back();
      out += "." + f;
    }
    return out;
  };
  if (u < 1'000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + fraction(u, 1'000) + "µs";
  if (u < 1'000'000'000) return sign + fraction(u, 1'000'000) + "ms";
  std::string out = sign;
  const uint64_t h = u / 3'600'000'000'000, m = u / 60'000'000'000 % 60;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  return out + fraction(u % 60'000'000'000, 1'000'000'000) + "s";
}

const FD* field(const pb::Descriptor* d, const char* name) { return d->FindFieldByName(name); }

value message_json(const pb::Message& m);

// A message-typed value in its JSON form; null when Go would write it as absent.
value special_json(const pb::Message& m, Form form) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  switch (form) {
    case Form::Object:
      return message_json(m);
    case Form::Quantity:
      return r->HasField(m, field(d, "string")) ? value::string(r->GetString(m, field(d, "string"))) : value::null();
    case Form::IntOrString:
      if (r->GetInt64(m, field(d, "type")) == 1) return value::string(r->GetString(m, field(d, "strVal")));
      return value::number(r->GetInt32(m, field(d, "intVal")));
    case Form::Time:
    case Form::MicroTime: {
      const FD* s = field(d, "seconds");
      const FD* n = field(d, "nanos");
      if (!r->HasField(m, s) && !r->HasField(m, n)) return value::null();
      // Our times count nanoseconds in 64 bits (1678 to 2261); a time outside is dropped
      // rather than overflowed (tests/fuzz protobuf_body).
      const int64_t secs = r->GetInt64(m, s);
      if (secs < -9'000'000'000LL || secs > 9'000'000'000LL) return value::null();
      const auto t = kube::TimePoint{} + std::chrono::duration_cast<kube::TimePoint::duration>(
                                             std::chrono::seconds(secs) + std::chrono::nanoseconds(r->GetInt32(m, n)));
      return value::string(form == Form::Time ? kube::format_rfc3339(t) : kube::format_rfc3339_micro(t));
    }
    case Form::Duration:
      return value::string(go_duration(r->GetInt64(m, field(d, "duration"))));
    case Form::RawJson: {
      const std::string raw = r->GetString(m, d->field(0));
      if (raw.empty()) return value::null();
      std::error_code ec;
      value v = value::parse(raw, ec);
      return ec ? value::null() : v;
    }
    case Form::StringList: {
      const FD* items = field(d, "items");
      value a = value::array();
      for (int i = 0; i < r->FieldSize(m, items); ++i) a[i] = value::string(r->GetRepeatedString(m, items, i));
      return a;
    }
  }
  return value::null();
}

// Field f of m (element `i` of a repeated field, or the value when i < 0) as JSON.
value field_json(const pb::Message& m, const FD* f, int i) {
  const auto* r = m.GetReflection();
  const bool rep = i >= 0;
  switch (f->cpp_type()) {
    case FD::CPPTYPE_INT32: return value::number(rep ? r->GetRepeatedInt32(m, f, i) : r->GetInt32(m, f));
    case FD::CPPTYPE_INT64: return value::number(rep ? r->GetRepeatedInt64(m, f, i) : r->GetInt64(m, f));
    case FD::CPPTYPE_UINT32: return value::number(rep ? r->GetRepeatedUInt32(m, f, i) : r->GetUInt32(m, f));
    case FD::CPPTYPE_UINT64: return value::number(rep ? r->GetRepeatedUInt64(m, f, i) : r->GetUInt64(m, f));
    case FD::CPPTYPE_DOUBLE: return value::number(rep ? r->GetRepeatedDouble(m, f, i) : r->GetDouble(m, f));
    case FD::CPPTYPE_FLOAT: return value::number(static_cast<double>(rep ? r->GetRepeatedFloat(m, f, i) : r->GetFloat(m, f)));
    case FD::CPPTYPE_BOOL: return value::boolean(rep ? r->GetRepeatedBool(m, f, i) : r->GetBool(m, f));
    case FD::CPPTYPE_ENUM: return value::string(rep ? r->GetRepeatedEnum(m, f, i)->name() : r->GetEnum(m, f)->name());
    case FD::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, i) : r->GetString(m, f);
      return value::string(f->type() == FD::TYPE_BYTES ? kube::base64_encode(s) : std::move(s));
    }
    case FD::CPPTYPE_MESSAGE: {
      const pb::Message& sub = rep ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f);
      return special_json(sub, form_of(f->message_type()));
    }
  }
  return value::null();
}

value message_json(const pb::Message& m) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  value obj = value::object();
  for (int k = 0; k < d->field_count(); ++k) {
    const FD* f = d->field(k);
    if (f->is_map()) {
      const int n = r->FieldSize(m, f);
      if (n == 0) continue;
      value map = value::object();
      const FD* key = f->message_type()->map_key();
      const FD* val = f->message_type()->map_value();
      for (int i = 0; i < n; ++i) {
        const pb::Message& entry = r->GetRepeatedMessage(m, f, i);
        value v = field_json(entry, val, -1);
        map[field_json(entry, key, -1).as_string()] = v.is_null() ? value::string("") : std::move(v);
      }
      obj[f->name()] = std::move(map);
    } else if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      if (n == 0) continue;
      value a = value::array(n);
      for (int i = 0; i < n; ++i) a[i] = field_json(m, f, i);
      obj[f->name()] = std::move(a);
    } else if (r->HasField(m, f)) {
      value v = field_json(m, f, -1);
      if (v.is_null() || (v.is_string() && v.as_string().empty())) continue;
      if (is_inline(f) && v.is_object()) {
        for (auto& [k2, v2] : v.as_object()) obj[k2] = v2;
        continue;
      }
      obj[f->name()] = std::move(v);
    }
  }
  return obj;
}

// ---- JSON -> message ----

bool fail(std::string& error, const std::string& path, const std::string& expected, const value& got) {
  error = path + ": expected " + expected + ", got " + got.serialize();
  return false;
}

bool fill_message(const value& v, pb::Message& m, const std::string& path, std::string& error);

int64_t whole(const value& v) { return v.as_number().to_int64(); }
bool is_whole(const value& v) { return v.is_number() && v.as_number().is_integral(); }

bool fill_special(const value& v, pb::Message& m, Form form, const std::string& path, std::string& error) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  switch (form) {
    case Form::Object:
      return fill_message(v, m, path, error);
    case Form::Quantity:
      if (v.is_string()) r->SetString(&m, field(d, "string"), v.as_string());
      else if (v.is_number()) r->SetString(&m, field(d, "string"), v.serialize());
      else return fail(error, path, "a quantity (a string or a number)", v);
      return true;
    case Form::IntOrString:
      if (is_whole(v)) {
        r->SetInt64(&m, field(d, "type"), 0);
        r->SetInt32(&m, field(d, "intVal"), static_cast<int32_t>(whole(v)));
      } else if (v.is_string()) {
        r->SetInt64(&m, field(d, "type"), 1);
        r->SetString(&m, field(d, "strVal"), v.as_string());
      } else {
        return fail(error, path, "an integer or a string", v);
      }
      return true;
    case Form::Time:
    case Form::MicroTime: {
      const auto t = v.is_string() ? kube::parse_rfc3339(v.as_string()) : std::nullopt;
      if (!t) return fail(error, path, "an RFC 3339 time", v);
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count();
      int64_t secs = ns / 1'000'000'000;
      int64_t nanos = ns % 1'000'000'000;
      if (nanos < 0) secs -= 1, nanos += 1'000'000'000;
      r->SetInt64(&m, field(d, "seconds"), secs);
      r->SetInt32(&m, field(d, "nanos"), static_cast<int32_t>(nanos));
      return true;
    }
    case Form::Duration: {
      const auto dur = v.is_string() ? kube::parse_duration(v.as_string()) : std::nullopt;
      if (!dur) return fail(error, path, "a duration such as \"1m30s\"", v);
      r->SetInt64(&m, field(d, "duration"), dur->count());
      return true;
    }
    case Form::RawJson:
      r->SetString(&m, d->field(0), v.serialize());
      return true;
    case Form::StringList: {
      if (!v.is_array()) return fail(error, path, "an array of strings", v);
      for (const auto& s : v.as_array()) {
        if (!s.is_string()) return fail(error, path + "[]", "a string", s);
        r->AddString(&m, field(d, "items"), s.as_string());
      }
      return true;
    }
  }
  return true;
}

// Sets field f of m (appends, when f is repeated) from JSON.
bool fill_field(const value& v, pb::Message& m, const FD* f, const std::string& path, std::string& error) {
  const auto* r = m.GetReflection();
  const bool rep = f->is_repeated();
  auto integer = [&](int64_t lo, int64_t hi) -> std::optional<int64_t> {
    if (!is_whole(v)) return std::nullopt;
    const int64_t n = whole(v);
    return n < lo || n > hi ? std::nullopt : std::optional(n);
  };
  switch (f->cpp_type()) {
    case FD::CPPTYPE_INT32: {
      auto n = integer(INT32_MIN, INT32_MAX);
      if (!n) return fail(error, path, "a 32-bit integer", v);
      rep ? r->AddInt32(&m, f, static_cast<int32_t>(*n)) : r->SetInt32(&m, f, static_cast<int32_t>(*n));
      return true;
    }
    case FD::CPPTYPE_INT64: {
      auto n = integer(INT64_MIN, INT64_MAX);
      if (!n) return fail(error, path, "an integer", v);
      rep ? r->AddInt64(&m, f, *n) : r->SetInt64(&m, f, *n);
      return true;
    }
    case FD::CPPTYPE_UINT32:
    case FD::CPPTYPE_UINT64: {
      auto n = integer(0, INT64_MAX);
      if (!n) return fail(error, path, "a non-negative integer", v);
      if (f->cpp_type() == FD::CPPTYPE_UINT32) rep ? r->AddUInt32(&m, f, static_cast<uint32_t>(*n)) : r->SetUInt32(&m, f, static_cast<uint32_t>(*n));
      else rep ? r->AddUInt64(&m, f, static_cast<uint64_t>(*n)) : r->SetUInt64(&m, f, static_cast<uint64_t>(*n));
      return true;
    }
    case FD::CPPTYPE_DOUBLE:
    case FD::CPPTYPE_FLOAT: {
      if (!v.is_number()) return fail(error, path, "a number", v);
      const double x = v.as_number().to_double();
      if (f->cpp_type() == FD::CPPTYPE_DOUBLE) rep ? r->AddDouble(&m, f, x) : r->SetDouble(&m, f, x);
      else rep ? r->AddFloat(&m, f, static_cast<float>(x)) : r->SetFloat(&m, f, static_cast<float>(x));
      return true;
    }
    case FD::CPPTYPE_BOOL:
      if (!v.is_boolean()) return fail(error, path, "true or false", v);
      rep ? r->AddBool(&m, f, v.as_bool()) : r->SetBool(&m, f, v.as_bool());
      return true;
    case FD::CPPTYPE_ENUM: {
      const auto* e = v.is_string() ? f->enum_type()->FindValueByName(v.as_string()) : nullptr;
      if (!e) return fail(error, path, "one of " + f->enum_type()->name() + "'s names", v);
      rep ? r->AddEnum(&m, f, e) : r->SetEnum(&m, f, e);
      return true;
    }
    case FD::CPPTYPE_STRING: {
      if (!v.is_string()) return fail(error, path, f->type() == FD::TYPE_BYTES ? "base64 data (a string)" : "a string", v);
      std::string s = f->type() == FD::TYPE_BYTES ? kube::base64_decode(v.as_string()) : v.as_string();
      rep ? r->AddString(&m, f, std::move(s)) : r->SetString(&m, f, std::move(s));
      return true;
    }
    case FD::CPPTYPE_MESSAGE: {
      pb::Message* sub = rep ? r->AddMessage(&m, f) : r->MutableMessage(&m, f);
      return fill_special(v, *sub, form_of(f->message_type()), path, error);
    }
  }
  return true;
}

bool fill_message(const value& v, pb::Message& m, const std::string& path, std::string& error) {
  if (!v.is_object()) return fail(error, path.empty() ? "the object" : path, "an object", v);
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  const std::string prefix = path.empty() ? "" : path + ".";
  for (int k = 0; k < d->field_count(); ++k) {
    const FD* f = d->field(k);
    if (is_inline(f)) {
      if (!fill_message(v, *r->MutableMessage(&m, f), path, error)) return false;
      continue;
    }
    const auto& members = v.as_object();
    const auto it = members.find(f->name());
    if (it == members.end() || it->second.is_null()) continue;
    const value& member = it->second;
    const std::string here = prefix + f->name();
    if (f->is_map()) {
      if (!member.is_object()) return fail(error, here, "an object", member);
      const FD* key = f->message_type()->map_key();
      const FD* val = f->message_type()->map_value();
      for (const auto& [k2, v2] : member.as_object()) {
        pb::Message* entry = r->AddMessage(&m, f);
        entry->GetReflection()->SetString(entry, key, k2);
        if (!fill_field(v2, *entry, val, here + "[" + k2 + "]", error)) return false;
      }
    } else if (f->is_repeated()) {
      if (!member.is_array()) return fail(error, here, "an array", member);
      const auto& a = member.as_array();
      for (size_t i = 0; i < a.size(); ++i)
        if (!a.at(i).is_null() && !fill_field(a.at(i), m, f, here + "[" + std::to_string(i) + "]", error)) return false;
    } else if (!fill_field(member, m, f, here, error)) {
      return false;
    }
  }
  return true;
}

}  // namespace

value to_json(const pb::Message& message) { return message_json(message); }

bool from_json(const value& object, pb::Message& message, std::string& error) {
  return fill_message(object, message, "", error);
}

}  // namespace nonevent::sim::proto
