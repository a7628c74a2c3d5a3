#pragma once
// Kubernetes' protobuf schemas: the 1.32 generated.proto files of k8s.io/api and
// k8s.io/apimachinery (third_party/k8s-proto, Apache 2.0), compiled by protoc at build time
// into a descriptor set the binary carries, and loaded once into a DescriptorPool. Messages
// are made by reflection (DynamicMessage), so every built-in type speaks protobuf with no
// generated code; proto_json.h maps them to and from the JSON the API serves.
#include <memory>
#include <string_view>

namespace google::protobuf {
class Descriptor;
class Message;
}  // namespace google::protobuf

namespace nonevent::sim::proto {

// The message an object of this apiVersion and kind is sent as: k8s.io.api.<group>.<version>
// .<Kind> (the core group is "core", a group's package is its first DNS label, as
// k8s.io/api's directories are), else meta/v1's (Status, DeleteOptions, APIResourceList...).
// Null when Kubernetes has none: custom resources, Table, and groups 1.32 serves only as beta.
const google::protobuf::Descriptor* message_for(std::string_view api_version, std::string_view kind);
// A message by its full name (k8s.io.apimachinery.pkg.runtime.Unknown); null if unknown.
const google::protobuf::Descriptor* message_named(std::string_view full_name);
// A new, empty message of the type.
std::unique_ptr<google::protobuf::Message> new_message(const google::protobuf::Descriptor* type);

}  // namespace nonevent::sim::proto
