// The embedded cluster's protobuf wire (sim/protobuf_body.h): every built-in kind read and
// written through Kubernetes' own schemas, as kube-apiserver and client-go do.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sim/protobuf_body.h"
#include "unit/sim/cluster_fixture.h"

namespace nonevent::sim {
namespace {

using web::json::value;

value fixtures() {
  std::ifstream in(std::string(NONEVENT_SOURCE_DIR) + "/tests/fixtures/protobuf/builtin_objects.json");
  std::stringstream s;
  s << in.rdbuf();
  return value::parse(s.str());
}

// One varint-keyed length-delimited field, as any protobuf encoder writes it.
std::string field(int number, const std::string& bytes) {
  std::string out(1, static_cast<char>(number << 3 | 2));
  size_t n = bytes.size();
  do {
    char b = static_cast<char>(n & 0x7f);
    n >>= 7;
    out += static_cast<char>(b | (n ? 0x80 : 0));
  } while (n);
  return out + bytes;
}

// Realistic objects of every kind the fixture file holds (Pod with volumes, probes and env
// sources, Node, the apps kinds, PDB, Eviction, Service, ConfigMap and Secret with bytes,
// Events with MicroTime, Lease, Job, PV, RBAC, Ingress, Status, a List, Scale, DeleteOptions)
// survive JSON -> protobuf -> JSON unchanged: each special type (Quantity, IntOrString, Time,
// MicroTime, RawExtension, FieldsV1, bytes) and every inline field is mapped both ways.
TEST(Protobuf, EveryBuiltinKindRoundTripsThroughItsSchema) {
  const value all = fixtures();
  ASSERT_GE(all.size(), 20u);
  for (const auto& object : all.as_array()) {
    const std::string what = object.at("apiVersion").as_string() + " " + object.at("kind").as_string();
    std::string error;
    const auto body = encode_protobuf_body(object, error);
    ASSERT_TRUE(body) << what << ": " << error;
    ASSERT_EQ(body->substr(0, 4), std::string("k8s\0", 4)) << what;
    const auto back = decode_protobuf_body(*body, error);
    ASSERT_TRUE(back) << what << ": " << error;
    EXPECT_EQ(back->serialize(), object.serialize()) << what;
  }
}

// What a Go client writes: every non-pointer field, set or not. The zero Time is an empty
// message and unset strings are empty; both read back as absent, as kube-apiserver's JSON has
// them, so defaulting sees them unset. Pointer fields set to zero (replicas: 0) stay.
TEST(Protobuf, AGoClientsZeroValuesReadAsUnset) {
  // apps/v1 Deployment: metadata {name "web", namespace "", creationTimestamp {}},
  // spec {replicas 0}. ObjectMeta: name 1, namespace 3, creationTimestamp 8; DeploymentSpec: replicas 1.
  const std::string meta = field(1, "web") + field(3, "") + field(8, "");
  const std::string spec = std::string("\x08\x00", 2);
  const std::string deployment = field(1, meta) + field(2, spec);
  const std::string type_meta = field(1, "apps/v1") + field(2, "Deployment");
  const std::string body = std::string("k8s\0", 4) + field(1, type_meta) + field(2, deployment) + field(3, "") + field(4, "");
  std::string error;
  const auto o = decode_protobuf_body(body, error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->serialize(), R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":0}})");
}

TEST(Protobuf, WhatCannotBeReadIsNamed) {
  std::string error;
  EXPECT_FALSE(decode_protobuf_body("{\"kind\":\"Pod\"}", error));
  EXPECT_NE(error.find("k8s magic"), std::string::npos) << error;
  const std::string cr = std::string("k8s\0", 4) + field(1, field(1, "nonevent.dev/v1alpha1") + field(2, "MaintenanceWindow"));
  EXPECT_FALSE(decode_protobuf_body(cr, error));
  EXPECT_NE(error.find("no protobuf schema for nonevent.dev/v1alpha1 MaintenanceWindow"), std::string::npos) << error;
  // A look-alike group is a custom resource, not apps/v1.
  EXPECT_FALSE(encode_protobuf_body(value::parse(R"({"apiVersion":"apps.example.com/v1","kind":"Deployment"})"), error));
  // A value of the wrong type names its field.
  EXPECT_FALSE(encode_protobuf_body(
      value::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"c","ports":[{"containerPort":"80"}]}]}}}})"),
      error));
  EXPECT_EQ(error, R"(spec.template.spec.containers[0].ports[0].containerPort: expected a 32-bit integer, got "80")");
}

TEST(Protobuf, AcceptHeadersAreReadAsClientGoWritesThem) {
  bool only = false;
  EXPECT_TRUE(prefers_protobuf("application/vnd.kubernetes.protobuf,application/json", &only));
  EXPECT_FALSE(only);
  EXPECT_TRUE(prefers_protobuf("application/vnd.kubernetes.protobuf", &only));
  EXPECT_TRUE(only);
  EXPECT_FALSE(prefers_protobuf("application/json, application/vnd.kubernetes.protobuf"));
  EXPECT_FALSE(prefers_protobuf("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json"));
  EXPECT_FALSE(prefers_protobuf(""));
}

// Through the server: a protobuf create of a kind the old hand decoder refused (apps/v1
// Deployment), answered in protobuf to a client that asks for it, in JSON to one that
// does not; errors come back as a protobuf Status.
// `kubectl create serviceaccount` sends a protobuf ServiceAccount with nothing but metadata
// (no spec, no status): it was refused 500 "Key not found".
TEST(Protobuf, AKindWithNoSpecIsCreatedFromItsMetadataAlone) {
  Cluster k;
  k.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n");
  std::string error;
  const auto body = encode_protobuf_body(
      value::parse(R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"prometheus","namespace":"monitoring"}})"), error);
  ASSERT_TRUE(body) << error;
  ApiRequest create{.method = "POST", .path = "/api/v1/namespaces/monitoring/serviceaccounts", .body = *body};
  create.headers = {{"content-type", kProtobufContentType}, {"accept", "application/json"}};
  create.query = {{"fieldManager", "kubectl-create"}, {"fieldValidation", "Strict"}};
  auto r = k.api->handle(create);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST(Protobuf, TheServerReadsAndAnswersProtobufForBuiltinKinds) {
  Cluster k;
  k.apply(web_yaml(1));
  std::string error;
  const auto body = encode_protobuf_body(
      value::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"shop"},)"
                   R"("spec":{"replicas":2,"selector":{"matchLabels":{"app":"api"}},"template":{"metadata":{"labels":{"app":"api"}},)"
                   R"("spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"100m"}}}]}}}})"),
      error);
  ASSERT_TRUE(body) << error;
  ApiRequest create{.method = "POST", .path = "/apis/apps/v1/namespaces/shop/deployments", .body = *body};
  create.headers = {{"content-type", kProtobufContentType}, {"accept", "application/vnd.kubernetes.protobuf, */*"}};
  auto r = k.api->handle(create);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, kProtobufContentType);
  const auto created = decode_protobuf_body(r.body, error);
  ASSERT_TRUE(created) << error;
  EXPECT_EQ(json::str(*created, {"metadata", "name"}), "api");
  EXPECT_NE(json::str(*created, {"metadata", "uid"}), "");
  EXPECT_EQ(created->at("spec").at("template").at("spec").at("containers").at(0).at("resources").serialize(), R"({"requests":{"cpu":"100m"}})");
  EXPECT_EQ(json::num(k.get("apps/deployments", "shop", "api"), {"spec", "replicas"}), 2);

  ApiRequest get{.method = "GET", .path = "/apis/apps/v1/namespaces/shop/deployments/api"};
  get.headers = {{"accept", "application/json"}};
  EXPECT_EQ(k.api->handle(get).content_type, "application/json");

  create.headers["accept"] = kProtobufContentType;
  auto dup = k.api->handle(create);
  ASSERT_EQ(dup.status, 409);
  const auto status = decode_protobuf_body(dup.body, error);
  ASSERT_TRUE(status) << error;
  EXPECT_EQ(json::str(*status, {"kind"}), "Status");
  EXPECT_EQ(json::str(*status, {"reason"}), "AlreadyExists");
  EXPECT_EQ(json::str(*status, {"details", "group"}), "apps");

  // A list answers as its List kind.
  ApiRequest list{.method = "GET", .path = "/apis/apps/v1/namespaces/shop/deployments"};
  list.headers = {{"accept", kProtobufContentType}};
  auto l = k.api->handle(list);
  ASSERT_EQ(l.content_type, kProtobufContentType);
  const auto items = decode_protobuf_body(l.body, error);
  ASSERT_TRUE(items) << error;
  EXPECT_EQ(json::str(*items, {"kind"}), "DeploymentList");
  EXPECT_EQ(items->at("items").size(), 2u);
}

}  // namespace
}  // namespace nonevent::sim
