// What a reload cannot apply is named by key, from two configurations as loaded from files.
#include "config/restart_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace poolwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Config Load(const std::string& yaml) { return LoadConfigFromString(yaml, "poolwatch.yml", {}); }

const char kRunning[] =
    "log:\n"
    "  path: [/var/log/nginx/*.access.log]\n"
    "  path_label: {name: site, regex: '/var/log/nginx/(.+)\\.access\\.log'}\n"
    "  syslog:\n"
    "    listen: udp://127.0.0.1:5514\n"
    "web:\n"
    "  listen_address: 127.0.0.1:10090\n"
    "state:\n"
    "  path: /var/lib/poolwatch/state.json\n"
    "alerting:\n"
    "  active_pool: blue\n";

TEST(ChangedRestartSettings, NothingWhenOnlyWhatAReloadAppliesChanged) {
  const Config running = Load(kRunning);
  EXPECT_THAT(ChangedRestartSettings(running, Load(kRunning)), IsEmpty());
  std::string fresh = kRunning;
  fresh.replace(fresh.find("active_pool: blue"), 17, "active_pool: green");
  fresh += "log_level: debug\n";
  EXPECT_THAT(ChangedRestartSettings(running, Load(fresh)), IsEmpty());
}

TEST(ChangedRestartSettings, NamesEachChangedKeyInTheFilesOrder) {
  const Config running = Load(kRunning);
  const Config fresh = Load(
      "log:\n"
      "  path: [/var/log/nginx/*.access.log, /srv/access.log]\n"
      "  path_label: {name: vhost, regex: '/var/log/nginx/(.+)\\.access\\.log'}\n"
      "  escape: json\n"
      "  files:\n"
      "    - path: /srv/legacy.log\n"
      "  syslog:\n"
      "    listen: unixgram:///run/poolwatch/syslog.sock\n"
      "    labels: [host]\n"
      "web:\n"
      "  listen_address: 127.0.0.1:10091\n"
      "metrics:\n"
      "  max_pools: 5\n"
      "state:\n"
      "  path: /var/lib/poolwatch/other.json\n"
      "remote_write:\n"
      "  - url: http://127.0.0.1:9090/api/v1/write\n"
      "alerting:\n"
      "  active_pool: blue\n");
  EXPECT_THAT(ChangedRestartSettings(running, fresh),
              ElementsAre("log.path", "log.path_label", "log.files", "log.escape",
                          "log.syslog.listen", "log.syslog.labels", "web.listen_address",
                          "metrics.max_pools", "state.path", "remote_write"));
}

TEST(ChangedRestartSettings, ALabelsRegexOrCapIsAChangeOfTheLabel) {
  const Config running = Load(kRunning);
  std::string fresh = kRunning;
  fresh.replace(fresh.find("(.+)"), 4, "(\\w+)");
  EXPECT_THAT(ChangedRestartSettings(running, Load(fresh)), ElementsAre("log.path_label"));
  Config capped = running;
  capped.path_label.max_values = 7;
  EXPECT_THAT(ChangedRestartSettings(running, capped), ElementsAre("log.path_label"));
}

TEST(ChangedRestartSettings, TheFormatItsVariablesAndTheStartPoint) {
  const Config running = Load(kRunning);
  Config fresh = running;
  fresh.log_format = "$msec $status $upstream_addr $upstream_status $upstream_http_x_app_pool";
  fresh.format_options.pool_variable = "upstream_http_x_pool";
  fresh.format_options.release_variable = "upstream_http_x_release";
  fresh.start_at_beginning = true;
  fresh.pools = {{"10.0.0.1:80", "blue"}};
  fresh.telemetry_path = "/m";
  fresh.web_config_file = "/etc/poolwatch/web.yml";
  fresh.state_interval = std::chrono::seconds(2);
  EXPECT_THAT(ChangedRestartSettings(running, fresh),
              ElementsAre("log.format", "log.pool_variable", "log.release_variable", "log.pools",
                          "log.start_at", "web.telemetry_path", "web.config_file",
                          "state.checkpoint_interval"));
}

}  // namespace
}  // namespace poolwatch
