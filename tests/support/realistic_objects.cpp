#include "support/realistic_objects.h"

#include <cstdio>

namespace nonevent::testing {

namespace {
std::string uid_for(const std::string& seed, int n) {
  unsigned long h = 1469598103934665603UL;
  for (char c : seed) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211UL;
  h ^= static_cast<unsigned long>(n) * 0x9E3779B97F4A7C15UL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08lx-%04lx-4%03lx-a%03lx-%012lx", h & 0xffffffff, (h >> 32) & 0xffff,
                (h >> 48) & 0xfff, static_cast<unsigned long>(n) & 0xfff, (h * 31 + static_cast<unsigned long>(n)) & 0xffffffffffffUL);
  return buf;
}
}  // namespace

std::string realistic_pod_json(const PodShape& s) {
  const std::string hash = "7d9f8c6b5";
  const std::string rs = s.workload + "-" + hash;
  char idx[16];
  std::snprintf(idx, sizeof idx, "%05x", s.index);
  const std::string name = rs + "-" + idx;
  const std::string uid = uid_for(s.ns + name, s.index);
  const std::string rs_uid = uid_for(s.ns + rs, 0);
  const std::string rv = std::to_string(s.resource_version);
  std::string spread;
  if (s.spread_constraint)
    spread = R"(,"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":")" + s.zone_key +
             R"(","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":")" +
             s.workload + R"("}},"matchLabelKeys":["pod-template-hash"]}])";
  const bool running = !s.node.empty();
  std::string j;
  j.reserve(6000);
  j += R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name + R"(","generateName":")" + rs +
       R"(-","namespace":")" + s.ns + R"(","uid":")" + uid + R"(","resourceVersion":")" + rv +
       R"(","creationTimestamp":"2026-11-20T08:15:42Z","labels":{"app":")" + s.workload +
       R"(","app.kubernetes.io/name":")" + s.workload + R"(","app.kubernetes.io/part-of":"storefront","app.kubernetes.io/version":"4.18.2","pod-template-hash":")" + hash +
       R"(","team":"payments","tier":"backend"},"annotations":{"prometheus.io/scrape":"true","prometheus.io/port":"9090","prometheus.io/path":"/metrics","checksum/config":"3f1d5c0e9b7a2f4e6d8c1b3a5e7f9d2c4b6a8e0f1d3c5b7a9e2f4d6c8b0a1e3f","kubectl.kubernetes.io/restartedAt":"2026-11-19T22:04:11Z","cluster-autoscaler.kubernetes.io/safe-to-evict":"true"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":")" + rs +
       R"(","uid":")" + rs_uid + R"(","controller":true,"blockOwnerDeletion":true}],"managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"2026-11-20T08:15:42Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{},"f:checksum/config":{},"f:prometheus.io/path":{},"f:prometheus.io/port":{},"f:prometheus.io/scrape":{}},"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{},"f:team":{},"f:tier":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\")" + rs_uid +
       R"(\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{".":{},"f:limits":{},"f:requests":{}}}},"f:topologySpreadConstraints":{}}}},{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2026-11-20T08:15:51Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{},"f:containerStatuses":{},"f:hostIP":{},"f:phase":{},"f:podIP":{},"f:startTime":{}}},"subresource":"status"}]},)";
  j += R"("spec":{"volumes":[{"name":"config","configMap":{"name":")" + s.workload +
       R"(-config","defaultMode":420}},{"name":"kube-api-access-x7k2p","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],"containers":[{"name":"app","image":"registry.example.com/storefront/)" + s.workload +
       R"(:4.18.2","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"name":"metrics","containerPort":9090,"protocol":"TCP"}],"env":[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_HOST","value":"postgres.payments.svc.cluster.local"},{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},{"name":"GOMAXPROCS","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu","divisor":"1"}}}],"resources":{"limits":{"cpu":"1","memory":"512Mi"},"requests":{"cpu":"250m","memory":"256Mi"}},"volumeMounts":[{"name":"config","readOnly":true,"mountPath":"/etc/app"},{"name":"kube-api-access-x7k2p","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],"livenessProbe":{"httpGet":{"path":"/healthz","port":"http","scheme":"HTTP"},"initialDelaySeconds":10,"timeoutSeconds":2,"periodSeconds":10,"successThreshold":1,"failureThreshold":3},"readinessProbe":{"httpGet":{"path":"/ready","port":"http","scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":5,"successThreshold":1,"failureThreshold":3},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent","securityContext":{"capabilities":{"drop":["ALL"]},"runAsNonRoot":true,"readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false}},{"name":"proxy","image":"registry.example.com/mesh/proxy:1.22.3","args":["proxy","sidecar","--concurrency","2"],"resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"storefront","serviceAccount":"storefront",)";
  if (running) j += R"("nodeName":")" + s.node + R"(",)";
  j += R"("securityContext":{"runAsUser":10001,"fsGroup":10001,"seccompProfile":{"type":"RuntimeDefault"}},"schedulerName":"default-scheduler","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,"preemptionPolicy":"PreemptLowerPriority")" +
       spread + "},";
  if (running) {
    j += R"("status":{"phase":"Running","conditions":[{"type":"PodReadyToStartContainers","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-20T08:15:45Z"},{"type":"Initialized","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-20T08:15:42Z"},{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-20T08:15:51Z"},{"type":"ContainersReady","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-20T08:15:51Z"},{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-20T08:15:42Z"}],"hostIP":"10.12.4.17","hostIPs":[{"ip":"10.12.4.17"}],"podIP":"100.64.3.201","podIPs":[{"ip":"100.64.3.201"}],"startTime":"2026-11-20T08:15:42Z","containerStatuses":[{"name":"app","state":{"running":{"startedAt":"2026-11-20T08:15:44Z"}},"lastState":{},"ready":true,"restartCount":0,"image":"registry.example.com/storefront/)" + s.workload +
         R"(:4.18.2","imageID":"registry.example.com/storefront/)" + s.workload +
         R"(@sha256:9b2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d","containerID":"containerd://5f3a1c9e7b5d3f1a9c7e5b3d1f9a7c5e3b1d9f7a5c3e1b9d7f5a3c1e9b7d5f3a","started":true},{"name":"proxy","state":{"running":{"startedAt":"2026-11-20T08:15:45Z"}},"lastState":{},"ready":true,"restartCount":0,"image":"registry.example.com/mesh/proxy:1.22.3","imageID":"registry.example.com/mesh/proxy@sha256:1a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a","containerID":"containerd://0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d","started":true}],"qosClass":"Burstable"}})";
  } else {
    j += R"("status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","lastProbeTime":null,"lastTransitionTime":"2026-11-20T08:15:42Z","reason":"Unschedulable","message":"0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints."}],"qosClass":"Burstable"}})";
  }
  return j;
}

std::string realistic_node_json(const std::string& name, const std::string& zone, long rv) {
  return R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name + R"(","uid":")" + uid_for(name, 7) +
         R"(","resourceVersion":")" + std::to_string(rv) +
         R"(","creationTimestamp":"2026-11-01T00:00:00Z","labels":{"kubernetes.io/hostname":")" + name +
         R"(","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","node.kubernetes.io/instance-type":"m6i.4xlarge","topology.kubernetes.io/region":"us-east-1","topology.kubernetes.io/zone":")" + zone +
         R"(","nonevent.dev/image-version":"bash-4.3-24"},"annotations":{"node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"}},"spec":{"providerID":"aws:///)" + zone + "/i-" + name +
         R"("},"status":{"capacity":{"cpu":"16","memory":"65012Mi","pods":"110","ephemeral-storage":"104845292Ki"},"allocatable":{"cpu":"15890m","memory":"63000Mi","pods":"110","ephemeral-storage":"96625420948"},"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"DiskPressure","status":"False"},{"type":"PIDPressure","status":"False"},{"type":"Ready","status":"True","reason":"KubeletReady"}],"nodeInfo":{"osImage":"Debian GNU/Linux 12 bookworm","kernelVersion":"6.1.0-27-cloud-amd64","kubeletVersion":"v1.32.4","containerRuntimeVersion":"containerd://1.7.24","architecture":"amd64","operatingSystem":"linux"}}})";
}

std::string list_json(const std::string& kind, const std::string& rv, const std::string& continue_token,
                      const std::string& items_joined) {
  std::string meta = R"({"resourceVersion":")" + rv + "\"";
  if (!continue_token.empty()) meta += R"(,"continue":")" + continue_token + "\"";
  meta += "}";
  return R"({"kind":")" + kind + R"(","apiVersion":"v1","metadata":)" + meta + R"(,"items":[)" + items_joined + "]}";
}

std::string watch_event_json(const std::string& type, const std::string& object_json) {
  return R"({"type":")" + type + R"(","object":)" + object_json + "}\n";
}

std::string bookmark_json(const std::string& kind, long rv) {
  return R"({"type":"BOOKMARK","object":{"kind":")" + kind + R"(","apiVersion":"v1","metadata":{"resourceVersion":")" +
         std::to_string(rv) + R"(","annotations":{"k8s.io/initial-events-end":"true"}}}})" + "\n";
}

}  // namespace nonevent::testing
