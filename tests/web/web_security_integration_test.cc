// --web.config.file with curl and openssl s_client as the clients: TLS with a certificate made
// by openssl for this test (versions, suites, client certificates), basic auth with a bcrypt
// hash on every endpoint, extra response headers, the admin endpoints off unless
// --web.enable-admin-api, POST only, behind the same auth; and several listeners alike.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "web/basic_auth.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

struct Curl {
  std::string curl = FindProgram("curl");
  std::string cacert;  // "" : plain HTTP

  // The HTTP status curl saw ("000" when there was no response), and the headers and body.
  std::string Status(const std::string& url, const std::vector<std::string>& extra = {},
                     std::string* output = nullptr) const {
    std::vector<std::string> argv = {curl, "-sS", "--max-time", "10", "-D",
                                     "-",  "-o",  "/dev/null",  "-w", "\n%{http_code}"};
    if (!cacert.empty()) argv.insert(argv.end(), {"--cacert", cacert});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    std::string out;
    RunCommand(argv, &out);
    if (output != nullptr) *output = out;
    const size_t nl = out.rfind('\n');
    return nl == std::string::npos ? out : out.substr(nl + 1, 3);
  }
};

class Poolwatch {
 public:
  Poolwatch(const TempDir& dir, const std::string& name, std::vector<std::string> extra) {
    WriteFile(dir / (name + ".log"), "");
    std::vector<std::string> argv = {POOLWATCH_BINARY, "--log.path",
                                     (dir / (name + ".log")).string(), "--web.listen-address",
                                     "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<Process>(argv, dir / (name + ".out"));
    port_ = WaitForListeningPort(*process_);
  }
  int port() const { return port_; }
  Process& process() { return *process_; }

 private:
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// poolwatch started on the addresses given (port 0: the kernel picks one), with the ports it
// bound read back from its start-up log: no window between choosing a port and binding it.
class PoolwatchOnPortZero {
 public:
  PoolwatchOnPortZero(const TempDir& dir, const std::string& name,
                      const std::vector<std::string>& listen, std::vector<std::string> extra) {
    WriteFile(dir / (name + ".log"), "");
    std::vector<std::string> argv = {POOLWATCH_BINARY, "--log.path",
                                     (dir / (name + ".log")).string()};
    for (const std::string& address : listen)
      argv.insert(argv.end(), {"--web.listen-address", address});
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<Process>(argv, dir / (name + ".out"));
    WaitUntil(
        [&] {
          ports_ = ListeningPorts(process_->Output());
          return ports_.size() >= listen.size() || !process_->Running();
        },
        seconds(20));
  }
  const std::vector<int>& ports() const { return ports_; }
  int port() const { return ports_.empty() ? 0 : ports_.front(); }
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::vector<int> ports_;
};

class WebSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    openssl_ = FindProgram("openssl");
    if (openssl_.empty() || FindProgram("curl").empty()) GTEST_SKIP() << "needs openssl and curl";
    std::string out;
    ASSERT_EQ(RunCommand({openssl_, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                          "-subj", "/CN=localhost", "-addext",
                          "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout",
                          (dir_ / "server.key").string(), "-out", (dir_ / "server.crt").string()},
                         &out),
              0)
        << out;
    hash_ = BasicAuth::Hash("s3cret", 10);
    ASSERT_EQ(hash_.substr(0, 7), "$2b$10$");
  }

  TempDir dir_;
  std::string openssl_;
  std::string hash_;
};

TEST_F(WebSecurity, TlsAndBasicAuthGuardEveryEndpointAndTheAdminApi) {
  // Relative paths: relative to the web configuration file, as in exporter-toolkit.
  WriteFile(dir_ / "web.yml",
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "basic_auth_users:\n  prometheus: " +
                hash_ + "\n");
  Poolwatch pw(dir_, "tls",
               {"--web.config.file", (dir_ / "web.yml").string(), "--web.enable-admin-api"});
  Curl curl{FindProgram("curl"), (dir_ / "server.crt").string()};
  const std::string base = "https://127.0.0.1:" + std::to_string(pw.port());
  const std::vector<std::string> good = {"-u", "prometheus:s3cret"};
  ASSERT_TRUE(WaitUntil([&] { return curl.Status(base + "/-/ready", good) == "200"; }, seconds(20),
                        milliseconds(100)))
      << pw.process().Output();

  for (const char* path : {"/metrics", "/healthz", "/-/healthy", "/-/ready", "/", "/api/v1/status",
                           "/api/v1/maintenance"}) {
    EXPECT_EQ(curl.Status(base + path, good), "200") << path;
    std::string headers;
    EXPECT_EQ(curl.Status(base + path, {}, &headers), "401") << path;
    EXPECT_THAT(headers, HasSubstr("WWW-Authenticate: Basic realm=\"poolwatch\"")) << path;
    EXPECT_EQ(curl.Status(base + path, {"-u", "prometheus:wrong"}), "401") << path;
    EXPECT_EQ(curl.Status(base + path, {"-u", "nobody:s3cret"}), "401") << path;
  }
  // The rollout verdict (no traffic yet: the pool is unknown, a 400) behind the same auth, GET
  // and POST alike.
  EXPECT_EQ(curl.Status(base + "/api/v1/verdict?pool=blue", good), "400");
  EXPECT_EQ(curl.Status(base + "/api/v1/verdict?pool=blue", {}), "401");
  EXPECT_EQ(curl.Status(base + "/api/v1/verdict?pool=blue", {"-X", "POST", "-d", "{}"}), "401");
  EXPECT_EQ(curl.Status(base + "/api/v1/verdict?pool=blue",
                        {"-u", "prometheus:s3cret", "-X", "POST", "-d", "{}"}),
            "400");
  // TLS only: plain HTTP on that port gets no answer; TLS is verified against the certificate.
  const Curl plain{FindProgram("curl"), ""};
  EXPECT_EQ(plain.Status("http://127.0.0.1:" + std::to_string(pw.port()) + "/metrics", good),
            "000");
  const Curl other_ca{FindProgram("curl"), "/etc/ssl/certs/ca-certificates.crt"};
  EXPECT_EQ(other_ca.Status(base + "/metrics", good), "000");

  // The admin API: POST only, behind the same auth.
  EXPECT_EQ(curl.Status(base + "/api/v1/maintenance", {"-X", "POST", "-d", "{\"enabled\": true}"}),
            "401");
  EXPECT_EQ(curl.Status(base + "/api/v1/maintenance",
                        {"-u", "prometheus:s3cret", "-X", "POST", "-H",
                         "Content-Type: application/json", "-d", "{\"enabled\": true}"}),
            "200");
  EXPECT_EQ(curl.Status(base + "/-/reload", good), "405");
  EXPECT_EQ(curl.Status(base + "/-/reload", {"-X", "POST"}), "401");
  EXPECT_EQ(curl.Status(base + "/-/reload", {"-u", "prometheus:s3cret", "-X", "POST"}), "202");
  ASSERT_TRUE(WaitUntil(
      [&] { return pw.process().Output().find("configuration reloaded") != std::string::npos; },
      seconds(10)))
      << pw.process().Output();

  // And it still reads its log.
  AppendFile(dir_ / "tls.log", kBlueLogLine);
  std::string body;
  ASSERT_TRUE(WaitUntil(
      [&] {
        RunCommand({curl.curl, "-sS", "--cacert", curl.cacert, "-u", "prometheus:s3cret",
                    base + "/metrics"},
                   &body);
        return MetricValue(body, "poolwatch_http_requests_total") == 1;
      },
      seconds(10)));
  EXPECT_THAT(pw.process().Output(), HasSubstr("TLS on, basic auth for 1 users"));
  EXPECT_THAT(pw.process().Output(), ::testing::Not(HasSubstr(hash_)));
}

TEST_F(WebSecurity, AdminEndpointsAreOffWithoutTheFlagEvenWithTheRightPassword) {
  WriteFile(dir_ / "web.yml", "basic_auth_users:\n  prometheus: " + hash_ + "\n");
  Poolwatch pw(dir_, "auth", {"--web.config.file", (dir_ / "web.yml").string()});
  Curl curl{FindProgram("curl"), ""};
  const std::string base = "http://127.0.0.1:" + std::to_string(pw.port());
  const std::vector<std::string> good = {"-u", "prometheus:s3cret"};
  ASSERT_TRUE(WaitUntil([&] { return curl.Status(base + "/-/ready", good) == "200"; }, seconds(20),
                        milliseconds(100)))
      << pw.process().Output();
  EXPECT_EQ(curl.Status(base + "/metrics"), "401");
  EXPECT_EQ(curl.Status(base + "/api/v1/maintenance", {"-u", "prometheus:s3cret", "-X", "POST"}),
            "403");
  EXPECT_EQ(curl.Status(base + "/-/reload", {"-u", "prometheus:s3cret", "-X", "POST"}), "403");
  EXPECT_EQ(curl.Status(base + "/api/v1/maintenance", good), "200");  // reading is not admin
}

TEST_F(WebSecurity, ABadWebConfigStopsTheStartWithFileLineAndKey) {
  WriteFile(dir_ / "web.yml", "basic_auth_users:\n  prometheus: plain-password\n");
  std::string output;
  WriteFile(dir_ / "bad.log", "");
  EXPECT_EQ(RunCommand({POOLWATCH_BINARY, "--log.path", (dir_ / "bad.log").string(),
                        "--web.listen-address", "127.0.0.1:0", "--web.config.file",
                        (dir_ / "web.yml").string()},
                       &output),
            2);
  EXPECT_THAT(output, HasSubstr("web.yml:2: basic_auth_users.prometheus: expected a bcrypt hash"));
  EXPECT_THAT(output, ::testing::Not(HasSubstr("plain-password")));
}

TEST_F(WebSecurity, EveryListenAddressIsServedAlikeWithTlsAndAuthAndItsBoundPortIsLogged) {
  WriteFile(dir_ / "web.yml",
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "basic_auth_users:\n  prometheus: " +
                hash_ + "\n");
  PoolwatchOnPortZero pw(dir_, "two", {"127.0.0.1:0", "127.0.0.1:0"},
                         {"--web.config.file", (dir_ / "web.yml").string()});
  ASSERT_EQ(pw.ports().size(), 2u) << pw.process().Output();
  EXPECT_NE(pw.ports()[0], pw.ports()[1]);
  EXPECT_NE(pw.ports()[0], 0);
  const Curl curl{FindProgram("curl"), (dir_ / "server.crt").string()};
  for (int port : pw.ports()) {
    const std::string base = "https://127.0.0.1:" + std::to_string(port);
    ASSERT_TRUE(WaitUntil(
        [&] {
          return curl.Status(base + "/-/ready", {"-u", "prometheus:s3cret"}) == "200";
        },
        seconds(20), milliseconds(100)))
        << port << "\n"
        << pw.process().Output();
    EXPECT_EQ(curl.Status(base + "/metrics"), "401") << port;
    const Curl plain{FindProgram("curl"), ""};
    EXPECT_EQ(plain.Status("http://127.0.0.1:" + std::to_string(port) + "/metrics"), "000") << port;
  }
  EXPECT_THAT(pw.process().Output(), HasSubstr("tls=true"));
}

TEST_F(WebSecurity, MinVersionAndCipherSuitesDecideWhatAClientCanNegotiate) {
  // s_client's exit status says whether the handshake succeeded; stdin is /dev/null, so it
  // leaves right after.
  auto handshake = [&](int port, std::vector<std::string> options, std::string* out) {
    std::vector<std::string> argv = {openssl_,
                                     "s_client",
                                     "-connect",
                                     "127.0.0.1:" + std::to_string(port),
                                     "-CAfile",
                                     (dir_ / "server.crt").string(),
                                     "-verify_return_error",
                                     "-brief"};
    argv.insert(argv.end(), options.begin(), options.end());
    return RunCommand(argv, out) == 0;
  };
  WriteFile(dir_ / "tls13.yml",
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  min_version: TLS13\n");
  WriteFile(dir_ / "suites.yml",
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  max_version: TLS12\n"
            "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n");
  PoolwatchOnPortZero tls13(dir_, "tls13", {"127.0.0.1:0"},
                            {"--web.config.file", (dir_ / "tls13.yml").string()});
  PoolwatchOnPortZero suites(dir_, "suites", {"127.0.0.1:0"},
                             {"--web.config.file", (dir_ / "suites.yml").string()});
  ASSERT_GT(tls13.port(), 0) << tls13.process().Output();
  ASSERT_GT(suites.port(), 0) << suites.process().Output();

  std::string out;
  EXPECT_TRUE(handshake(tls13.port(), {"-tls1_3"}, &out)) << out;
  EXPECT_THAT(out, HasSubstr("TLSv1.3"));
  EXPECT_FALSE(handshake(tls13.port(), {"-tls1_2"}, &out)) << out;
  EXPECT_THAT(out, HasSubstr("protocol version"));

  EXPECT_FALSE(handshake(suites.port(), {"-tls1_3"}, &out)) << out;
  EXPECT_TRUE(handshake(suites.port(), {"-tls1_2"}, &out)) << out;
  EXPECT_THAT(out, HasSubstr("ECDHE-RSA-AES256-GCM-SHA384"));
  EXPECT_FALSE(
      handshake(suites.port(), {"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"}, &out))
      << out;
}

TEST_F(WebSecurity, ClientCertificatesAreRequiredAndVerifiedAndHeadersGoOnEveryAnswer) {
  auto run = [&](std::vector<std::string> argv) {
    std::string out;
    argv.insert(argv.begin(), openssl_);
    EXPECT_EQ(RunCommand(argv, &out), 0) << out;
  };
  const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                       "-nodes"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::string d = dir_.path().string() + "/";
  run(with({"req", "-x509", "-days", "2", "-subj", "/CN=clients-ca", "-keyout", d + "ca.key",
            "-out", d + "ca.crt"},
           ec));
  run(with(
      {"req", "-subj", "/CN=prometheus", "-keyout", d + "client.key", "-out", d + "client.csr"},
      ec));
  run({"x509", "-req", "-days", "2", "-in", d + "client.csr", "-CA", d + "ca.crt", "-CAkey",
       d + "ca.key", "-CAcreateserial", "-out", d + "client.crt"});
  run(with({"req", "-x509", "-days", "2", "-subj", "/CN=stranger", "-keyout", d + "stranger.key",
            "-out", d + "stranger.crt"},
           ec));

  WriteFile(dir_ / "web.yml",
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
            "http_server_config:\n  http2: false\n  headers:\n"
            "    Strict-Transport-Security: max-age=31536000\n"
            "    X-Frame-Options: sameorigin\n"
            "basic_auth_users:\n  prometheus: " +
                hash_ + "\n");
  PoolwatchOnPortZero pw(dir_, "mtls", {"127.0.0.1:0"},
                         {"--web.config.file", (dir_ / "web.yml").string()});
  ASSERT_GT(pw.port(), 0) << pw.process().Output();
  const Curl curl{FindProgram("curl"), (dir_ / "server.crt").string()};
  const std::string url = "https://127.0.0.1:" + std::to_string(pw.port()) + "/metrics";
  const std::vector<std::string> client = {"--cert", d + "client.crt", "--key", d + "client.key"};
  const std::vector<std::string> user = {"-u", "prometheus:s3cret"};
  std::string headers;
  ASSERT_TRUE(WaitUntil([&] { return curl.Status(url, with(client, user), &headers) == "200"; },
                        seconds(20), milliseconds(100)))
      << headers << pw.process().Output();
  EXPECT_THAT(headers, HasSubstr("Strict-Transport-Security: max-age=31536000\r\n"));
  EXPECT_THAT(headers, HasSubstr("X-Frame-Options: sameorigin\r\n"));
  EXPECT_THAT(headers, ::testing::Not(HasSubstr("X-Frame-Options: DENY")));
  // Basic auth still applies behind the certificate, and its refusal carries the headers too.
  EXPECT_EQ(curl.Status(url, client, &headers), "401");
  EXPECT_THAT(headers, HasSubstr("Strict-Transport-Security: max-age=31536000\r\n"));

  EXPECT_EQ(curl.Status(url, user), "000");  // no certificate
  EXPECT_EQ(
      curl.Status(url, with({"--cert", d + "stranger.crt", "--key", d + "stranger.key"}, user)),
      "000");  // a certificate the client CA did not sign
  EXPECT_EQ(curl.Status(url, with(client, user)), "200");
}

TEST_F(WebSecurity, AnIpv6ListenAddressIsRefusedAtStartWhenCivetwebHasNoIpv6) {
  WriteFile(dir_ / "v6.log", "");
  std::string output;
  const int status =
      RunCommand({POOLWATCH_BINARY, "--log.path", (dir_ / "v6.log").string(),
                  "--web.listen-address", "127.0.0.1:0", "--web.listen-address", "[::1]:0"},
                 &output);
  if (status != 2 && output.find("msg=\"listening\"") != std::string::npos) {
    GTEST_SKIP() << "this civetweb listens on IPv6";
  }
  EXPECT_EQ(status, 2) << output;
  EXPECT_THAT(output, HasSubstr("web.listen_address (or --web.listen-address): IPv6 is not "
                                "available in this build"));
  EXPECT_THAT(output, ::testing::Not(HasSubstr("null context")));
}

}  // namespace
}  // namespace poolwatch::testing
