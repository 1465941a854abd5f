#include "web/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <vector>

namespace poolwatch {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// OpenSSL's reason for the last failure, and an empty error queue for the next call.
std::string OpenSslError() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// Every certificate in the PEM text, in order; ignores other blocks (keys, parameters).
std::vector<X509Ptr> ReadCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  auto bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the end of the text reads as an error
  return certs;
}

// Without this callback OpenSSL would prompt on the terminal for an encrypted key's password.
int NoPassword(char*, int, int, void*) { return 0; }

std::unique_ptr<EVP_PKEY, PkeyFree> ReadPrivateKey(const std::string& pem) {
  auto bio = MemoryBio(pem);
  return std::unique_ptr<EVP_PKEY, PkeyFree>(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
}

// RequestClientCert and RequireAnyClientCert take any certificate, as Go does.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

bool Fail(std::string* error, const std::string& what) {
  *error = what + ": " + OpenSslError();
  return false;
}

}  // namespace

bool ConfigureTlsContext(void* ssl_ctx, const TlsOptions& options, std::string* error) {
  SSL_CTX* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  ERR_clear_error();

  std::vector<X509Ptr> chain = ReadCertificates(options.cert_pem);
  if (chain.empty()) {
    *error = "the certificate holds no PEM certificate";
    return false;
  }
  if (SSL_CTX_use_certificate(ctx, chain.front().get()) != 1) {
    return Fail(error, "the certificate");
  }
  SSL_CTX_clear_chain_certs(ctx);
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) {
      return Fail(error, "an intermediate certificate");
    }
  }
  auto key = ReadPrivateKey(options.key_pem);
  if (!key) return Fail(error, "the key");
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return Fail(error, "the key");
  }

  if (SSL_CTX_set_min_proto_version(ctx, options.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, options.max_version) != 1) {
    return Fail(error, "the TLS versions");
  }
  if (!options.cipher_list.empty() &&
      SSL_CTX_set_cipher_list(ctx, options.cipher_list.c_str()) != 1) {
    return Fail(error, "the cipher suites " + options.cipher_list);
  }
  if (!options.groups.empty() && SSL_CTX_set1_groups_list(ctx, options.groups.c_str()) != 1) {
    return Fail(error, "the curves " + options.groups);
  }
  if (options.prefer_server_ciphers) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }

  // OpenSSL refuses to resume a session with a verified peer without an id context.
  static constexpr unsigned char kSessionContext[] = "poolwatch";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);

  int mode = SSL_VERIFY_NONE;
  SSL_verify_cb callback = nullptr;
  bool verifies = false;
  switch (options.client_certs) {
    case ClientCertPolicy::kNone:
      break;
    case ClientCertPolicy::kRequest:
      mode = SSL_VERIFY_PEER;
      callback = AcceptAnyCertificate;
      break;
    case ClientCertPolicy::kRequireAny:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      callback = AcceptAnyCertificate;
      break;
    case ClientCertPolicy::kVerifyIfGiven:
      mode = SSL_VERIFY_PEER;
      verifies = true;
      break;
    case ClientCertPolicy::kRequireAndVerify:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      verifies = true;
      break;
  }
  if (!options.client_ca_pem.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const X509Ptr& ca : ReadCertificates(options.client_ca_pem)) {
      // The names also go to the client, to pick which of its certificates to send.
      if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(ctx, ca.get()) != 1) {
        return Fail(error, "the client CA certificates");
      }
    }
  } else if (verifies && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Fail(error, "the system's CA certificates");
  }
  SSL_CTX_set_verify(ctx, mode, callback);
  return true;
}

std::string CertificateChainProblem(const std::string& pem) {
  if (ReadCertificates(pem).empty()) return "holds no PEM certificate (BEGIN CERTIFICATE)";
  return "";
}

std::string PrivateKeyProblem(const std::string& key_pem, const std::string& cert_pem) {
  ERR_clear_error();
  auto key = ReadPrivateKey(key_pem);
  if (!key) {
    const bool encrypted = key_pem.find("ENCRYPTED") != std::string::npos;
    ERR_clear_error();
    return encrypted ? "is encrypted: poolwatch needs an unencrypted key (as exporter-toolkit)"
                     : "holds no PEM private key (BEGIN PRIVATE KEY)";
  }
  std::vector<X509Ptr> chain = ReadCertificates(cert_pem);
  if (!chain.empty() && X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return "does not belong to the certificate";
  }
  return "";
}

std::string CaCertificatesProblem(const std::string& pem) {
  if (ReadCertificates(pem).empty()) return "holds no PEM certificate (BEGIN CERTIFICATE)";
  return "";
}

bool OpenSslKnowsCipher(const std::string& name) {
  std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return false;
  const bool known = SSL_CTX_set_cipher_list(ctx.get(), name.c_str()) == 1;
  ERR_clear_error();
  return known;
}

}  // namespace poolwatch
