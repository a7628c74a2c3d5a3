#pragma once
// A PKI made at run time with OpenSSL: a CA, and leaf certificates it signs (v3, with
// subjectAltName, which hostname and IP verification need). `nonevent sim serve --tls`
// serves with one and writes the CA into its kubeconfig; `nonevent operator --metrics-secure`
// serves /metrics with a self-signed one when given no certificate; tests use it too.
#include <string>
#include <vector>

namespace nonevent::kube {

struct CertKey {
  std::string cert_pem;
  std::string key_pem;
};

CertKey make_ca(const std::string& common_name);
// san entries are OpenSSL syntax: "IP:127.0.0.1", "DNS:localhost".
CertKey make_leaf(const CertKey& ca, const std::string& common_name,
                  const std::vector<std::string>& san, bool client_auth = false);

}  // namespace nonevent::kube
