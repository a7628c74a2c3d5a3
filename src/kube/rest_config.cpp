#include "kube/rest_config.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nonevent::kube {
namespace fs = std::filesystem;

std::string read_file_or_throw(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(what + ": cannot read file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string base64_decode(std::string_view in) {
  static const auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(chars[i])] = i;
    t['-'] = 62;  // URL-safe alphabet too
    t['_'] = 63;
    return t;
  }();
  std::string out;
  out.reserve(in.size() * 3 / 4);
  int val = 0, bits = -8;
  for (unsigned char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    if (table[c] < 0) throw ConfigError("invalid base64 data");
    val = (val << 6) + table[c];
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(chars[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(chars[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

namespace {

struct Named {
  YAML::Node node;
  fs::path dir;  // directory of the file that defined it, for relative paths
};

struct Merged {
  std::string current_context;
  std::map<std::string, Named> clusters, users, contexts;
};

void merge_file(const fs::path& file, Merged& m) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    throw ConfigError("kubeconfig " + file.string() + ": " + e.what());
  }
  if (!root || root.IsNull()) return;  // kubectl accepts empty files
  if (!root.IsMap()) throw ConfigError("kubeconfig " + file.string() + ": not a mapping");
  const fs::path dir = fs::absolute(file).parent_path();
  if (m.current_context.empty() && root["current-context"] && root["current-context"].IsScalar())
    m.current_context = root["current-context"].as<std::string>("");
  auto take = [&](const char* list, const char* inner, std::map<std::string, Named>& into) {
    const auto seq = root[list];
    if (!seq) return;
    if (!seq.IsSequence())
      throw ConfigError("kubeconfig " + file.string() + ": " + list + " must be a list");
    for (const auto& item : seq) {
      if (!item.IsMap()) throw ConfigError("kubeconfig " + file.string() + ": an entry of " + list + " is not a mapping");
      const auto name = item["name"].IsScalar() ? item["name"].as<std::string>("") : "";
      if (name.empty())
        throw ConfigError("kubeconfig " + file.string() + ": an entry of " + list +
                          " has no name");
      // First file that defines a name wins (kubectl's merge rule).
      into.emplace(name, Named{item[inner], dir});
    }
  };
  try {
    take("clusters", "cluster", m.clusters);
    take("users", "user", m.users);
    take("contexts", "context", m.contexts);
  } catch (const YAML::Exception& e) {  // a value of the wrong shape (tests/fuzz kubeconfig)
    throw ConfigError("kubeconfig " + file.string() + ": " + e.what());
  }
}

std::string resolve(const fs::path& dir, const std::string& p) {
  if (p.empty()) return p;
  fs::path path(p);
  if (path.is_absolute()) return p;
  return (dir / path).lexically_normal().string();
}

std::string str(const YAML::Node& n, const char* key) {
  if (!n.IsMap()) return {};
  const auto v = n[key];
  if (!v || v.IsNull() || !v.IsScalar()) return {};
  return v.as<std::string>("");
}

RestConfig build(const Merged& m, const std::string& context_override, const std::string& files) {
  const std::string ctx_name = context_override.empty() ? m.current_context : context_override;
  if (ctx_name.empty())
    throw ConfigError("kubeconfig " + files + ": no current-context set and no --context given");
  auto ctx_it = m.contexts.find(ctx_name);
  if (ctx_it == m.contexts.end())
    throw ConfigError("kubeconfig " + files + ": context \"" + ctx_name + "\" not found");
  const auto& ctx = ctx_it->second.node;
  const auto cluster_name = str(ctx, "cluster");
  const auto user_name = str(ctx, "user");
  auto cl_it = m.clusters.find(cluster_name);
  if (cl_it == m.clusters.end())
    throw ConfigError("kubeconfig " + files + ": context \"" + ctx_name + "\": cluster \"" +
                      cluster_name + "\" not found");

  RestConfig c;
  c.context_name = ctx_name;
  if (auto ns = str(ctx, "namespace"); !ns.empty()) c.default_namespace = ns;
  const auto& cl = cl_it->second.node;
  const auto& cdir = cl_it->second.dir;
  c.server = str(cl, "server");
  if (c.server.empty())
    throw ConfigError("kubeconfig " + files + ": cluster \"" + cluster_name +
                      "\": field server is empty");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  c.insecure_skip_tls_verify = cl["insecure-skip-tls-verify"].as<bool>(false);
  c.tls_server_name = str(cl, "tls-server-name");
  if (auto data = str(cl, "certificate-authority-data"); !data.empty()) {
    c.ca_pem = base64_decode(data);
  } else if (auto file = str(cl, "certificate-authority"); !file.empty()) {
    c.ca_pem = read_file_or_throw(resolve(cdir, file),
                                  "cluster \"" + cluster_name + "\" certificate-authority");
  }

  if (!user_name.empty()) {
    auto u_it = m.users.find(user_name);
    if (u_it == m.users.end())
      throw ConfigError("kubeconfig " + files + ": context \"" + ctx_name + "\": user \"" +
                        user_name + "\" not found");
    const auto& u = u_it->second.node;
    const auto& udir = u_it->second.dir;
    const std::string who = "user \"" + user_name + "\"";
    c.token = str(u, "token");
    if (auto tf = str(u, "tokenFile"); !tf.empty()) c.token_file = resolve(udir, tf);
    c.username = str(u, "username");
    c.password = str(u, "password");
    if (auto d = str(u, "client-certificate-data"); !d.empty()) c.client_cert_pem = base64_decode(d);
    else if (auto f = str(u, "client-certificate"); !f.empty())
      c.client_cert_pem = read_file_or_throw(resolve(udir, f), who + " client-certificate");
    if (auto d = str(u, "client-key-data"); !d.empty()) c.client_key_pem = base64_decode(d);
    else if (auto f = str(u, "client-key"); !f.empty())
      c.client_key_pem = read_file_or_throw(resolve(udir, f), who + " client-key");
    if (c.client_cert_pem.empty() != c.client_key_pem.empty())
      throw ConfigError("kubeconfig " + files + ": " + who +
                        ": client-certificate and client-key must be given together");
    if (const auto ex = u["exec"]; ex && ex.IsMap()) {
      ExecConfig e;
      e.api_version = str(ex, "apiVersion");
      if (e.api_version != "client.authentication.k8s.io/v1" &&
          e.api_version != "client.authentication.k8s.io/v1beta1")
        throw ConfigError("kubeconfig " + files + ": " + who + ": exec.apiVersion \"" +
                          e.api_version + "\" is not supported (use client.authentication.k8s.io/v1 or v1beta1)");
      e.command = str(ex, "command");
      if (e.command.empty())
        throw ConfigError("kubeconfig " + files + ": " + who + ": exec.command is empty");
      // kubectl resolves a command containing a path separator relative to the kubeconfig.
      if (e.command.find('/') != std::string::npos) e.command = resolve(udir, e.command);
      if (const auto args = ex["args"]; args && args.IsSequence())
        for (const auto& a : args) e.args.push_back(a.as<std::string>());
      if (const auto env = ex["env"]; env && env.IsSequence())
        for (const auto& kv : env) e.env.emplace_back(str(kv, "name"), str(kv, "value"));
      e.provide_cluster_info = ex["provideClusterInfo"].as<bool>(false);
      e.install_hint = str(ex, "installHint");
      c.exec = std::move(e);
    }
  }
  return c;
}

std::vector<fs::path> split_kubeconfig_env(const char* env) {
  std::vector<fs::path> out;
  std::string s(env);
  size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(':', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

RestConfig load_kubeconfig(const KubeconfigOptions& opts) {
  Merged m;
  std::string files;
  if (!opts.kubeconfig_path.empty()) {
    if (!fs::exists(opts.kubeconfig_path))
      throw ConfigError("kubeconfig " + opts.kubeconfig_path + ": file does not exist");
    merge_file(opts.kubeconfig_path, m);
    files = opts.kubeconfig_path;
  } else if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    for (const auto& f : split_kubeconfig_env(env)) {
      if (!fs::exists(f)) continue;  // kubectl skips missing files in KUBECONFIG
      merge_file(f, m);
      files += (files.empty() ? "" : ":") + f.string();
    }
    if (files.empty()) throw ConfigError(std::string("KUBECONFIG=") + env + ": no file exists");
  } else {
    const char* home = std::getenv("HOME");
    const fs::path def = fs::path(home ? home : "/") / ".kube" / "config";
    if (!fs::exists(def)) throw ConfigError("no kubeconfig: " + def.string() + " does not exist");
    merge_file(def, m);
    files = def.string();
  }
  // A document of the wrong shape (a list where a context should be) is the file's fault,
  // said as such, not an exception from yaml-cpp's accessors (found by tests/fuzz kubeconfig).
  try {
    return build(m, opts.context, files);
  } catch (const YAML::Exception& e) {
    throw ConfigError("kubeconfig " + files + ": " + e.what());
  }
}

bool in_cluster_available(const std::string& sa_dir) {
  return std::getenv("KUBERNETES_SERVICE_HOST") && std::getenv("KUBERNETES_SERVICE_PORT") &&
         fs::exists(fs::path(sa_dir) / "token");
}

RestConfig load_in_cluster(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port || !*host || !*port)
    throw ConfigError("in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  RestConfig c;
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  c.server = "https://" + h + ":" + port;
  c.token_file = (fs::path(sa_dir) / "token").string();
  // Fail now, clearly, rather than on the first request.
  read_file_or_throw(c.token_file, "in-cluster service-account token");
  c.ca_pem = read_file_or_throw((fs::path(sa_dir) / "ca.crt").string(), "in-cluster CA");
  const auto ns_file = fs::path(sa_dir) / "namespace";
  if (fs::exists(ns_file)) {
    auto ns = read_file_or_throw(ns_file.string(), "in-cluster namespace");
    while (!ns.empty() && (ns.back() == '\n' || ns.back() == ' ')) ns.pop_back();
    if (!ns.empty()) c.default_namespace = ns;
  }
  c.context_name = "in-cluster";
  return c;
}

RestConfig load_default_config(const KubeconfigOptions& opts) {
  if (!opts.kubeconfig_path.empty()) return load_kubeconfig(opts);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) return load_kubeconfig(opts);
  if (in_cluster_available()) return load_in_cluster();
  return load_kubeconfig(opts);
}

}  // namespace nonevent::kube
