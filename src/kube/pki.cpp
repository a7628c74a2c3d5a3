#include "kube/pki.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace nonevent::kube {
namespace {

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string s(data, static_cast<size_t>(n));
  BIO_free(bio);
  return s;
}

EVP_PKEY* load_key(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return k;
}

X509* load_cert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return c;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("cannot make extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

CertKey make(const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, bool ca,
             const std::vector<std::string>& san, bool client_auth) {
  static long serial = 1000;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 30);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509* issuer_cert = issuer ? issuer : cert;
  if (ca) {
    add_ext(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert, issuer_cert, NID_basic_constraints, "CA:FALSE");
    add_ext(cert, issuer_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(cert, issuer_cert, NID_ext_key_usage, client_auth ? "clientAuth" : "serverAuth");
    std::string sans;
    for (const auto& s : san) sans += (sans.empty() ? "" : ",") + s;
    if (!sans.empty()) add_ext(cert, issuer_cert, NID_subject_alt_name, sans);
  }
  X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256());
  CertKey out;
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, cert);
  out.cert_pem = bio_string(cb);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_string(kb);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace

CertKey make_ca(const std::string& common_name) {
  return make(common_name, nullptr, nullptr, true, {}, false);
}

CertKey make_leaf(const CertKey& ca, const std::string& common_name,
                  const std::vector<std::string>& san, bool client_auth) {
  X509* ca_cert = load_cert(ca.cert_pem);
  EVP_PKEY* ca_key = load_key(ca.key_pem);
  auto out = make(common_name, ca_cert, ca_key, false, san, client_auth);
  X509_free(ca_cert);
  EVP_PKEY_free(ca_key);
  return out;
}

}  // namespace nonevent::kube
