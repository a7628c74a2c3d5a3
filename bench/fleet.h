#pragma once
// The workload mix both cluster benchmarks boot: Deployments of 30 replicas in 20 team
// namespaces, every other one zone-spread (DoNotSchedule, nodeTaintsPolicy Honor), each with
// a PDB of maxUnavailable 1. Header-only: benchmarks are single-file programs.
#include <initializer_list>
#include <string>
#include <string_view>

#include "sim/api_server.h"

namespace nonevent::bench {

inline constexpr long kReplicas = 30;

// Creates `deployments` Deployments ("svc-<n>", app label the same) and their PDBs. Written
// as JSON, not YAML: parsing 5,000 YAML documents was 2% of a sim_scale boot, time that is
// the harness's, not the cluster's.
inline void add_fleet_workloads(sim::ApiServer& api, long deployments) {
  // Appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) about long chains of
  // literal + std::string.
  auto text = [](std::initializer_list<std::string_view> parts) {
    std::string out;
    for (auto p : parts) out.append(p);
    return out;
  };
  const std::string replicas = std::to_string(kReplicas);
  for (long d = 0; d < deployments; ++d) {
    const std::string name = "svc-" + std::to_string(d), ns = "team-" + std::to_string(d % 20);
    const std::string meta = text({R"("metadata":{"name":")", name, R"(","namespace":")", ns, R"("})"});
    const std::string selector = text({R"({"matchLabels":{"app":")", name, R"("}})"});
    const std::string spread =
        d % 2 != 0 ? std::string()
                   : text({R"(,"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone",)",
                           R"("whenUnsatisfiable":"DoNotSchedule","nodeTaintsPolicy":"Honor","labelSelector":)", selector, "}]"});
    const std::string deployment =
        text({R"({"apiVersion":"apps/v1","kind":"Deployment",)", meta, R"(,"spec":{"replicas":)", replicas, R"(,"selector":)",
              selector, R"(,"template":{"metadata":{"labels":{"app":")", name, R"("}},"spec":{)",
              R"("containers":[{"name":"c","image":"app","resources":{"requests":{"cpu":"250m","memory":"512Mi"}}}])", spread,
              "}}}}"});
    const std::string pdb =
        text({R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget",)", meta, R"(,"spec":{"maxUnavailable":1,"selector":)",
              selector, "}}"});
    for (const auto* doc : {&deployment, &pdb}) api.create_object(web::json::value::parse(*doc));
  }
}

}  // namespace nonevent::bench
