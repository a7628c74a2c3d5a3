// `nonevent operator`: the manager against any cluster (kubeconfig or in-cluster), with
// /metrics, /healthz and /readyz on one HTTP endpoint.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "commands.h"
#include "controllers/manager.h"
#include "flags.h"
#include "kube/log.h"
#include "kube/pki.h"
#include "kube/rest_config.h"
#include "observe/delegated_access.h"
#include "observe/operator_metrics.h"
#include "observe/probe_server.h"
#include "observe/prometheus_api.h"
#include "observe/resource_metrics.h"

namespace nonevent::cli {

namespace {

struct OperatorFlags {
  KubeconfigFlags kube;
  LogFlags log;
  bool leader_elect = false;
  std::string lease_namespace, namespace_, metrics_address = ":8080", health_address;
  bool metrics_secure = false;
  std::string metrics_cert_dir;
  std::string lease_duration = "15s", renew_deadline = "10s", retry_period = "2s";
  std::string kured_daemonset = "kube-system/kured";
  bool coordinate_kured = false;
  std::string patch_job_namespace;
  std::string kube_api_content_type = "application/json";
  observe::PrometheusOptions prometheus;
  std::string prometheus_timeout = "10s";
  controllers::InstallLimits limits;
  ClockFlags clock;
};

// The serving certificate of secure metrics: tls.crt and tls.key from --metrics-cert-dir (a
// mounted Secret, e.g. cert-manager's), or without it one made now and signed by a CA made now,
// as controller-runtime does (a scraper then skips verification or pins nothing).
observe::ProbeServerTls metrics_tls(const std::string& cert_dir) {
  if (cert_dir.empty()) {
    const auto ca = kube::make_ca("nonevent-metrics-ca");
    const char* host = std::getenv("HOSTNAME");
    std::vector<std::string> san{"DNS:localhost", "IP:127.0.0.1"};
    if (host && *host) san.push_back(std::string("DNS:") + host);
    const auto leaf = kube::make_leaf(ca, "nonevent-metrics", san);
    return {leaf.cert_pem + ca.cert_pem, leaf.key_pem};
  }
  auto read = [&](const char* name) {
    const auto path = std::filesystem::path(cert_dir) / name;
    std::ifstream in(path);
    if (!in) throw UsageError("--metrics-cert-dir: cannot read " + path.string() + " (want tls.crt and tls.key, as a kubernetes.io/tls Secret has)");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  return {read("tls.crt"), read("tls.key")};
}

int run_operator(const OperatorFlags& f) {
  configure_logging(f.log);
  // Flags are checked before anything touches the cluster.
  controllers::ManagerOptions opts;
  auto millis = [](const char* flag, const std::string& text) {
    return std::chrono::milliseconds(static_cast<long long>(positive_seconds(flag, text) * 1000));
  };
  opts.lease_duration = millis("--leader-elect-lease-duration", f.lease_duration);
  opts.renew_deadline = millis("--leader-elect-renew-deadline", f.renew_deadline);
  opts.retry_period = millis("--leader-elect-retry-period", f.retry_period);
  // As kube-controller-manager validates them: a leader must give up before its Lease can be taken.
  if (opts.lease_duration <= opts.renew_deadline)
    throw UsageError("--leader-elect-lease-duration (" + f.lease_duration + ") must be longer than --leader-elect-renew-deadline (" +
                     f.renew_deadline + ")");
  if (opts.renew_deadline <= opts.retry_period)
    throw UsageError("--leader-elect-renew-deadline (" + f.renew_deadline + ") must be longer than --leader-elect-retry-period (" +
                     f.retry_period + ")");
  if (!f.metrics_cert_dir.empty() && !f.metrics_secure) throw UsageError("--metrics-cert-dir needs --metrics-secure");
  if (!f.prometheus.url.empty()) {
    observe::PrometheusOptions prom = f.prometheus;
    prom.timeout = millis("--prometheus-timeout", f.prometheus_timeout);
    try {
      opts.prometheus = observe::make_prometheus_api(prom);
    } catch (const kube::ConfigError& e) {
      throw UsageError(e.what());
    }
    logging::info("operator", "health checks ask Prometheus", {{"url", prom.url}, {"timeout", f.prometheus_timeout}});
  } else if (!f.prometheus.ca_file.empty() || !f.prometheus.bearer_token_file.empty() || f.prometheus.insecure_skip_verify) {
    throw UsageError("--prometheus-ca-file, --prometheus-bearer-token-file and --prometheus-insecure-skip-tls-verify need --prometheus-url");
  }
  std::optional<observe::ProbeServerTls> metrics_certificate;
  if (f.metrics_secure) metrics_certificate = metrics_tls(f.metrics_cert_dir);
  auto clock = clock_from(f.clock, "operator");
  auto config = kube::load_default_config({.kubeconfig_path = f.kube.kubeconfig, .context = f.kube.context});
  // --time-scale is for rehearsals against `nonevent sim serve --time-scale`: both must agree
  // on what time it is.
  auto client = kube::make_rest_client(config, clock);
  observe::OperatorMetrics metrics;
  client->set_observer(metrics.request_observer());
  opts.leader_elect = f.leader_elect;
  // The operator's own namespace (the chart sets POD_NAMESPACE from the downward API): patch
  // Jobs run there and, by default, the leader Lease lives there.
  const char* pod_ns = std::getenv("POD_NAMESPACE");
  opts.namespace_ = !f.namespace_.empty() ? f.namespace_ : pod_ns && *pod_ns ? pod_ns : config.default_namespace;
  opts.lease_namespace = f.lease_namespace.empty() ? opts.namespace_ : f.lease_namespace;
  opts.kured_daemonset = f.kured_daemonset;
  opts.coordinate_kured = f.coordinate_kured;
  opts.patch_job_namespace = f.patch_job_namespace;
  opts.pods_as_protobuf = f.kube_api_content_type == "application/vnd.kubernetes.protobuf";
  opts.limits = f.limits;
  controllers::Manager manager(client, clock, opts, metrics.manager_hooks());
  // Ready when this replica's caches are synced, or while it stands by for the Lease (a
  // standby that never turned ready would stall every rollout of the Deployment).
  // Not ready either while a cache has failed to follow the cluster for a minute (a dead API
  // server, a revoked token): the operator would be deciding on a stale picture.
  auto ready = [&manager, leader_elect = opts.leader_elect] {
    if (leader_elect && !manager.leading()) return true;
    if (!manager.synced()) return false;
    static std::atomic<bool> was_failing{false};
    const auto failing = manager.caches_failing(std::chrono::seconds(60));
    if (!failing.empty() && !was_failing.exchange(true))
      logging::error("operator", "not ready: caches have not followed the cluster for over a minute", {{"failing", failing}});
    if (failing.empty() && was_failing.exchange(false)) logging::info("operator", "ready again: every cache follows the cluster");
    return failing.empty();
  };
  observe::ProbeServerOptions probe_opts{
      .bind_address = f.metrics_address,
      .collectables = {metrics.registry(), std::make_shared<observe::ResourceMetrics>(manager, clock)},
      .healthy = {},
      .ready = ready};
  std::shared_ptr<observe::DelegatedAccess> access;
  if (f.metrics_secure) {
    probe_opts.tls = metrics_certificate;
    access = std::make_shared<observe::DelegatedAccess>(client);
    probe_opts.authorize_metrics = [access](const std::string& authorization, const std::string& verb) {
      return access->check(authorization, "/metrics", verb);
    };
  }
  observe::ProbeServer probes(probe_opts);
  std::unique_ptr<observe::ProbeServer> health;
  if (const auto& h = f.health_address; !h.empty() && h != probe_opts.bind_address) {
    auto health_opts = probe_opts;
    health_opts.bind_address = h;
    if (f.metrics_secure) {  // the probes in plain HTTP for the kubelet; /metrics only behind the gate
      health_opts.serve_metrics = false;
      health_opts.tls.reset();
      health_opts.authorize_metrics = {};
    }
    health = std::make_unique<observe::ProbeServer>(health_opts);
  }
  logging::info("operator", f.metrics_secure ? "serving metrics over HTTPS to callers RBAC allows (TokenReview, SubjectAccessReview)"
                                             : "serving metrics and probes",
                {{"address", probe_opts.bind_address}, {"port", std::to_string(probes.port())},
                 {"certificate", !f.metrics_secure ? "none" : f.metrics_cert_dir.empty() ? "self-signed" : f.metrics_cert_dir}});
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == SIGINT || sig == SIGTERM)
      logging::info("operator", "stopping: received a signal", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    manager.stop();
  });
  logging::info("operator", "starting", {{"server", config.server}, {"leaderElect", opts.leader_elect ? "true" : "false"},
                                         {"coordinateKured", opts.coordinate_kured ? opts.kured_daemonset : "false"},
                                         {"namespace", opts.namespace_}, {"lease", opts.lease_namespace + "/" + opts.lease_name},
                                         {"patchJobs", (opts.patch_job_namespace.empty() ? opts.namespace_ : opts.patch_job_namespace) + "/" +
                                                           (opts.limits.patch_job_service_account.empty() ? "default" : opts.limits.patch_job_service_account)},
                                         {"allowForceDeletion", opts.limits.allow_force_deletion ? "true" : "false"},
                                         {"allowDrainRollout", opts.limits.allow_drain_rollout ? "true" : "false"},
                                         {"podsContentType", f.kube_api_content_type}});
  const bool clean = manager.run();
  if (!clean) {
    logging::error("operator",
                   "exiting 1: lost leadership (the Lease was not renewed within its renew deadline; another replica takes over)",
                   {{"lease", opts.lease_namespace + "/" + opts.lease_name}});
    std::_Exit(1);  // as controller-runtime does: another replica takes over
  }
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  logging::info("operator", "stopped cleanly: exiting 0");
  return 0;
}

}  // namespace

void add_operator(CLI::App& root, Run& run) {
  auto* app = root.add_subcommand("operator", "run the MaintenanceWindow and PatchCampaign controllers against a cluster");
  auto f = std::make_shared<OperatorFlags>();
  add_kubeconfig_flags(*app, f->kube);
  add_log_flags(*app, f->log);
  app->add_flag("--leader-elect", f->leader_elect, "hold a coordination.k8s.io Lease; only the holder acts (run 2 replicas)");
  app->add_option("--leader-election-namespace", f->lease_namespace, "where the Lease lives (default: --namespace)");
  app->add_option("--leader-elect-lease-duration", f->lease_duration, "how long a Lease not renewed keeps the others waiting")
      ->capture_default_str();
  app->add_option("--leader-elect-renew-deadline", f->renew_deadline, "how long the leader keeps trying to renew before it gives up and exits")
      ->capture_default_str();
  app->add_option("--leader-elect-retry-period", f->retry_period, "how often the replicas try the Lease")->capture_default_str();
  app->add_option("--namespace", f->namespace_, "the operator's own namespace, where patch Jobs run (default: $POD_NAMESPACE, else the context's)");
  app->add_option("--metrics-bind-address", f->metrics_address, "/metrics, /healthz and /readyz (ADDRESS:PORT, :PORT; port 0 picks one)")
      ->capture_default_str();
  app->add_option("--health-probe-bind-address", f->health_address,
                  "serve /healthz and /readyz here too, in plain HTTP (default: with metrics)");
  app->add_flag("--metrics-secure", f->metrics_secure,
                "serve /metrics over HTTPS, only to callers whose token the API server accepts and whose RBAC allows GET /metrics");
  app->add_option("--metrics-cert-dir", f->metrics_cert_dir, "tls.crt and tls.key for --metrics-secure (default: a self-signed certificate)");
  app->add_option("--kured-daemonset", f->kured_daemonset, "kured's DaemonSet (NAMESPACE/NAME): the node its reboot lock names is out of service")
      ->capture_default_str()
      ->check([](const std::string& v) {
        const auto slash = v.find('/');
        return slash == std::string::npos || slash == 0 || slash + 1 == v.size() ? "must be NAMESPACE/NAME" : "";
      });
  app->add_flag("--coordinate-kured", f->coordinate_kured,
                "campaigns take kured's reboot lock while their nodes are out, and start no batch while kured holds it");
  // What a CR may ask for beyond cordon and evict (controllers/install_limits.h): the chart
  // sets these from its values, together with the RBAC they need.
  app->add_option("--patch-job-namespace", f->patch_job_namespace, "where InPlace patch Jobs run (default: --namespace)");
  app->add_option("--patch-job-service-account", f->limits.patch_job_service_account,
                  "the ServiceAccount patch Jobs run as when their template names none (default: the namespace's default)");
  app->add_option("--allowed-patch-job-service-accounts", f->limits.allowed_patch_job_service_accounts,
                  "other ServiceAccounts a jobTemplate may name (comma-separated); any other is refused")
      ->delimiter(',');
  app->add_option("--allow-force-deletion", f->limits.allow_force_deletion, "whether drain.onBlocked: Force may delete pods (true|false)")
      ->capture_default_str();
  app->add_option("--allow-drain-rollout", f->limits.allow_drain_rollout,
                  "whether drain.rollout may move pods by their Deployment (true|false)")
      ->capture_default_str();
  // kube-controller-manager's flag of the same name; custom resources are JSON either way.
  app->add_option("--kube-api-content-type", f->kube_api_content_type,
                  "how pods are read from the API server: application/json or application/vnd.kubernetes.protobuf (less decoding for a large cluster)")
      ->capture_default_str()
      ->check(CLI::IsMember({"application/json", "application/vnd.kubernetes.protobuf"}));
  // spec.healthChecks' prometheus checks (issue 26): without a URL they fail closed.
  app->add_option("--prometheus-url", f->prometheus.url,
                  "Prometheus (or a compatible API: Thanos, Mimir) that health checks query, http(s)://HOST:PORT[/PREFIX]");
  app->add_option("--prometheus-ca-file", f->prometheus.ca_file, "PEM bundle to verify Prometheus' certificate (default: the system's)");
  app->add_flag("--prometheus-insecure-skip-tls-verify", f->prometheus.insecure_skip_verify, "do not verify Prometheus' certificate");
  app->add_option("--prometheus-bearer-token-file", f->prometheus.bearer_token_file,
                  "send this file's contents as a bearer token (re-read as it rotates)");
  app->add_option("--prometheus-timeout", f->prometheus_timeout, "give up on a Prometheus request after this long (it then counts as a failing check)")
      ->capture_default_str();
  add_clock_flags(*app, f->clock);
  app->callback([f, &run] { run = [f] { return run_operator(*f); }; });
}

}  // namespace nonevent::cli
