// Configuration mistakes: each names file, line and key (or the environment variable), and the
// log format as users paste it from nginx.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "config/config.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::testing::HasSubstr;
using ::poolwatch::testing::ReadFile;

std::string ErrorOf(const std::string& yaml, const Environment& env = {}) {
  try {
    LoadConfigFromString(yaml, "poolwatch.yml", env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// Every line indented for a YAML block scalar.
std::string Indented(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) out += "    " + line + "\n";
  return out;
}

// The ```nginx block of the README: what users are told to paste.
std::string ReadmeDirective() {
  const std::string readme = ReadFile(std::filesystem::path(POOLWATCH_SOURCE_DIR) / "README.md");
  const size_t start = readme.find("```nginx\n");
  if (start == std::string::npos) return "";
  const size_t body = start + 9;
  return readme.substr(body, readme.find("```", body) - body);
}

TEST(ConfigLogFormat, TheReadmesDirectivePastedAsABlockIsTheDefaultFormat) {
  const std::string directive = ReadmeDirective();
  ASSERT_THAT(directive, HasSubstr("log_format poolwatch '"));
  Config config = LoadConfigFromString("log:\n  format: |\n" + Indented(directive), "p.yml", {});
  EXPECT_EQ(config.log_format, kDefaultLogFormat);
  EXPECT_EQ(config.format_options.escape, LogEscape::kDefault);
  EXPECT_NO_THROW(ValidateConfig(config));
}

TEST(ConfigLogFormat, ABareFormatKeepsWorking) {
  Config config = LoadConfigFromString(
      "log:\n  format: '" + std::string(kDefaultLogFormat) + "'\n  escape: none\n", "p.yml", {});
  EXPECT_EQ(config.log_format, kDefaultLogFormat);
  EXPECT_EQ(config.format_options.escape, LogEscape::kNone);
}

TEST(ConfigLogFormat, TheDirectivesEscapeIsUsedAndMustAgreeWithLogEscape) {
  const std::string json =
      "log_format j escape=json '{\"t\":\"$time_local\",\"s\":\"$status\",'\n"
      "  '\"p\":\"$upstream_http_x_app_pool\",\"a\":\"$upstream_addr\",\"u\":\"$upstream_status\"}';";
  Config config = LoadConfigFromString("log:\n  format: |\n" + Indented(json), "p.yml", {});
  EXPECT_EQ(config.format_options.escape, LogEscape::kJson);
  EXPECT_EQ(config.log_format.front(), '{');

  std::string error = ErrorOf("log:\n  escape: default\n  format: |\n" + Indented(json));
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:2"));
  EXPECT_THAT(error, HasSubstr("log.escape"));
  EXPECT_THAT(error, HasSubstr("contradicts"));
}

TEST(ConfigLogFormat, UnbalancedQuotesNameFileLineAndKey) {
  std::string error = ErrorOf(
      "log:\n  path: /x\n  format: |\n    log_format p '$remote_addr [$time_local] $status'\n"
      "      'pool=$upstream_http_x_app_pool upstream_addr=$upstream_addr;\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:3"));
  EXPECT_THAT(error, HasSubstr("log.format"));
  EXPECT_THAT(error, HasSubstr("never closed"));
}

}  // namespace
}  // namespace poolwatch
