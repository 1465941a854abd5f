// log.path as one path or a list of paths and globs, and log.path_label; mistakes name file,
// line and key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/config/config_error_of.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::ConfigErrorOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ConfigLogPaths, OnePathOrAListOfPathsAndGlobs) {
  Config one = LoadConfigFromString("log:\n  path: /var/log/nginx/access.log\n", "p.yml", {});
  EXPECT_THAT(LogPatterns(one), ElementsAre("/var/log/nginx/access.log"));
  Config many = LoadConfigFromString(
      "log:\n  path:\n    - /var/log/nginx/*.access.log\n    - /srv/www/access.log\n", "p.yml", {});
  EXPECT_THAT(LogPatterns(many), ElementsAre("/var/log/nginx/*.access.log", "/srv/www/access.log"));
  EXPECT_THAT(LogPatterns(Config{}), IsEmpty());
}

TEST(ConfigLogPaths, TheEnvironmentReplacesTheList) {
  Config config = LoadConfigFromString("log:\n  path:\n    - /a/*.log\n    - /b/*.log\n", "p.yml",
                                       {{"POOLWATCH_LOG_PATH", "/c/access.log"}});
  EXPECT_THAT(LogPatterns(config), ElementsAre("/c/access.log"));
}

TEST(ConfigLogPaths, TheEnvironmentTakesOnePathOrACommaSeparatedList) {
  Config one = LoadConfigFromString("", "p.yml", {{"POOLWATCH_LOG_PATH", "/c/access.log"}});
  EXPECT_THAT(one.log_paths, ElementsAre("/c/access.log"));
  Config many = LoadConfigFromString("log:\n  path: /a/access.log\n", "p.yml",
                                     {{"POOLWATCH_LOG_PATH", "/b/*.access.log, /c/access.log"}});
  EXPECT_THAT(LogPatterns(many), ElementsAre("/b/*.access.log", "/c/access.log"));
  // Unset or empty: the file's list stays.
  Config file =
      LoadConfigFromString("log:\n  path: /a/access.log\n", "p.yml", {{"POOLWATCH_LOG_PATH", ""}});
  EXPECT_THAT(LogPatterns(file), ElementsAre("/a/access.log"));
}

TEST(ConfigLogPaths, EnvironmentMistakesNameTheVariable) {
  auto error_of = [](const std::string& value) {
    try {
      LoadConfigFromString("", "p.yml", {{"POOLWATCH_LOG_PATH", value}});
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("/a.log,/b.log,/a.log"),
            "environment variable POOLWATCH_LOG_PATH: '/a.log' is given twice");
  EXPECT_EQ(error_of(" , "),
            "environment variable POOLWATCH_LOG_PATH: expected at least one path or glob");
}

TEST(ConfigLogPaths, AListFromFlagsIsCheckedOnceMerged) {
  Config config;
  config.log_paths = {"/a.log", "/b/*.log", "/a.log"};
  try {
    ValidateConfig(config);
    ADD_FAILURE() << "a path given twice was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "log.path (or --log.path): '/a.log' is given twice");
  }
  config.log_paths = {"/a.log", ""};
  EXPECT_THROW(ValidateConfig(config), ConfigError);
  config.log_paths = {};  // syslog only
  EXPECT_NO_THROW(ValidateConfig(config));
  EXPECT_THAT(LoadConfigFromString("log:\n  path: ''\n", "p.yml", {}).log_paths, IsEmpty());
}

TEST(ConfigLogPaths, MistakesNameFileLineAndKey) {
  EXPECT_THAT(ConfigErrorOf("log:\n  path: []\n"),
              HasSubstr("poolwatch.yml:2: log.path: expected at least one path or glob"));
  EXPECT_THAT(ConfigErrorOf("log:\n  path:\n    - /a/*.log\n    - /a/*.log\n"),
              HasSubstr("poolwatch.yml:4: log.path: '/a/*.log' is listed twice"));
  EXPECT_THAT(ConfigErrorOf("log:\n  path:\n    - /a/*.log\n    - ''\n"),
              HasSubstr("poolwatch.yml:4: log.path: expected a path or glob"));
}

TEST(ConfigPathLabel, SetsTheMetricsLabel) {
  Config config = LoadConfigFromString(
      "log:\n  path: /var/log/nginx/*.access.log\n  path_label:\n    name: site\n"
      "    regex: '/var/log/nginx/(.+)\\.access\\.log'\n    max_values: 30\n",
      "p.yml", {});
  EXPECT_EQ(config.path_label.name, "site");
  EXPECT_EQ(config.path_label.pattern, "/var/log/nginx/(.+)\\.access\\.log");
  EXPECT_EQ(SourceLabelNames(config), std::vector<std::string>{"site"});
  EXPECT_EQ(config.metrics.max_sources, 30u);
  EXPECT_TRUE(SourceLabelNames(LoadConfigFromString("log:\n  path: /x\n", "p.yml", {})).empty());
}

TEST(ConfigPathLabel, MistakesNameFileLineAndKey) {
  const std::string head = "log:\n  path: /var/log/nginx/*.log\n  path_label:\n";
  EXPECT_THAT(ConfigErrorOf(head + "    regex: '(.+)'\n"),
              HasSubstr("poolwatch.yml:4: log.path_label.name: missing"));
  EXPECT_THAT(ConfigErrorOf(head + "    name: site\n"),
              HasSubstr("poolwatch.yml:4: log.path_label.regex: missing"));
  EXPECT_THAT(ConfigErrorOf(head + "    name: 1site\n    regex: '(.+)'\n"),
              HasSubstr("poolwatch.yml:4: log.path_label.name: expected a label name"));
  EXPECT_THAT(ConfigErrorOf(head + "    name: pool\n    regex: '(.+)'\n"),
              HasSubstr("poolwatch.yml:4: log.path_label.name: 'pool' is a label the request "
                        "metrics already have"));
  EXPECT_THAT(ConfigErrorOf(head + "    name: site\n    regex: '(unclosed'\n"),
              HasSubstr("poolwatch.yml:5: log.path_label.regex: does not compile"));
  EXPECT_THAT(ConfigErrorOf(head + "    name: site\n    regex: '(.+)'\n    max_values: 0\n"),
              HasSubstr("poolwatch.yml:6: log.path_label.max_values"));
  EXPECT_THAT(ConfigErrorOf(head + "    name: site\n    regex: '(.+)'\n    colour: red\n"),
              HasSubstr("poolwatch.yml:6: log.path_label.colour"));
  EXPECT_THAT(ConfigErrorOf("log:\n  path_label: site\n"),
              HasSubstr("poolwatch.yml:2: log.path_label: expected a mapping"));
}

TEST(ConfigLogFiles, EachEntryInheritsWhatItDoesNotSetAndIsFollowed) {
  Config config = LoadConfigFromString(
      "log:\n  path: /var/log/nginx/*.access.log\n  escape: json\n"
      "  pool_variable: upstream_http_x_pool\n"
      "  format: '$msec $status $upstream_http_x_pool $upstream_addr $upstream_status'\n"
      "  files:\n"
      "    - path: /var/log/nginx/legacy.log\n"
      "      format: '$msec $status p=$upstream_http_x_app_pool $upstream_addr $upstream_status'\n"
      "      pool_variable: upstream_http_x_app_pool\n"
      "      escape: default\n"
      "    - path: /srv/*/access.log\n",
      "p.yml", {});
  ASSERT_EQ(config.log_files.size(), 2u);
  EXPECT_EQ(config.log_files[0].options.pool_variable, "upstream_http_x_app_pool");
  EXPECT_EQ(config.log_files[0].options.escape, LogEscape::kDefault);
  EXPECT_EQ(config.log_files[1].format, config.log_format);
  EXPECT_EQ(config.log_files[1].options.pool_variable, "upstream_http_x_pool");
  EXPECT_EQ(config.log_files[1].options.escape, LogEscape::kJson);
  EXPECT_THAT(LogPatterns(config), ElementsAre("/var/log/nginx/*.access.log",
                                               "/var/log/nginx/legacy.log", "/srv/*/access.log"));
}

TEST(ConfigLogFiles, MistakesNameFileLineAndKey) {
  const std::string head = "log:\n  path: /var/log/nginx/*.log\n  files:\n";
  EXPECT_THAT(ConfigErrorOf(head + "    - format: '$status'\n"),
              HasSubstr("poolwatch.yml:4: log.files[0].path: missing"));
  EXPECT_THAT(ConfigErrorOf(head + "    - path: /a.log\n      format: '$status'\n"),
              HasSubstr("poolwatch.yml:5: log.files[0].format: log format lacks"));
  EXPECT_THAT(ConfigErrorOf(head + "    - path: /a.log\n    - path: /b.log\n"
                                   "      pool_variable: upstream_http_x_pool\n"),
              HasSubstr("poolwatch.yml:5: log.files[1].format: log format lacks "
                        "$upstream_http_x_pool"));
  EXPECT_THAT(ConfigErrorOf(head + "    - path: /a.log\n      escape: yaml\n"),
              HasSubstr("poolwatch.yml:5: log.files[0].escape"));
  EXPECT_THAT(ConfigErrorOf(head + "    - path: /a.log\n    - path: /a.log\n"),
              HasSubstr("poolwatch.yml:5: log.files[1].path: '/a.log' is listed twice"));
  EXPECT_THAT(ConfigErrorOf(head + "    - path: /a.log\n      colour: red\n"),
              HasSubstr("poolwatch.yml:5: log.files[0].colour"));
  EXPECT_THAT(ConfigErrorOf("log:\n  files: /a.log\n"),
              HasSubstr("poolwatch.yml:2: log.files: expected a list"));
}

}  // namespace
}  // namespace poolwatch
