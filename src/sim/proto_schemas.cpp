#include "sim/proto_schemas.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>

#include <mutex>
#include <stdexcept>
#include <string>

// The descriptor set protoc made from third_party/k8s-proto (src/sim/CMakeLists.txt), carried
// in the binary so an installed `nonevent` needs no schema files beside it.
asm(R"(
  .section .rodata
  .global nonevent_k8s_descriptors_begin
  .global nonevent_k8s_descriptors_end
  .balign 16
nonevent_k8s_descriptors_begin:
  .incbin ")" NONEVENT_K8S_DESCRIPTORS R"("
nonevent_k8s_descriptors_end:
  .previous
)");
extern "C" const char nonevent_k8s_descriptors_begin[];
extern "C" const char nonevent_k8s_descriptors_end[];

namespace nonevent::sim::proto {

namespace pb = google::protobuf;

namespace {

struct Schemas {
  pb::DescriptorPool pool;
  pb::DynamicMessageFactory factory{&pool};

  Schemas() {
    pb::FileDescriptorSet set;
    if (!set.ParseFromArray(nonevent_k8s_descriptors_begin,
                            static_cast<int>(nonevent_k8s_descriptors_end - nonevent_k8s_descriptors_begin)))
      throw std::runtime_error("the Kubernetes protobuf descriptor set built into this binary does not parse");
    // protoc --include_imports writes each file after the files it imports.
    for (const auto& file : set.file())
      if (!pool.BuildFile(file)) throw std::runtime_error("Kubernetes protobuf schema " + file.name() + " does not load");
  }
};

Schemas& schemas() {
  static Schemas s;  // built on first use: a server nobody speaks protobuf to never pays for it
  return s;
}

}  // namespace

const pb::Descriptor* message_named(std::string_view full_name) {
  return schemas().pool.FindMessageTypeByName(std::string(full_name));
}

const pb::Descriptor* message_for(std::string_view api_version, std::string_view kind) {
  const auto slash = api_version.find('/');
  const std::string_view group = slash == std::string_view::npos ? "" : api_version.substr(0, slash);
  const std::string_view version = slash == std::string_view::npos ? api_version : api_version.substr(slash + 1);
  // Only Kubernetes' own groups: apps.example.com's Deployment is a custom resource.
  const bool kubernetes_group = group.find('.') == std::string_view::npos || group.ends_with(".k8s.io");
  if (!kubernetes_group) return nullptr;
  const std::string package = group.empty() ? "core" : std::string(group.substr(0, group.find('.')));
  if (group != "meta.k8s.io")
    if (auto* d = message_named("k8s.io.api." + package + "." + std::string(version) + "." + std::string(kind))) return d;
  // Status, DeleteOptions, the discovery lists: meta/v1's, whichever group version names them.
  return message_named("k8s.io.apimachinery.pkg.apis.meta.v1." + std::string(kind));
}

std::unique_ptr<pb::Message> new_message(const pb::Descriptor* type) {
  static std::mutex mu;  // DynamicMessageFactory::GetPrototype is not thread-safe
  std::lock_guard g(mu);
  return std::unique_ptr<pb::Message>(schemas().factory.GetPrototype(type)->New());
}

}  // namespace nonevent::sim::proto
