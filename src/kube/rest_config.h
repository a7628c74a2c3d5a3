#pragma once
// Where the API server is and how to authenticate: the product of a kubeconfig or of the
// in-cluster environment. Building one is start-up configuration, so failures throw
// ConfigError with a message naming the file and field at fault.
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nonevent::kube {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A client.authentication.k8s.io exec credential plugin (users[].user.exec).
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // resolved against the kubeconfig's directory when relative
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool provide_cluster_info = false;
  std::string install_hint;
};

struct RestConfig {
  std::string server;                // https://host:port or http://host:port (no trailing /)
  std::string ca_pem;                // PEM bundle to verify the server; empty = system roots
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;       // SNI and the name verified, when not the server host
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;                 // static bearer token
  std::string token_file;            // re-read periodically (rotating service-account tokens)
  std::string username, password;    // basic auth (rare, still part of kubeconfig)
  std::optional<ExecConfig> exec;
  std::string context_name;          // for messages
  std::string default_namespace = "default";

  double qps = 20;      // controller-runtime's defaults for a manager's client
  int burst = 30;
  std::chrono::milliseconds request_timeout{30'000};
  std::string user_agent = "nonevent/0.1";
};

struct KubeconfigOptions {
  std::string kubeconfig_path;  // --kubeconfig; overrides KUBECONFIG
  std::string context;          // --context; overrides current-context
};

// Loads kubeconfig files the way kubectl does: an explicit path, else every file in
// KUBECONFIG (':'-separated) merged with first-wins for each named cluster/user/context and
// for current-context, else ~/.kube/config. Relative file paths resolve against the
// directory of the file that named them.
RestConfig load_kubeconfig(const KubeconfigOptions& opts);

// In-cluster config: KUBERNETES_SERVICE_HOST/PORT and the service-account files under
// `sa_dir` (token re-read as it rotates, ca.crt, namespace).
RestConfig load_in_cluster(const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");
bool in_cluster_available(const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// controller-runtime's order: --kubeconfig, KUBECONFIG, in-cluster, ~/.kube/config.
RestConfig load_default_config(const KubeconfigOptions& opts);

std::string read_file_or_throw(const std::string& path, const std::string& what);
std::string base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);

}  // namespace nonevent::kube
