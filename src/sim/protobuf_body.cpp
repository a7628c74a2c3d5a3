#include "sim/protobuf_body.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

#include <string_view>

#include "sim/proto_json.h"
#include "sim/proto_schemas.h"

namespace nonevent::sim {

namespace pb = google::protobuf;
using web::json::value;

namespace {

constexpr std::string_view kMagic{"k8s\0", 4};
constexpr const char* kUnknown = "k8s.io.apimachinery.pkg.runtime.Unknown";

std::string string_member(const value& o, const char* key) {
  return o.has_string_field(key) ? o.at(key).as_string() : "";
}

// One media type of an Accept or Content-Type list, without its parameters; `params` gets them.
std::string media_type(std::string_view item, std::string* params = nullptr) {
  const auto semi = item.find(';');
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
  };
  if (params) *params = semi == std::string_view::npos ? "" : trim(item.substr(semi + 1));
  return trim(item.substr(0, semi));
}

// Deterministic serialisation: map entries in key order, as Go's generated marshalers write them.
std::string serialize(const pb::Message& m) {
  std::string out;
  {
    pb::io::StringOutputStream raw(&out);
    pb::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace

bool is_protobuf_content_type(const std::string& ct) { return media_type(ct) == kProtobufContentType; }

bool prefers_protobuf(const std::string& accept, bool* only) {
  bool first = true, first_is_protobuf = false, json_too = false;
  std::string_view rest = accept;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string params;
    const std::string type = media_type(rest.substr(0, comma), &params);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (type.empty()) continue;
    // "as=Table" and the like ask for another object, not this one in another encoding.
    const bool plain_protobuf = type == kProtobufContentType && params.find("as=") == std::string::npos;
    if (first) first_is_protobuf = plain_protobuf;
    first = false;
    if (type == "application/json" || type == "*/*" || type == "application/*") json_too = true;
  }
  if (only) *only = first_is_protobuf && !json_too;
  return first_is_protobuf;
}

std::optional<value> decode_protobuf_body(const std::string& body, std::string& error) {
  if (body.size() < kMagic.size() || std::string_view(body).substr(0, kMagic.size()) != kMagic) {
    error = "a protobuf body must start with the k8s magic";
    return std::nullopt;
  }
  auto envelope = proto::new_message(proto::message_named(kUnknown));
  if (!envelope->ParseFromArray(body.data() + kMagic.size(), static_cast<int>(body.size() - kMagic.size()))) {
    error = "malformed protobuf envelope (runtime.Unknown)";
    return std::nullopt;
  }
  const auto* d = envelope->GetDescriptor();
  const auto* r = envelope->GetReflection();
  const auto& type_meta = r->GetMessage(*envelope, d->FindFieldByName("typeMeta"));
  const auto* tmd = type_meta.GetDescriptor();
  const std::string api_version = type_meta.GetReflection()->GetString(type_meta, tmd->FindFieldByName("apiVersion"));
  const std::string kind = type_meta.GetReflection()->GetString(type_meta, tmd->FindFieldByName("kind"));
  const auto* type = proto::message_for(api_version, kind);
  if (!type) {
    error = "no protobuf schema for " + (api_version.empty() ? std::string("(no apiVersion)") : api_version) + " " + kind +
            " (custom resources are JSON only); send JSON";
    return std::nullopt;
  }
  auto object = proto::new_message(type);
  const std::string raw = r->GetString(*envelope, d->FindFieldByName("raw"));
  if (!object->ParseFromString(raw)) {
    error = "malformed protobuf " + api_version + " " + kind;
    return std::nullopt;
  }
  value o = proto::to_json(*object);
  o["apiVersion"] = value::string(api_version);
  o["kind"] = value::string(kind);
  return o;
}

std::optional<std::string> encode_protobuf_body(const value& object, std::string& error) {
  const std::string api_version = string_member(object, "apiVersion"), kind = string_member(object, "kind");
  const auto* type = proto::message_for(api_version, kind);
  if (!type) {
    error = "no protobuf schema for " + api_version + " " + kind;
    return std::nullopt;
  }
  auto message = proto::new_message(type);
  if (!proto::from_json(object, *message, error)) return std::nullopt;
  auto envelope = proto::new_message(proto::message_named(kUnknown));
  const auto* d = envelope->GetDescriptor();
  const auto* r = envelope->GetReflection();
  auto* type_meta = r->MutableMessage(envelope.get(), d->FindFieldByName("typeMeta"));
  type_meta->GetReflection()->SetString(type_meta, type_meta->GetDescriptor()->FindFieldByName("apiVersion"), api_version);
  type_meta->GetReflection()->SetString(type_meta, type_meta->GetDescriptor()->FindFieldByName("kind"), kind);
  r->SetString(envelope.get(), d->FindFieldByName("raw"), serialize(*message));
  // kube-apiserver writes the two encoding fields, empty.
  r->SetString(envelope.get(), d->FindFieldByName("contentEncoding"), "");
  r->SetString(envelope.get(), d->FindFieldByName("contentType"), "");
  return std::string(kMagic) + serialize(*envelope);
}

namespace {
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_varint(out, (uint64_t{field} << 3) | 2);
  put_varint(out, bytes.size());
  out.append(bytes);
}
}  // namespace

std::optional<std::string> encode_protobuf_watch_frame(std::string_view json_event, std::string& error) {
  std::error_code ec;
  const value event = value::parse(std::string(json_event), ec);
  if (ec || !event.is_object() || !event.has_field("object")) {
    error = "a watch event that is not {type, object}";
    return std::nullopt;
  }
  auto object = encode_protobuf_body(event.at("object"), error);
  if (!object) return std::nullopt;
  std::string raw_extension;
  put_bytes(raw_extension, 1, *object);  // RawExtension.raw
  std::string message;
  put_bytes(message, 1, string_member(event, "type"));  // WatchEvent.type
  put_bytes(message, 2, raw_extension);                 // WatchEvent.object
  const auto n = static_cast<uint32_t>(message.size());
  std::string frame{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
  return frame + message;
}

}  // namespace nonevent::sim
