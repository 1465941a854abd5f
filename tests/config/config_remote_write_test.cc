// The remote_write section: Prometheus' key names, and every mistake named by file, line and
// key without echoing a secret.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/config/config_error_of.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::ConfigErrorOf;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

TEST(ConfigRemoteWrite, ReadsEveryKey) {
  testing::TempDir dir;
  testing::WriteFile(dir / "password", "  pa55word\n");
  testing::WriteFile(dir / "ca.pem", "not checked here\n");
  const std::string yaml =
      "remote_write:\n"
      "  - url: https://mimir.example/api/v1/push\n"
      "    name: mimir\n"
      "    interval: 30s\n"
      "    remote_timeout: 10s\n"
      "    headers: {X-Scope-OrgID: team-a}\n"
      "    basic_auth: {username: pw, password_file: " +
      (dir / "password").string() +
      "}\n"
      "    tls_config:\n"
      "      ca_file: " +
      (dir / "ca.pem").string() +
      "\n"
      "      server_name: mimir.internal\n"
      "      insecure_skip_verify: false\n"
      "    external_labels: {region: eu, cluster: edge-1}\n"
      "    queue_config:\n"
      "      capacity: 1000\n"
      "      max_samples_per_send: 100\n"
      "      min_backoff: 50ms\n"
      "      max_backoff: 10s\n"
      "  - url: http://127.0.0.1:9090/api/v1/write\n"
      "    bearer_token: tok\n";
  Config config = LoadConfigFromString(yaml, "poolwatch.yml", {});
  ASSERT_EQ(config.remote_write.size(), 2u);
  const RemoteWriteOptions& mimir = config.remote_write[0];
  EXPECT_EQ(mimir.url, "https://mimir.example/api/v1/push");
  EXPECT_EQ(mimir.name, "mimir");
  EXPECT_EQ(mimir.interval, 30s);
  EXPECT_EQ(mimir.remote_timeout, 10s);
  ASSERT_EQ(mimir.headers.size(), 1u);
  EXPECT_EQ(mimir.headers[0].first, "X-Scope-OrgID");
  EXPECT_EQ(mimir.headers[0].second, "team-a");
  EXPECT_EQ(mimir.basic_auth_username, "pw");
  EXPECT_EQ(mimir.basic_auth_password, "pa55word");
  EXPECT_EQ(mimir.tls.ca_file, (dir / "ca.pem").string());
  EXPECT_EQ(mimir.tls.server_name, "mimir.internal");
  EXPECT_EQ(mimir.external_labels,
            (std::map<std::string, std::string>{{"cluster", "edge-1"}, {"region", "eu"}}));
  EXPECT_EQ(mimir.capacity, 1000u);
  EXPECT_EQ(mimir.max_samples_per_send, 100u);
  EXPECT_EQ(mimir.min_backoff, 50ms);
  EXPECT_EQ(mimir.max_backoff, 10s);
  EXPECT_EQ(config.remote_write[1].bearer_token, "tok");
  EXPECT_EQ(config.remote_write[1].interval, 15s);  // the default
}

TEST(ConfigRemoteWrite, NoSectionMeansNoPush) {
  EXPECT_TRUE(LoadConfigFromString("instance: a\n", "poolwatch.yml", {}).remote_write.empty());
}

struct Mistake {
  std::string yaml;  // the entry's keys after "remote_write:\n  - "
  std::string expected;
};

TEST(ConfigRemoteWrite, EachMistakeNamesFileLineAndKey) {
  const std::vector<Mistake> mistakes = {
      {"interval: 15s\n", "poolwatch.yml:2: remote_write[0].url: is required"},
      {"url: ftp://x\n",
       "poolwatch.yml:2: remote_write[0].url: expected an http:// or https:// URL"},
      {"url: http://x\n    interval: 10ms\n",
       "poolwatch.yml:3: remote_write[0].interval: must be between 100ms and 1h"},
      {"url: http://x\n    interval: soon\n",
       "poolwatch.yml:3: remote_write[0].interval: expected a duration"},
      {"url: http://x\n    remote_timeout: 1h\n",
       "poolwatch.yml:3: remote_write[0].remote_timeout: must be between 100ms and 5m"},
      {"url: http://x\n    qeue_config: {}\n",
       "poolwatch.yml:3: remote_write[0].qeue_config: unknown key"},
      {"url: http://x\n    headers: {Authorization: Bearer x}\n",
       "poolwatch.yml:3: remote_write[0].headers.Authorization: is set by poolwatch itself"},
      {"url: http://x\n    headers: {\"bad name\": x}\n",
       "poolwatch.yml:3: remote_write[0].headers.bad name: is not a valid header name"},
      {"url: http://x\n    basic_auth: {password: x}\n",
       "poolwatch.yml:3: remote_write[0].basic_auth.username: is required"},
      {"url: http://x\n    basic_auth: {username: u, password: x, password_file: /f}\n",
       "poolwatch.yml:3: remote_write[0].basic_auth.password_file: give password or "
       "password_file, not both"},
      {"url: http://x\n    basic_auth: {username: u, password_file: /nonexistent/pw}\n",
       "poolwatch.yml:3: remote_write[0].basic_auth.password_file: cannot read /nonexistent/pw"},
      {"url: http://x\n    bearer_token: a\n    bearer_token_file: /f\n",
       "poolwatch.yml:4: remote_write[0].bearer_token_file: give bearer_token or "
       "bearer_token_file, not both"},
      {"url: http://x\n    bearer_token: a\n    basic_auth: {username: u, password: p}\n",
       "poolwatch.yml:4: remote_write[0].basic_auth: give basic_auth or a bearer token, not both"},
      {"url: http://x\n    tls_config: {ca_file: /nonexistent/ca.pem}\n",
       "poolwatch.yml:3: remote_write[0].tls_config.ca_file: cannot read /nonexistent/ca.pem"},
      {"url: http://x\n    tls_config: {insecure_skip_verify: maybe}\n",
       "poolwatch.yml:3: remote_write[0].tls_config.insecure_skip_verify: expected true or false"},
      {"url: http://x\n    external_labels: {__name__: x}\n",
       "poolwatch.yml:3: remote_write[0].external_labels.__name__: expected a label name"},
      {"url: http://x\n    external_labels: {region: \"\"}\n",
       "poolwatch.yml:3: remote_write[0].external_labels.region: must not be empty"},
      {"url: http://x\n    queue_config: {capacity: 0}\n",
       "poolwatch.yml:3: remote_write[0].queue_config.capacity:"},
      {"url: http://x\n    queue_config: {min_backoff: 2s, max_backoff: 1s}\n",
       "poolwatch.yml:3: remote_write[0].queue_config.max_backoff: must not be below min_backoff"},
      {"url: http://x/a\n  - url: http://x/b\n",
       "poolwatch.yml:3: remote_write[1].name: two receivers would both be called "
       "http://x/<redacted>: give each a name"},
  };
  for (const Mistake& m : mistakes) {
    EXPECT_THAT(ConfigErrorOf("remote_write:\n  - " + m.yaml), HasSubstr(m.expected)) << m.yaml;
  }
  EXPECT_THAT(ConfigErrorOf("remote_write: http://x\n"),
              HasSubstr("poolwatch.yml:1: remote_write: expected a list of receivers"));
}

TEST(ConfigRemoteWrite, MistakesNeverEchoASecret) {
  const std::vector<std::string> yamls = {
      "url: htp://user:s3cretpass@host/write\n",
      "url: http://x\n    headers: {X-Api-Key: [s3cretpass]}\n",
      "url: http://x\n    headers: {X-Api-Key: \"s3cret\\npass\"}\n",
      "url: http://x\n    basic_auth: {username: u, password: s3cretpass, password_file: /f}\n",
      "url: http://x\n    bearer_token: s3cretpass\n    bearer_token_file: /f\n",
  };
  for (const std::string& yaml : yamls) {
    const std::string error = ConfigErrorOf("remote_write:\n  - " + yaml);
    EXPECT_THAT(error, HasSubstr("remote_write[0]")) << yaml;
    EXPECT_THAT(error, Not(HasSubstr("s3cret"))) << error;
  }
}

}  // namespace
}  // namespace poolwatch
