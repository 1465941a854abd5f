// log.syslog.listen: one address or a list, each udp:// or unixgram://; log.syslog.labels:
// syslog_tag and/or host as source labels; mistakes name file, line and key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/value_parsers.h"
#include "tests/config/config_error_of.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::ConfigErrorOf;
using ::testing::HasSubstr;

TEST(ParseSyslogListen, UdpAndUnixgramAddresses) {
  const auto udp = ParseSyslogListen("udp://127.0.0.1:5514");
  ASSERT_TRUE(udp.has_value());
  EXPECT_EQ(udp->kind, SyslogEndpoint::Kind::kUdp);
  EXPECT_EQ(udp->host, "127.0.0.1");
  EXPECT_EQ(udp->port, 5514);
  const auto any = ParseSyslogListen("udp://0.0.0.0:514");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->host, "0.0.0.0");
  const auto unix_socket = ParseSyslogListen("unixgram:///run/poolwatch/syslog.sock");
  ASSERT_TRUE(unix_socket.has_value());
  EXPECT_EQ(unix_socket->kind, SyslogEndpoint::Kind::kUnixgram);
  EXPECT_EQ(unix_socket->path, "/run/poolwatch/syslog.sock");
}

TEST(ParseSyslogListen, RefusesWhatCannotBeListenedOn) {
  const std::string long_path = "unixgram:///" + std::string(120, 'x');
  const std::vector<std::string> refused = {"",
                                            "127.0.0.1:5514",
                                            "tcp://127.0.0.1:5514",
                                            "udp://127.0.0.1",
                                            "udp://127.0.0.1:0",
                                            "udp://127.0.0.1:65536",
                                            "udp://127.0.0.1:55x",
                                            "udp://localhost:5514",
                                            "udp://:5514",
                                            "unixgram://relative.sock",
                                            "unixgram://",
                                            "unix:///run/x.sock",
                                            long_path};
  for (const std::string& bad : refused) {
    EXPECT_FALSE(ParseSyslogListen(bad).has_value()) << bad;
  }
}

TEST(ConfigSyslog, OneAddressOrAList) {
  Config one = LoadConfigFromString("log:\n  syslog:\n    listen: udp://127.0.0.1:5514\n",
                                    "poolwatch.yml", {});
  ASSERT_EQ(one.syslog_listen.size(), 1u);
  EXPECT_EQ(one.syslog_listen[0].port, 5514);
  Config two = LoadConfigFromString(
      "log:\n  syslog:\n    listen:\n      - udp://127.0.0.1:5514\n"
      "      - unixgram:///run/poolwatch/syslog.sock\n",
      "poolwatch.yml", {});
  ASSERT_EQ(two.syslog_listen.size(), 2u);
  EXPECT_EQ(two.syslog_listen[1].path, "/run/poolwatch/syslog.sock");
  EXPECT_TRUE(LoadConfigFromString("log:\n  path: /var/log/nginx/access.log\n", "poolwatch.yml", {})
                  .syslog_listen.empty());
}

TEST(ConfigSyslog, MistakesNameFileLineAndKey) {
  EXPECT_THAT(ConfigErrorOf("log:\n  syslog:\n    listen: tcp://127.0.0.1:5514\n"),
              HasSubstr("poolwatch.yml:3: log.syslog.listen: expected udp://IPV4:PORT or "
                        "unixgram:///ABSOLUTE/PATH, got 'tcp://127.0.0.1:5514'"));
  EXPECT_THAT(ConfigErrorOf("log:\n  syslog:\n    listen:\n      - udp://127.0.0.1:5514\n"
                            "      - udp://127.0.0.1:5514\n"),
              HasSubstr("poolwatch.yml:5: log.syslog.listen: 'udp://127.0.0.1:5514' is listed "
                        "twice"));
  EXPECT_THAT(ConfigErrorOf("log:\n  syslog:\n    port: 5514\n"),
              HasSubstr("poolwatch.yml:3: log.syslog.port"));
  EXPECT_THAT(ConfigErrorOf("log:\n  syslog:\n    {}\n"), HasSubstr("log.syslog.listen: missing"));
  EXPECT_THAT(ConfigErrorOf("log:\n  syslog: udp://127.0.0.1:5514\n"),
              HasSubstr("poolwatch.yml:2: log.syslog: expected a mapping with listen"));
}

TEST(ParseSyslogLabel, TheTwoLabelsAndNothingElse) {
  EXPECT_EQ(ParseSyslogLabel("syslog_tag"), SyslogLabel::kTag);
  EXPECT_EQ(ParseSyslogLabel("host"), SyslogLabel::kHost);
  for (const char* bad : {"", "tag", "hostname", "Host", "site", "syslog_tag "}) {
    EXPECT_FALSE(ParseSyslogLabel(bad).has_value()) << bad;
  }
}

TEST(ConfigSyslog, LabelsFollowThePathLabelInSourceLabelNames) {
  const std::string listen = "log:\n  syslog:\n    listen: udp://127.0.0.1:5514\n";
  Config both = LoadConfigFromString(listen + "    labels: [host, syslog_tag]\n", "p.yml", {});
  EXPECT_EQ(both.syslog_labels, (std::vector<SyslogLabel>{SyslogLabel::kHost, SyslogLabel::kTag}));
  EXPECT_EQ(SourceLabelNames(both), (std::vector<std::string>{"host", "syslog_tag"}));
  Config one = LoadConfigFromString(listen + "    labels: syslog_tag\n", "p.yml", {});
  EXPECT_EQ(SourceLabelNames(one), std::vector<std::string>{"syslog_tag"});
  Config with_path = LoadConfigFromString(
      "log:\n  path: /var/log/nginx/*.log\n  path_label:\n    name: site\n"
      "    regex: '/var/log/nginx/(.+)\\.log'\n"
      "  syslog:\n    listen: udp://127.0.0.1:5514\n    labels: [syslog_tag, host]\n",
      "p.yml", {});
  EXPECT_EQ(SourceLabelNames(with_path), (std::vector<std::string>{"site", "syslog_tag", "host"}));
  EXPECT_TRUE(LoadConfigFromString(listen, "p.yml", {}).syslog_labels.empty());
}

TEST(ConfigSyslog, LabelMistakesNameFileLineAndKey) {
  const std::string listen = "log:\n  syslog:\n    listen: udp://127.0.0.1:5514\n";
  EXPECT_THAT(ConfigErrorOf(listen + "    labels: [syslog_tag, hostname]\n"),
              HasSubstr("poolwatch.yml:4: log.syslog.labels: expected syslog_tag or host, got "
                        "'hostname'"));
  EXPECT_THAT(ConfigErrorOf(listen + "    labels:\n      - host\n      - host\n"),
              HasSubstr("poolwatch.yml:6: log.syslog.labels: 'host' is listed twice"));
  EXPECT_THAT(ConfigErrorOf("log:\n  path: /var/log/nginx/*.log\n  path_label:\n"
                            "    name: host\n    regex: '/var/log/nginx/(.+)\\.log'\n" +
                            listen.substr(5) + "    labels:\n      - syslog_tag\n      - host\n"),
              HasSubstr("poolwatch.yml:10: log.syslog.labels: 'host' is also log.path_label's "
                        "name"));
  EXPECT_THAT(ConfigErrorOf(listen + "    labels: {tag: true}\n"),
              HasSubstr("poolwatch.yml:4: log.syslog.labels"));
}

}  // namespace
}  // namespace poolwatch
