#pragma once
// A Kubernetes protobuf message <-> the JSON the API serves for it, by reflection over the
// schema (proto_schemas.h), the way k8s.io/apimachinery's Go types marshal both:
// - field names are the JSON names (k8s.io/api's generated.proto are written so);
// - special types: resource.Quantity <-> a string (a JSON number is read as one),
//   intstr.IntOrString <-> a number or a string, meta/v1 Time <-> RFC 3339 (an empty Time is
//   absent, as Go's zero time is null), MicroTime <-> RFC 3339 with microseconds, Duration <->
//   "1m30s", runtime.RawExtension and meta/v1 FieldsV1 <-> the JSON they hold, Verbs and
//   ExtraValue <-> arrays of strings; bytes <-> base64;
// - Go's `json:",inline"` fields (Volume's VolumeSource, Probe's handler, ...) put their
//   members in the parent object;
// - proto2 presence: an unset field is absent and a set one present, except an empty
//   string: Go clients write one for every unset non-pointer string field, and Go's JSON
//   leaves them out (omitempty), so a body from kubectl reads as kubectl's JSON would.
#include <cpprest/json.h>

#include <string>

namespace google::protobuf {
class Message;
}

namespace nonevent::sim::proto {

web::json::value to_json(const google::protobuf::Message& message);
// Sets the message's fields from a JSON object. Members its schema lacks (apiVersion, kind,
// fields newer than 1.32) are left out, as kube-apiserver prunes them. False, with `error`
// naming the field path, at the first value of the wrong type.
bool from_json(const web::json::value& object, google::protobuf::Message& message, std::string& error);

}  // namespace nonevent::sim::proto
