#pragma once

#include <string>

namespace poolwatch {

// Who must show a certificate to poolwatch's HTTPS listeners, as Go's crypto/tls (and so
// exporter-toolkit's client_auth_type) means it.
enum class ClientCertPolicy {
  kNone,              // NoClientCert: never asked for
  kRequest,           // RequestClientCert: asked for, neither required nor verified
  kRequireAny,        // RequireAnyClientCert: required, not verified
  kVerifyIfGiven,     // VerifyClientCertIfGiven: optional, verified when sent
  kRequireAndVerify,  // RequireAndVerifyClientCert: required and verified
};

// Protocol versions as on the wire, so that this header needs no OpenSSL.
inline constexpr int kTls12 = 0x0303;
inline constexpr int kTls13 = 0x0304;

// How the HTTPS listeners negotiate. Certificates and keys are PEM text (read from their files
// at start-up, or given inline), so no key is ever copied to a temporary file.
struct TlsOptions {
  std::string cert_pem;  // the server certificate, then any intermediates
  std::string key_pem;   // unencrypted
  int min_version = kTls12;
  int max_version = kTls13;
  // OpenSSL names of the TLS 1.2 suites, ':'-separated; "" keeps OpenSSL's defaults. TLS 1.3
  // suites are left at OpenSSL's defaults, as Go does.
  std::string cipher_list{};
  std::string groups{};  // key exchange groups in order, ':'-separated; "" : OpenSSL's
  bool prefer_server_ciphers = true;
  ClientCertPolicy client_certs = ClientCertPolicy::kNone;
  // Trust anchors for client certificates; "" with a verifying policy: the system's store.
  std::string client_ca_pem{};

  bool enabled() const { return !cert_pem.empty(); }
};

// Applies `options` to an OpenSSL SSL_CTX (a void* so that callers need no OpenSSL header): the
// certificate chain and key, versions, suites, groups and client certificate checks. False
// with `error` set when OpenSSL refuses any of it.
bool ConfigureTlsContext(void* ssl_ctx, const TlsOptions& options, std::string* error);

// What OpenSSL finds wrong with PEM text, or "" when it is usable: a certificate chain (at
// least one certificate), a private key that must belong to `cert_pem`'s first certificate,
// a bundle of CA certificates.
std::string CertificateChainProblem(const std::string& pem);
std::string PrivateKeyProblem(const std::string& key_pem, const std::string& cert_pem);
std::string CaCertificatesProblem(const std::string& pem);

// True when this OpenSSL can negotiate the TLS 1.2 cipher suite of that (OpenSSL) name.
bool OpenSslKnowsCipher(const std::string& name);

}  // namespace poolwatch
