#include "sim/protobuf_body.h"

#include <cstdint>
#include <string_view>

#include "kube/clock.h"

namespace nonevent::sim {

using web::json::value;

namespace {

// A protobuf message's fields, read one at a time.
class Reader {
 public:
  explicit Reader(std::string_view data) : d_(data) {}
  bool done() const { return pos_ >= d_.size(); }
  bool ok() const { return ok_; }
  // Next field: number and wire type; false at the end or on malformed input.
  bool next(uint32_t& field, uint32_t& wire) {
    if (done() || !ok_) return false;
    uint64_t key = varint();
    field = static_cast<uint32_t>(key >> 3);
    wire = static_cast<uint32_t>(key & 7);
    return ok_;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < d_.size(); shift += 7) {
      const auto b = static_cast<uint8_t>(d_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    if (!ok_ || n > d_.size() - pos_) {
      ok_ = false;
      return {};
    }
    auto out = d_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  void skip(uint32_t wire) {
    if (wire == 0) varint();
    else if (wire == 2) bytes();
    else if (wire == 1) pos_ += 8;
    else if (wire == 5) pos_ += 4;
    else ok_ = false;
    if (pos_ > d_.size()) ok_ = false;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
  bool ok_ = true;
};

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {t[n >> 18], t[(n >> 12) & 63], t[(n >> 6) & 63], t[n & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t n = uint8_t(in[i]) << 16;
    out += {t[n >> 18], t[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {t[n >> 18], t[(n >> 12) & 63], t[(n >> 6) & 63], '='};
  }
  return out;
}

// map<string, string|bytes> entry: key = 1, value = 2.
std::pair<std::string, std::string> map_entry(std::string_view entry) {
  Reader r(entry);
  std::pair<std::string, std::string> kv;
  uint32_t f, w;
  while (r.next(f, w)) {
    if (f == 1 && w == 2) kv.first = std::string(r.bytes());
    else if (f == 2 && w == 2) kv.second = std::string(r.bytes());
    else r.skip(w);
  }
  return kv;
}

std::string timestamp(std::string_view msg) {
  Reader r(msg);
  int64_t seconds = 0;
  uint32_t f, w;
  while (r.next(f, w)) {
    if (f == 1 && w == 0) seconds = static_cast<int64_t>(r.varint());
    else r.skip(w);
  }
  return kube::format_rfc3339(kube::TimePoint(std::chrono::seconds(seconds)));
}

value owner_reference(std::string_view msg) {
  Reader r(msg);
  value o = value::object();
  uint32_t f, w;
  while (r.next(f, w)) {
    if (w == 2 && f == 1) o["kind"] = value::string(std::string(r.bytes()));
    else if (w == 2 && f == 3) o["name"] = value::string(std::string(r.bytes()));
    else if (w == 2 && f == 4) o["uid"] = value::string(std::string(r.bytes()));
    else if (w == 2 && f == 5) o["apiVersion"] = value::string(std::string(r.bytes()));
    else if (w == 0 && f == 6) o["controller"] = value::boolean(r.varint() != 0);
    else if (w == 0 && f == 7) o["blockOwnerDeletion"] = value::boolean(r.varint() != 0);
    else r.skip(w);
  }
  return o;
}

// k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta (the fields a client sets).
value object_meta(std::string_view msg) {
  Reader r(msg);
  value m = value::object();
  uint32_t f, w;
  while (r.next(f, w)) {
    if (w == 2 && (f == 1 || f == 2 || f == 3 || f == 5 || f == 6)) {
      static const char* names[] = {"", "name", "generateName", "namespace", "", "uid", "resourceVersion"};
      const auto s = r.bytes();
      if (!s.empty()) m[names[f]] = value::string(std::string(s));
    } else if (w == 0 && f == 7) {
      m["generation"] = value::number(static_cast<int64_t>(r.varint()));
    } else if (w == 2 && (f == 11 || f == 12)) {
      auto [k, v] = map_entry(r.bytes());
      m[f == 11 ? "labels" : "annotations"][k] = value::string(v);
    } else if (w == 2 && f == 13) {
      auto& refs = m["ownerReferences"];
      if (refs.is_null()) refs = value::array();
      refs[refs.size()] = owner_reference(r.bytes());
    } else if (w == 2 && f == 14) {
      auto& fins = m["finalizers"];
      if (fins.is_null()) fins = value::array();
      fins[fins.size()] = value::string(std::string(r.bytes()));
    } else if (w == 2 && f == 8) {
      const auto t = timestamp(r.bytes());
      if (t != kube::format_rfc3339(kube::TimePoint{})) m["creationTimestamp"] = value::string(t);
    } else {
      r.skip(w);
    }
  }
  return m;
}

// v1.Secret: metadata 1, data 2 (bytes), type 3, stringData 4, immutable 5.
// v1.ConfigMap: metadata 1, data 2 (string), immutable 3, binaryData 4 (bytes).
// v1.Namespace: metadata 1, spec 2, status 3 (ignored: the server sets it).
std::optional<value> object(const std::string& kind, std::string_view raw, std::string& error) {
  Reader r(raw);
  value o = value::object();
  o["apiVersion"] = value::string("v1");
  o["kind"] = value::string(kind);
  uint32_t f, w;
  while (r.next(f, w)) {
    if (f == 1 && w == 2) {
      o["metadata"] = object_meta(r.bytes());
    } else if (kind == "Secret" && w == 2 && (f == 2 || f == 4)) {
      auto [k, v] = map_entry(r.bytes());
      if (f == 2) o["data"][k] = value::string(base64(v));
      else o["stringData"][k] = value::string(v);
    } else if (kind == "Secret" && w == 2 && f == 3) {
      o["type"] = value::string(std::string(r.bytes()));
    } else if (kind == "ConfigMap" && w == 2 && (f == 2 || f == 4)) {
      auto [k, v] = map_entry(r.bytes());
      if (f == 2) o["data"][k] = value::string(v);
      else o["binaryData"][k] = value::string(base64(v));
    } else if (kind == "Namespace" && f == 2 && w == 2) {
      // NamespaceSpec: finalizers 1.
      Reader spec(r.bytes());
      uint32_t sf, sw;
      value fins = value::array();
      while (spec.next(sf, sw)) {
        if (sf == 1 && sw == 2) fins[fins.size()] = value::string(std::string(spec.bytes()));
        else spec.skip(sw);
      }
      if (fins.size() > 0) o["spec"]["finalizers"] = fins;
    } else if (w == 0 && ((kind == "Secret" && f == 5) || (kind == "ConfigMap" && f == 3))) {
      o["immutable"] = value::boolean(r.varint() != 0);
    } else {
      r.skip(w);
    }
  }
  if (!r.ok()) {
    error = "malformed protobuf " + kind;
    return std::nullopt;
  }
  return o;
}

}  // namespace

bool is_protobuf_content_type(const std::string& ct) { return ct.rfind("application/vnd.kubernetes.protobuf", 0) == 0; }

std::optional<value> decode_protobuf_body(const std::string& body, std::string& error) {
  if (body.size() < 4 || body.compare(0, 4, std::string("k8s\0", 4)) != 0) {
    error = "a protobuf body must start with the k8s magic";
    return std::nullopt;
  }
  // runtime.Unknown: typeMeta 1 {apiVersion 1, kind 2}, raw 2, contentEncoding 3, contentType 4.
  Reader r(std::string_view(body).substr(4));
  std::string api_version, kind;
  std::string_view raw;
  uint32_t f, w;
  while (r.next(f, w)) {
    if (f == 1 && w == 2) {
      Reader tm(r.bytes());
      uint32_t tf, tw;
      while (tm.next(tf, tw)) {
        if (tf == 1 && tw == 2) api_version = std::string(tm.bytes());
        else if (tf == 2 && tw == 2) kind = std::string(tm.bytes());
        else tm.skip(tw);
      }
    } else if (f == 2 && w == 2) {
      raw = r.bytes();
    } else {
      r.skip(w);
    }
  }
  if (!r.ok()) {
    error = "malformed protobuf envelope";
    return std::nullopt;
  }
  if (api_version != "v1" || (kind != "Secret" && kind != "ConfigMap" && kind != "Namespace")) {
    error = "the embedded cluster reads protobuf only for v1 Secret, ConfigMap and Namespace, not " + api_version + " " + kind +
            "; send JSON";
    return std::nullopt;
  }
  return object(kind, raw, error);
}

}  // namespace nonevent::sim
