#include "config/web_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kHash = "$2y$10$Rmhy5M1dVt1b8b9n2rZf4eC0f4wB6m4Jm3QlQ0vUo0Bq4a9a6Yb5W";

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
}

TEST(WebConfig, ReadsTlsAndUsersWithPathsRelativeToTheFile) {
  TempDir dir;
  WriteFile(dir / "server.crt", "cert");
  WriteFile(dir / "server.key", "key");
  const std::string path = (dir / "web.yml").string();
  WriteFile(path, "tls_server_config:\n  cert_file: server.crt\n  key_file: " +
                      (dir / "server.key").string() + "\nbasic_auth_users:\n  prometheus: " +
                      kHash + "\n  grafana: '$2b$12$" + std::string(53, 'a') + "'\n");
  WebConfig config = LoadWebConfig(path);
  EXPECT_TRUE(config.tls());
  EXPECT_EQ(config.cert_file, (dir / "server.crt").string());
  EXPECT_EQ(config.key_file, (dir / "server.key").string());
  ASSERT_EQ(config.users.size(), 2u);
  EXPECT_EQ(config.users.at("prometheus"), kHash);
}

TEST(WebConfig, WhatPoolwatchDoesNotImplementIsRejectedWithLineAndKey) {
  EXPECT_THAT(ErrorOf("tls_server_config:\n  client_ca_file: ca.pem\n"),
              HasSubstr("web.yml:2: tls_server_config.client_ca_file: not supported"));
  EXPECT_THAT(ErrorOf("http_server_config:\n  http2: false\n"),
              HasSubstr("web.yml:1: http_server_config: not supported"));
  EXPECT_THAT(ErrorOf("basic_auth:\n  a: b\n"), HasSubstr("basic_auth: unknown key"));
  EXPECT_THAT(ErrorOf("tls_server_config:\n  cert_file: /etc/ssl/certs/ca-certificates.crt\n"),
              HasSubstr("cert_file and key_file go together"));
  EXPECT_THAT(
      ErrorOf(
          "tls_server_config:\n  cert_file: /nonexistent/a.crt\n  key_file: /nonexistent/a.key\n"),
      HasSubstr("web.yml:2: tls_server_config.cert_file: cannot read /nonexistent/a.crt"));
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
