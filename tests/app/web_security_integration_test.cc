// --web.config.file with curl as the client: TLS with a certificate made by openssl for this
// test, basic auth with a bcrypt hash on every endpoint, and the admin endpoints off unless
// --web.enable-admin-api, POST only, behind the same auth.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "exporter/basic_auth.h"
#include "tests/support/test_support.h"

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
  Poolwatch(const TempDir& dir, const std::string& name, std::vector<std::string> extra)
      : port_(FreePort()) {
    WriteFile(dir / (name + ".log"), "");
    std::vector<std::string> argv = {POOLWATCH_BINARY, "--log.path",
                                     (dir / (name + ".log")).string(), "--web.listen-address",
                                     "127.0.0.1:" + std::to_string(port_)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<Process>(argv, dir / (name + ".out"));
  }
  int port() const { return port_; }
  Process& process() { return *process_; }

 private:
  int port_;
  std::unique_ptr<Process> process_;
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
                        "--web.listen-address", "127.0.0.1:" + std::to_string(FreePort()),
                        "--web.config.file", (dir_ / "web.yml").string()},
                       &output),
            2);
  EXPECT_THAT(output, HasSubstr("web.yml:2: basic_auth_users.prometheus: expected a bcrypt hash"));
  EXPECT_THAT(output, ::testing::Not(HasSubstr("plain-password")));
}

}  // namespace
}  // namespace poolwatch::testing
