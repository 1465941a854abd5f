// The shipped fleet files (prometheus/fleet/), checked with the real programs: promtool accepts
// the scrape config with its file_sd targets and passes the fleet rules' unit tests, amtool
// accepts the Alertmanager config, a real Alertmanager inhibits per-node alerts with the
// fleet alert of the same pool, and its Slack messages tell firing nodes from recovered ones.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "alerting/notify/alertmanager_notifier.h"
#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

const fs::path kFleet = fs::path(POOLWATCH_SOURCE_DIR) / "prometheus" / "fleet";

#define REQUIRE_PROGRAM(var, name)           \
  const std::string var = FindProgram(name); \
  if (var.empty()) GTEST_SKIP() << name << " is not installed";

TEST(FleetRules, pass_promtool_check_and_their_unit_tests) {
  REQUIRE_PROGRAM(promtool, "promtool");
  std::string output;
  EXPECT_EQ(
      RunCommand({promtool, "check", "rules", (kFleet / "poolwatch-fleet.rules.yml").string()},
                 &output),
      0)
      << output;
  EXPECT_EQ(
      RunCommand({promtool, "test", "rules", (kFleet / "poolwatch-fleet.rules.test.yml").string()},
                 &output),
      0)
      << output;
  EXPECT_NE(output.find("SUCCESS"), std::string::npos) << output;
}

TEST(FleetScrapeConfig, is_valid_with_the_example_targets_file) {
  REQUIRE_PROGRAM(promtool, "promtool");
  // As deployed: the config next to its rules, the example copied into targets/.
  TempDir dir;
  fs::copy_file(kFleet / "prometheus-fleet.yml", dir / "prometheus-fleet.yml");
  fs::copy_file(kFleet / "poolwatch-fleet.rules.yml", dir / "poolwatch-fleet.rules.yml");
  fs::create_directory(dir / "targets");
  fs::copy_file(kFleet / "targets.example.yml", dir / "targets" / "nodes.yml");
  std::string output;
  EXPECT_EQ(
      RunCommand({promtool, "check", "config", (dir / "prometheus-fleet.yml").string()}, &output),
      0)
      << output;
  EXPECT_EQ(output.find("WARNING"), std::string::npos) << "the targets file was not found:\n"
                                                       << output;
  // Each node is named like poolwatch's --instance, not by its address.
  EXPECT_NE(ReadFile(kFleet / "targets.example.yml").find("instance: edge-1"), std::string::npos);
}

TEST(FleetAlertmanagerConfig, is_valid_and_routes_poolwatch_alerts_to_slack) {
  REQUIRE_PROGRAM(amtool, "amtool");
  const std::string config = (kFleet / "alertmanager-fleet.yml").string();
  std::string output;
  EXPECT_EQ(RunCommand({amtool, "check-config", config}, &output), 0) << output;
  EXPECT_EQ(
      RunCommand({amtool, "config", "routes", "test", "--config.file=" + config,
                  "--verify.receivers=slack", "alertname=failover", "pool=blue", "instance=node-a"},
                 &output),
      0)
      << output;
}

// One failover, one Slack message: the nodes' failover alerts page (one group naming the
// nodes); the fleet alert that follows a minute later for the same pool is kept off Slack,
// where it would be a second group and a second page.
TEST(FleetAlertmanagerConfig, a_fleet_failover_does_not_page_a_second_time) {
  REQUIRE_PROGRAM(amtool, "amtool");
  const std::string config = (kFleet / "alertmanager-fleet.yml").string();
  std::string output;
  EXPECT_EQ(RunCommand({amtool, "config", "routes", "test", "--config.file=" + config,
                        "--verify.receivers=fleet-context", "alertname=PoolwatchFleetFailover",
                        "pool=blue", "severity=critical", "scope=fleet"},
                       &output),
            0)
      << output;
  // The other fleet alerts still page: no node alert says what they say.
  EXPECT_EQ(RunCommand({amtool, "config", "routes", "test", "--config.file=" + config,
                        "--verify.receivers=slack", "alertname=PoolwatchFleetHighErrorRate",
                        "severity=critical", "scope=fleet"},
                       &output),
            0)
      << output;
  EXPECT_EQ(RunCommand({amtool, "config", "routes", "test", "--config.file=" + config,
                        "--verify.receivers=slack", "alertname=PoolwatchNodeDown",
                        "instance=node-a", "severity=critical"},
                       &output),
            0)
      << output;
  EXPECT_EQ(RunCommand({amtool, "config", "routes", "test", "--config.file=" + config,
                        "--verify.receivers=slack", "alertname=PoolwatchFleetAbsent",
                        "severity=critical", "scope=fleet"},
                       &output),
            0)
      << output;
}

// The shipped fleet Alertmanager configuration, its Slack webhook file in `dir`, started on a free
// loopback port and ready; `group_timing` (e.g. "1s") shortens group_wait to it and
// group_interval to twice it, so a test sees a group's updates within seconds.
void StartFleetAlertmanager(const std::string& alertmanager, const TempDir& dir,
                            const std::string& group_timing, std::unique_ptr<Process>* am,
                            std::string* base) {
  std::string config = ReadFile(kFleet / "alertmanager-fleet.yml");
  const std::string kUrlFile = "/etc/alertmanager/slack_webhook_url";
  ASSERT_NE(config.find(kUrlFile), std::string::npos);
  config.replace(config.find(kUrlFile), kUrlFile.size(), (dir / "slack_webhook_url").string());
  if (!group_timing.empty()) {
    const int wait = std::stoi(group_timing);
    config = std::regex_replace(config, std::regex("group_wait: \\w+"),
                                "group_wait: " + std::to_string(wait) + "s");
    config = std::regex_replace(config, std::regex("group_interval: \\w+"),
                                "group_interval: " + std::to_string(2 * wait) + "s");
  }
  WriteFile(dir / "alertmanager.yml", config);
  fs::create_directory(dir / "data");
  const int port = FreePort();
  *base = "http://127.0.0.1:" + std::to_string(port);
  *am = std::make_unique<Process>(
      std::vector<std::string>{alertmanager, "--config.file=" + (dir / "alertmanager.yml").string(),
                               "--storage.path=" + (dir / "data").string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port),
                               "--cluster.listen-address="},
      dir / "alertmanager.log");
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(*base + "/-/ready").status == 200; }, seconds(20)))
      << (*am)->Output();
}

TEST(FleetAlertmanagerConfig,
     a_fleet_error_rate_inhibits_the_per_node_alerts_of_its_pool_only_a_fleet_failover_none) {
  REQUIRE_PROGRAM(alertmanager, "prometheus-alertmanager");
  TempDir dir;
  // Slack is not needed here: notifications to this closed port just fail.
  WriteFile(dir / "slack_webhook_url", "http://127.0.0.1:9/services/x");
  std::unique_ptr<Process> am;
  std::string base;
  ASSERT_NO_FATAL_FAILURE(StartFleetAlertmanager(alertmanager, dir, "", &am, &base));

  nlohmann::json alerts = nlohmann::json::array();
  auto alert = [&](nlohmann::json labels) { alerts.push_back({{"labels", std::move(labels)}}); };
  alert({{"alertname", "PoolwatchFleetFailover"},
         {"pool", "blue"},
         {"severity", "critical"},
         {"scope", "fleet"}});
  alert({{"alertname", "failover"},
         {"pool", "blue"},
         {"instance", "node-a"},
         {"severity", "critical"}});
  alert({{"alertname", "failover"},
         {"pool", "green"},
         {"instance", "node-b"},
         {"severity", "critical"}});
  alert({{"alertname", "error_rate"}, {"instance", "node-a"}, {"severity", "critical"}});
  alert({{"alertname", "PoolwatchFleetUpstreamErrorRate"},
         {"pool", "green"},
         {"severity", "warning"},
         {"scope", "fleet"}});
  alert({{"alertname", "upstream_error_rate"},
         {"pool", "green"},
         {"instance", "node-c"},
         {"severity", "warning"}});
  HttpResponse posted = HttpPost(base + "/api/v2/alerts", alerts.dump());
  ASSERT_EQ(posted.status, 200) << posted.body;

  auto state_of = [&](const nlohmann::json& listed, const std::string& name,
                      const std::string& instance, const std::string& pool) -> std::string {
    for (const auto& a : listed) {
      const auto& labels = a["labels"];
      if (labels.value("alertname", "") == name && labels.value("instance", "") == instance &&
          labels.value("pool", "") == pool) {
        return a["status"]["state"].get<std::string>();
      }
    }
    return "missing";
  };
  nlohmann::json listed;
  EXPECT_TRUE(WaitUntil(
      [&] {
        listed = nlohmann::json::parse(HttpGet(base + "/api/v2/alerts").body, nullptr, false);
        return listed.is_array() && listed.size() == 6 &&
               state_of(listed, "upstream_error_rate", "node-c", "green") == "suppressed";
      },
      seconds(10)))
      << listed.dump(2);
  EXPECT_EQ(state_of(listed, "PoolwatchFleetFailover", "", "blue"), "active");
  // The nodes' failovers were the page: muting them now would swallow their resolution.
  EXPECT_EQ(state_of(listed, "failover", "node-a", "blue"), "active");
  EXPECT_EQ(state_of(listed, "failover", "node-b", "green"), "active") << "another pool";
  EXPECT_EQ(state_of(listed, "error_rate", "node-a", ""), "active") << "another kind of alert";
  EXPECT_EQ(state_of(listed, "PoolwatchFleetUpstreamErrorRate", "", "green"), "active");
}

// The posts poolwatch makes (BuildAlertmanagerAlert / BuildAlertmanagerResolution) through
// the shipped template: while the group still fires, a message describes the problem and only
// names the nodes that are back, also for a node whose resolution Alertmanager took for an
// update of the firing alert (its endsAt ahead of Alertmanager's clock).
TEST(FleetAlertmanagerConfig, a_message_of_a_firing_group_never_describes_a_recovery) {
  REQUIRE_PROGRAM(alertmanager, "prometheus-alertmanager");
  REQUIRE_PROGRAM(python3, "python3");
  TempDir dir;
  Process slack(
      {python3, (fs::path(POOLWATCH_SOURCE_DIR) / "tests/support/slack_standin.py").string(), "0"},
      dir / "slack.log");
  int slack_port = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string out = slack.Output();
        const size_t at = out.find("PORT ");
        if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
        slack_port = std::stoi(out.substr(at + 5));
        return true;
      },
      seconds(10)))
      << slack.Output();
  WriteFile(dir / "slack_webhook_url",
            "http://127.0.0.1:" + std::to_string(slack_port) + "/services/T0/B0/x");
  std::unique_ptr<Process> am;
  std::string base;
  ASSERT_NO_FATAL_FAILURE(StartFleetAlertmanager(alertmanager, dir, "1s", &am, &base));

  const TimePoint started = Clock::now();
  auto options = [](const std::string& node) {
    AlertmanagerOptions o;
    o.instance = node;
    return o;
  };
  Notification firing;
  firing.rule = "failover";
  firing.labels = {{"pool", "blue"}};
  firing.title = "FAILOVER";
  firing.summary = "Pool failover detected!";
  firing.fields = {{"Previous", "blue"}, {"Current", "green"}};
  firing.at = started;
  Notification back = firing;
  back.status = AlertStatus::kResolved;
  back.title = "FAILOVER RESOLVED";
  back.summary = "Traffic is back on blue";
  back.fields = {{"Previous", "green"}, {"Current", "blue"}};
  auto post = [&](const nlohmann::json& alert) {
    const HttpResponse r = HttpPost(base + "/api/v2/alerts", nlohmann::json::array({alert}).dump());
    EXPECT_EQ(r.status, 200) << r.body;
  };
  auto fire = [&](const std::string& node) {
    post(BuildAlertmanagerAlert(firing, options(node), started,
                                Clock::now() + std::chrono::minutes(1)));
  };
  auto resolve = [&](const std::string& node, TimePoint ends_at) {
    const nlohmann::json alert =
        BuildAlertmanagerResolution(&firing, back, options(node), started, ends_at);
    post(alert);
    return alert;
  };
  struct Message {
    std::string title, text, color;
  };
  auto messages = [&] {
    std::vector<Message> out;
    const auto received = nlohmann::json::parse(
        HttpGet("http://127.0.0.1:" + std::to_string(slack_port) + "/_received").body, nullptr,
        false);
    if (!received.is_array()) return out;
    for (const auto& r : received) {
      if (!r["json"].is_object()) continue;
      const auto& a = r["json"]["attachments"][0];
      out.push_back({a.value("title", ""), a.value("text", ""), a.value("color", "")});
    }
    return out;
  };
  auto all = [&] {
    std::string out;
    for (const Message& m : messages()) out += "---\n" + m.title + "\n" + m.text + "\n";
    return out;
  };

  for (const char* node : {"node-a", "node-b", "node-c"}) fire(node);
  ASSERT_TRUE(WaitUntil([&] { return messages().size() == 1; }, seconds(20))) << all();
  EXPECT_EQ(messages()[0].color, "danger");

  // node-a is back: the update is amber, names it, and describes only the problem.
  resolve("node-a", Clock::now());
  ASSERT_TRUE(WaitUntil([&] { return messages().size() == 2; }, seconds(20))) << all();
  Message update = messages()[1];
  EXPECT_NE(update.title.find("[FIRING] failover (pool blue)"), std::string::npos) << update.title;
  EXPECT_EQ(update.text.rfind("Pool failover detected!\nFiring on 2: node-b, node-c\n"
                              "Resolved on 1: node-a\n• node-b: Previous: blue · Current: green\n"
                              "• node-c: Previous: blue · Current: green",
                              0),
            0u)
      << update.text;
  EXPECT_EQ(update.color, "warning");

  // node-b's resolution reaches an Alertmanager whose clock is 2 s behind: taken for an update
  // of the firing alert, whose later endsAt it keeps. Still firing, still the problem.
  const TimePoint skewed_end = Clock::now() + seconds(2);
  const nlohmann::json skewed = resolve("node-b", skewed_end);
  resolve("node-c", Clock::now());
  ASSERT_TRUE(WaitUntil([&] { return messages().size() == 3; }, seconds(20))) << all();
  update = messages()[2];
  EXPECT_NE(update.title.find("[FIRING]"), std::string::npos) << update.title;
  EXPECT_NE(update.text.find("Firing on 1: node-b\nResolved on 1: node-c\n"), std::string::npos)
      << update.text;
  EXPECT_EQ(update.text.find("Traffic is back"), std::string::npos) << update.text;
  EXPECT_NE(update.text.find("• node-b: Previous: blue · Current: green"), std::string::npos)
      << update.text;

  // poolwatch's re-post of the same resolution, once its endsAt has passed, ends it.
  ASSERT_TRUE(WaitUntil([&] { return Clock::now() > skewed_end; }, seconds(5)));
  post(skewed);
  ASSERT_TRUE(WaitUntil([&] { return messages().size() == 4; }, seconds(20))) << all();
  const Message resolved = messages()[3];
  EXPECT_NE(resolved.title.find("[RESOLVED] failover (pool blue)"), std::string::npos)
      << resolved.title;
  EXPECT_EQ(resolved.text.rfind("Traffic is back on blue\nResolved on 1: node-b\n"
                                "✓ node-b: Previous: green · Current: blue",
                                0),
            0u)
      << resolved.text;
  EXPECT_EQ(resolved.color, "good");
  EXPECT_FALSE(WaitUntil([&] { return messages().size() > 4; }, seconds(3))) << all();
}

}  // namespace
}  // namespace poolwatch::testing
