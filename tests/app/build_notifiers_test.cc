#include <gtest/gtest.h>

#include <sstream>

#include "app/notifiers.h"

namespace poolwatch {
namespace {

class NullPoster final : public HttpPoster {
 public:
  HttpResult Post(const std::string&, const std::string&, const std::string&,
                  std::chrono::milliseconds) override {
    return {200, "", "", ""};
  }
};

std::vector<std::string> Names(const std::vector<std::unique_ptr<Notifier>>& notifiers) {
  std::vector<std::string> out;
  for (const auto& n : notifiers) out.emplace_back(n->Name());
  return out;
}

TEST(BuildNotifiers, alertmanagers_alone_replace_the_console_and_are_named_apart) {
  Config config;
  config.instance = "node-a";
  config.notify.alertmanager_urls = {"http://am-1:9093", "http://am-2:9093"};
  NullPoster poster;
  std::ostringstream console;
  auto notifiers = BuildNotifiers(config, poster, console);
  EXPECT_EQ(Names(notifiers), (std::vector<std::string>{"alertmanager-1", "alertmanager-2"}));
  EXPECT_EQ(notifiers[1]->Destination(), "alertmanager-2 http://am-2:9093/<redacted>");

  config.notify.alertmanager_urls = {"http://am:9093"};
  config.notify.slack_webhook_url = "https://hooks.slack.com/services/T/B/X";
  EXPECT_EQ(Names(BuildNotifiers(config, poster, console)),
            (std::vector<std::string>{"slack", "alertmanager"}));
  config.notify = {};
  EXPECT_EQ(Names(BuildNotifiers(config, poster, console)), (std::vector<std::string>{"console"}));
}

TEST(GeneratorUrl, is_the_configured_one_or_points_at_this_nodes_status_page) {
  Config config;
  config.instance = "node-a";
  config.listen_address = "0.0.0.0:10090";
  config.telemetry_path = "/prometheus/metrics";
  EXPECT_EQ(GeneratorUrl(config), "http://node-a:10090/");
  config.listen_address = ":0";
  EXPECT_EQ(GeneratorUrl(config), "");
  config.notify.generator_url = "https://poolwatch.node-a.example/";
  EXPECT_EQ(GeneratorUrl(config), "https://poolwatch.node-a.example/");
}

}  // namespace
}  // namespace poolwatch
