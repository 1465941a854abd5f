#include "config/web_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sstream>

#include "config/config.h"
#include "config/go_tls_names.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kHash = "$2y$10$Rmhy5M1dVt1b8b9n2rZf4eC0f4wB6m4Jm3QlQ0vUo0Bq4a9a6Yb5W";

struct KeyPair {
  std::string cert;
  std::string key;
  std::string encrypted_key;
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(size));
  BIO_free(bio);
  return text;
}

// A self-signed P-256 certificate made in memory: the parser checks PEM with OpenSSL, so the
// tests need real certificates, and none is kept in the repository.
KeyPair MakeKeyPair(const std::string& common_name) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  KeyPair pair;
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, cert);
  pair.cert = BioText(out);
  out = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  pair.key = BioText(out);
  out = BIO_new(BIO_s_mem());
  static char password[] = "secret";
  PEM_write_bio_PrivateKey(out, key, EVP_aes_128_cbc(), nullptr, 0, nullptr, password);
  pair.encrypted_key = BioText(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  return pair;
}

const KeyPair& Server() {
  static const KeyPair pair = MakeKeyPair("localhost");
  return pair;
}

// `text` as a YAML block scalar under a key indented by two.
std::string Block(const std::string& text) {
  std::istringstream in(text);
  std::string out = "|\n";
  for (std::string line; std::getline(in, line);) out += "    " + line + "\n";
  return out;
}

// A tls_server_config with the server's certificate and key inline, then `more` (indented).
std::string Tls(const std::string& more = "") {
  return "tls_server_config:\n  cert: " + Block(Server().cert) + "  key: " + Block(Server().key) +
         more;
}

// The line `needle` is on in `yaml`, counted from 1, as a string.
std::string LineOf(const std::string& yaml, const std::string& needle) {
  const size_t at = yaml.find(needle);
  return std::to_string(std::count(yaml.begin(), yaml.begin() + static_cast<long>(at), '\n') + 1);
}

std::string ErrorOf(const std::string& yaml, const std::string& source = "/etc/poolwatch/web.yml") {
  try {
    ParseWebConfig(yaml, source);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(WebConfig, EmptyFileMeansNoTlsAndNoAuth) {
  WebConfig config = ParseWebConfig("", "web.yml");
  EXPECT_FALSE(config.tls());
  EXPECT_FALSE(config.auth());
  EXPECT_TRUE(config.headers.empty());
}

TEST(WebConfig, ReadsTlsFilesRelativeToTheFileAndUsers) {
  TempDir dir;
  WriteFile(dir / "server.crt", Server().cert);
  WriteFile(dir / "server.key", Server().key);
  const std::string path = (dir / "web.yml").string();
  WriteFile(path, "tls_server_config:\n  cert_file: server.crt\n  key_file: " +
                      (dir / "server.key").string() + "\nbasic_auth_users:\n  prometheus: " +
                      kHash + "\n  grafana: '$2b$12$" + std::string(53, 'a') + "'\n");
  WebConfig config = LoadWebConfig(path);
  EXPECT_TRUE(config.tls());
  EXPECT_EQ(config.cert_file, (dir / "server.crt").string());
  EXPECT_EQ(config.key_file, (dir / "server.key").string());
  EXPECT_EQ(config.tls_options.cert_pem, Server().cert);
  EXPECT_EQ(config.tls_options.key_pem, Server().key);
  // exporter-toolkit's defaults.
  EXPECT_EQ(config.tls_options.min_version, kTls12);
  EXPECT_EQ(config.tls_options.max_version, kTls13);
  EXPECT_TRUE(config.tls_options.prefer_server_ciphers);
  EXPECT_EQ(config.tls_options.client_certs, ClientCertPolicy::kNone);
  ASSERT_EQ(config.users.size(), 2u);
  EXPECT_EQ(config.users.at("prometheus"), kHash);
}

TEST(WebConfig, CertificateAndKeyMayBeGivenInlineAsPem) {
  WebConfig config = ParseWebConfig(Tls(), "web.yml");
  EXPECT_TRUE(config.tls());
  EXPECT_EQ(config.tls_options.cert_pem, Server().cert);
  EXPECT_EQ(config.tls_options.key_pem, Server().key);
  EXPECT_EQ(config.cert_file, "");
}

TEST(WebConfig, CertificateAndKeyMistakesNameLineAndKeyWithoutEchoingTheKey) {
  const std::string both = Tls("  cert_file: server.crt\n");
  EXPECT_THAT(ErrorOf(both), HasSubstr("web.yml:2: tls_server_config.cert: give cert or "
                                       "cert_file, not both"));
  EXPECT_THAT(ErrorOf("tls_server_config:\n  cert: " + Block(Server().cert)),
              HasSubstr("web.yml:2: tls_server_config: missing key or key_file"));
  EXPECT_THAT(
      ErrorOf(
          "tls_server_config:\n  cert_file: /nonexistent/a.crt\n  key_file: /nonexistent/a.key\n"),
      HasSubstr("web.yml:2: tls_server_config.cert_file: cannot read /nonexistent/a.crt"));
  EXPECT_THAT(
      ErrorOf("tls_server_config:\n  cert: not a certificate\n  key: " + Block(Server().key)),
      HasSubstr("web.yml:2: tls_server_config.cert: holds no PEM certificate"));

  const KeyPair other = MakeKeyPair("other");
  const std::string mismatched =
      "tls_server_config:\n  cert: " + Block(Server().cert) + "  key: " + Block(other.key);
  std::string error = ErrorOf(mismatched);
  EXPECT_THAT(error, HasSubstr("web.yml:" + LineOf(mismatched, "  key:") +
                               ": tls_server_config.key: the key does not belong to the "
                               "certificate"));
  EXPECT_THAT(error, Not(HasSubstr("PRIVATE KEY")));

  const std::string encrypted = "tls_server_config:\n  cert: " + Block(Server().cert) +
                                "  key: " + Block(Server().encrypted_key);
  EXPECT_THAT(ErrorOf(encrypted), HasSubstr("tls_server_config.key: the key is encrypted"));
  EXPECT_THAT(ErrorOf("tls_server_config:\n  cert: x\n  key: " + Block(Server().key)),
              Not(HasSubstr("PRIVATE KEY")));
}

TEST(WebConfig, TlsSettingsWithoutACertificateAreRefusedNotIgnored) {
  EXPECT_THAT(ErrorOf("tls_server_config:\n  cert_file: \"\"\n  min_version: TLS13\n"),
              HasSubstr("web.yml:3: tls_server_config.min_version: needs cert (or cert_file) and "
                        "key (or key_file)"));
  EXPECT_EQ(ErrorOf("tls_server_config:\n  cert_file: \"\"\n"), "");
}

TEST(WebConfig, VersionsAreGoNamesAndTls10And11AreRefusedWithTheReason) {
  WebConfig config = ParseWebConfig(Tls("  min_version: TLS13\n"), "web.yml");
  EXPECT_EQ(config.tls_options.min_version, kTls13);
  config = ParseWebConfig(Tls("  max_version: TLS12\n"), "web.yml");
  EXPECT_EQ(config.tls_options.max_version, kTls12);

  const std::string old = Tls("  min_version: TLS10\n");
  std::string error = ErrorOf(old);
  EXPECT_THAT(error, HasSubstr("web.yml:" + LineOf(old, "  min_version") +
                               ": tls_server_config.min_version: TLS10 cannot be honoured"));
  EXPECT_THAT(error, HasSubstr("OpenSSL 3"));
  EXPECT_THAT(ErrorOf(Tls("  max_version: TLS11\n")),
              HasSubstr("tls_server_config.max_version: TLS11 cannot be honoured"));
  EXPECT_THAT(ErrorOf(Tls("  min_version: TLS1.2\n")),
              HasSubstr("tls_server_config.min_version: unknown TLS version 'TLS1.2'"));
  EXPECT_THAT(ErrorOf(Tls("  min_version: TLS13\n  max_version: TLS12\n")),
              HasSubstr("tls_server_config.max_version: is below min_version"));
}

TEST(WebConfig, CipherSuitesAreTranslatedFromGoToOpenSslNames) {
  WebConfig config =
      ParseWebConfig(Tls("  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
                         "    - TLS_AES_128_GCM_SHA256\n"
                         "    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n"),
                     "web.yml");
  // TLS 1.3's suites cannot be chosen in Go either: they are accepted and stay all on.
  EXPECT_EQ(config.tls_options.cipher_list,
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
  EXPECT_EQ(ParseWebConfig(Tls(), "web.yml").tls_options.cipher_list, "");

  const std::string unknown =
      Tls("  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
          "    - ECDHE-RSA-AES128-GCM-SHA256\n");
  EXPECT_THAT(ErrorOf(unknown), HasSubstr("web.yml:" + LineOf(unknown, "    - ECDHE") +
                                          ": tls_server_config.cipher_suites: unknown cipher suite "
                                          "'ECDHE-RSA-AES128-GCM-SHA256' (Go's names"));
  // Insecure suites are not in the list exporter-toolkit looks names up in.
  EXPECT_THAT(ErrorOf(Tls("  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n")),
              HasSubstr("unknown cipher suite"));
  EXPECT_THAT(ErrorOf(Tls("  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")),
              HasSubstr("lists only TLS 1.3 suites, which cannot be configured"));
  EXPECT_EQ(ErrorOf(Tls("  min_version: TLS13\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")), "");
}

TEST(WebConfig, EveryGoCipherSuiteMapsToOneThisOpenSslKnows) {
  for (const GoCipherSuite& suite : GoCipherSuites()) {
    if (suite.tls13) continue;
    EXPECT_TRUE(OpenSslKnowsCipher(std::string(suite.openssl_name))) << suite.go_name;
  }
}

TEST(WebConfig, CurvesAndServerPreferenceAreHonoured) {
  WebConfig config = ParseWebConfig(Tls("  curve_preferences: [X25519, CurveP256]\n"
                                        "  prefer_server_cipher_suites: false\n"),
                                    "web.yml");
  EXPECT_EQ(config.tls_options.groups, "X25519:P-256");
  EXPECT_FALSE(config.tls_options.prefer_server_ciphers);
  EXPECT_THAT(ErrorOf(Tls("  curve_preferences: [CurveP999]\n")),
              HasSubstr("tls_server_config.curve_preferences: unknown curve 'CurveP999'"));
  EXPECT_THAT(ErrorOf(Tls("  prefer_server_cipher_suites: maybe\n")),
              HasSubstr("tls_server_config.prefer_server_cipher_suites: expected true or false"));
}

TEST(WebConfig, ClientAuthTypesAndClientCasAreRead) {
  const std::pair<const char*, ClientCertPolicy> cases[] = {
      {"NoClientCert", ClientCertPolicy::kNone},
      {"RequestClientCert", ClientCertPolicy::kRequest},
      {"RequireAnyClientCert", ClientCertPolicy::kRequireAny},
      {"VerifyClientCertIfGiven", ClientCertPolicy::kVerifyIfGiven},
      {"RequireAndVerifyClientCert", ClientCertPolicy::kRequireAndVerify},
  };
  for (const auto& [name, policy] : cases) {
    EXPECT_EQ(ParseWebConfig(Tls(std::string("  client_auth_type: ") + name + "\n"), "web.yml")
                  .tls_options.client_certs,
              policy)
        << name;
  }
  TempDir dir;
  const KeyPair ca = MakeKeyPair("clients");
  WriteFile(dir / "ca.crt", ca.cert);
  WebConfig config = ParseWebConfig(
      Tls("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"),
      (dir / "web.yml").string());
  EXPECT_EQ(config.tls_options.client_ca_pem, ca.cert);
  config = ParseWebConfig(
      Tls("  client_auth_type: VerifyClientCertIfGiven\n  client_ca: " + Block(ca.cert)),
      "web.yml");
  EXPECT_EQ(config.tls_options.client_ca_pem, ca.cert);

  const std::string unknown = Tls("  client_auth_type: RequireCert\n");
  EXPECT_THAT(ErrorOf(unknown), HasSubstr("web.yml:" + LineOf(unknown, "  client_auth_type") +
                                          ": tls_server_config.client_auth_type: unknown "
                                          "'RequireCert'"));
  // As in exporter-toolkit: a CA without a policy that asks for certificates is a mistake.
  const std::string no_policy = Tls("  client_ca_file: ca.crt\n");
  EXPECT_THAT(ErrorOf(no_policy, (dir / "web.yml").string()),
              HasSubstr("web.yml:" + LineOf(no_policy, "  client_ca_file") +
                        ": tls_server_config.client_ca_file: client CAs are set but "
                        "client_auth_type asks for no client certificate"));
  WriteFile(dir / "empty.crt", "");
  EXPECT_THAT(ErrorOf(Tls("  client_auth_type: RequireAndVerifyClientCert\n"
                          "  client_ca_file: empty.crt\n"),
                      (dir / "web.yml").string()),
              HasSubstr("tls_server_config.client_ca_file: " + (dir / "empty.crt").string() +
                        " holds no PEM certificate"));
  EXPECT_THAT(ErrorOf(Tls("  client_allowed_sans: [prometheus]\n")),
              HasSubstr("tls_server_config.client_allowed_sans: not supported by poolwatch"));
}

TEST(WebConfig, OnlyTheHeadersExporterToolkitAllowsMayBeAdded) {
  const std::string yaml =
      "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n"
      "    X-Frame-Options: sameorigin\n    X-Content-Type-Options: nosniff\n"
      "    Content-Security-Policy: \"default-src 'self'\"\n    X-XSS-Protection: \"\"\n";
  WebConfig config = ParseWebConfig(yaml, "web.yml");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Strict-Transport-Security", "max-age=31536000"},
      {"X-Frame-Options", "sameorigin"},
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy", "default-src 'self'"},
  };
  EXPECT_EQ(config.headers, expected);

  for (const char* refused :
       {"Authorization", "Content-Type", "Set-Cookie", "X-Custom", "strict-transport-security"}) {
    const std::string error =
        ErrorOf(std::string("http_server_config:\n  headers:\n    ") + refused + ": x\n");
    EXPECT_THAT(error, HasSubstr(std::string("web.yml:3: http_server_config.headers.") + refused +
                                 ": this header cannot be configured (exporter-toolkit allows "
                                 "only Content-Security-Policy,"))
        << refused;
  }
  EXPECT_THAT(ErrorOf("http_server_config:\n  headers:\n    X-Frame-Options: allow-from x\n"),
              HasSubstr("web.yml:3: http_server_config.headers.X-Frame-Options: expected deny "
                        "or sameorigin, got 'allow-from x'"));
  EXPECT_THAT(
      ErrorOf(
          "http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: a=b\"\n"),
      HasSubstr("cannot hold control characters"));
}

TEST(WebConfig, Http2FalseIsAcceptedAndTrueIsRefusedWithTheReason) {
  EXPECT_EQ(ErrorOf("http_server_config:\n  http2: false\n"), "");
  const std::string error = ErrorOf("http_server_config:\n  headers: {}\n  http2: true\n");
  EXPECT_THAT(error, HasSubstr("web.yml:3: http_server_config.http2: HTTP/2 is not available"));
  EXPECT_THAT(error, HasSubstr("HTTP/1.1 only"));
}

TEST(WebConfig, UnknownOrUnsupportedKeysAreRefusedWithLineAndKey) {
  EXPECT_THAT(ErrorOf("basic_auth:\n  a: b\n"), HasSubstr("web.yml:1: basic_auth: unknown key"));
  EXPECT_THAT(ErrorOf("rate_limit:\n  burst: 1\n"),
              HasSubstr("web.yml:1: rate_limit: not supported by poolwatch"));
  EXPECT_THAT(ErrorOf(Tls("  curves: [X25519]\n")),
              HasSubstr("tls_server_config.curves: unknown key"));
  EXPECT_THAT(ErrorOf("http_server_config:\n  http2: false\n  http2: false\n"),
              HasSubstr("web.yml:3: http_server_config.http2: appears twice"));
}

TEST(WebConfig, UsersNeedBcryptHashesThatAreNeverEchoed) {
  std::string error = ErrorOf("basic_auth_users:\n  alice: hunter2-plain\n");
  EXPECT_THAT(error, HasSubstr("web.yml:2: basic_auth_users.alice: expected a bcrypt hash"));
  EXPECT_THAT(error, Not(HasSubstr("hunter2")));
  EXPECT_THAT(ErrorOf("basic_auth_users:\n  alice: '$1$abc$" + std::string(50, 'x') + "'\n"),
              HasSubstr("expected a bcrypt hash"));
  EXPECT_THAT(ErrorOf("basic_auth_users:\n  'a:b': " + kHash + "\n"), HasSubstr("contain no ':'"));
  EXPECT_THAT(ErrorOf("basic_auth_users: [a]\n"), HasSubstr("expected a mapping"));
  EXPECT_THAT(ErrorOf("basic_auth_users: {\n"), HasSubstr("web.yml:"));
}

TEST(WebConfig, MissingFileSaysSo) {
  try {
    LoadWebConfig("/nonexistent/web.yml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/web.yml: cannot read"));
  }
}

TEST(WebConfig, TheConfigFileKeyAndFlagNameTheFile) {
  Config config =
      LoadConfigFromString("web:\n  config_file: /etc/poolwatch/web.yml\n", "poolwatch.yml", {});
  EXPECT_EQ(config.web_config_file, "/etc/poolwatch/web.yml");
}

}  // namespace
}  // namespace poolwatch
