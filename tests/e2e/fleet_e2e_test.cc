// Fleet mode end to end, all on 127.0.0.1: three poolwatch nodes (each following its own
// access log, written here in the project's format), two clustered Alertmanagers running the
// shipped prometheus/fleet/alertmanager-fleet.yml, the Slack stand-in as their Slack, and a
// Prometheus running the shipped prometheus-fleet.yml with file_sd targets.
//
// - A failover on all three nodes is one Slack message naming the three, and one resolution,
//   even once the fleet rule's PoolwatchFleetFailover fires too (Prometheus posts it to the
//   same Alertmanagers; its `for` is cut to 2 s here). The nodes recover within a fraction of
//   a second of each other; when a group flush falls in between, Alertmanager sends an update
//   first, which describes the problem on the nodes still off blue and only names the others.
// - With the default cooldown (300 s), a second failover soon after the first still reaches
//   Alertmanager, which pages for it: the cooldown only holds back poolwatch's own messages.
// - Firing alerts stay firing while poolwatch re-posts them (their endsAt is only 4 s ahead).
// - With one Alertmanager stopped, alerts still arrive.
// - Prometheus sees the fleet: requests summed over the nodes equal the lines written, and the
//   fleet rule counts the nodes off their primary.

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using SystemClock = std::chrono::system_clock;

const fs::path kSource = POOLWATCH_SOURCE_DIR;
const std::vector<std::string> kNodes = {"node-a", "node-b", "node-c"};

// "26/Nov/2026:07:55:16 +0000", nginx's $time_local in UTC.
std::string TimeLocal(SystemClock::time_point t) {
  std::time_t seconds_since_epoch = SystemClock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds_since_epoch, &utc);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%d/%b/%Y:%H:%M:%S +0000", &utc);
  return buf;
}

// `count` lines answered by `pool`; on green, blue was tried first and failed (nginx's retry).
std::string Lines(const std::string& pool, int count, SystemClock::time_point at) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    out += "127.0.0.1 - - [" + TimeLocal(at) + "] \"GET /version HTTP/1.1\" 200 51 \"-\" " +
           "\"curl/7.88.1\" ";
    if (pool == "blue") {
      out +=
          "pool=blue release=v1.0.0 upstream_status=200 upstream_addr=127.0.0.1:8081 "
          "request_time=0.001 upstream_response_time=0.001\n";
    } else {
      out +=
          "pool=green release=v2.0.0 upstream_status=500, 200 "
          "upstream_addr=127.0.0.1:8081, 127.0.0.1:8082 request_time=0.003 "
          "upstream_response_time=0.002, 0.001\n";
    }
  }
  return out;
}

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "the shipped file no longer contains: " << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

struct SlackMessage {
  std::string title;
  std::string text;
};

class FleetE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* program : {"prometheus-alertmanager", "prometheus", "python3"}) {
      if (FindProgram(program).empty()) GTEST_SKIP() << program << " is not installed";
    }
  }

  // Slack messages the stand-in accepted, in arrival order.
  std::vector<SlackMessage> SlackMessages() {
    std::vector<SlackMessage> out;
    auto received = nlohmann::json::parse(
        HttpGet("http://127.0.0.1:" + std::to_string(slack_port_) + "/_received").body, nullptr,
        false);
    if (!received.is_array()) return out;
    for (const auto& r : received) {
      if (r["status"] != 200 || !r["json"].is_object()) continue;
      const auto& attachment = r["json"]["attachments"][0];
      out.push_back({attachment.value("title", ""), attachment.value("text", "")});
    }
    return out;
  }

  std::string AllMessages() {
    std::string out;
    for (const auto& m : SlackMessages()) out += "---\n" + m.title + "\n" + m.text + "\n";
    return out;
  }

  // The value of a one-series PromQL result, or -1.
  double Query(const std::string& promql) {
    auto reply =
        nlohmann::json::parse(HttpGet("http://127.0.0.1:" + std::to_string(prometheus_port_) +
                                      "/api/v1/query?query=" + UrlEncode(promql))
                                  .body,
                              nullptr, false);
    if (reply.is_discarded() || reply.value("status", "") != "success") return -1;
    const auto& result = reply["data"]["result"];
    if (!result.is_array() || result.size() != 1) return -1;
    return std::stod(result[0]["value"][1].get<std::string>());
  }

  void StartAlertmanager(int index, const fs::path& config) {
    const fs::path data = dir_ / ("am" + std::to_string(index));
    fs::create_directory(data);
    const int other = 1 - index;
    alertmanagers_[index] = std::make_unique<Process>(
        std::vector<std::string>{
            "prometheus-alertmanager", "--config.file=" + config.string(),
            "--storage.path=" + data.string(),
            "--web.listen-address=127.0.0.1:" + std::to_string(am_ports_[index]),
            "--cluster.listen-address=127.0.0.1:" + std::to_string(cluster_ports_[index]),
            "--cluster.peer=127.0.0.1:" + std::to_string(cluster_ports_[other]),
            // The second in line waits this long for the first to notify before it does;
            // 15 s by default. Shorter than group_interval, as in production (15 s < 1 m):
            // otherwise the second could send an update its peer's next flush had already
            // overtaken.
            "--cluster.peer-timeout=1s"},
        data / "alertmanager.log");
  }

  // Whether the first Alertmanager has PoolwatchFleetFailover firing (from Prometheus).
  bool FleetFailoverActive() {
    auto alerts = nlohmann::json::parse(
        HttpGet("http://127.0.0.1:" + std::to_string(am_ports_[0]) +
                "/api/v2/alerts?filter=" + UrlEncode("alertname=\"PoolwatchFleetFailover\""))
            .body,
        nullptr, false);
    if (!alerts.is_array()) return false;
    for (const auto& a : alerts) {
      if (a["status"].value("state", "") == "active") return true;
    }
    return false;
  }

  bool ClusterReady(int index) {
    auto status = nlohmann::json::parse(
        HttpGet("http://127.0.0.1:" + std::to_string(am_ports_[index]) + "/api/v2/status").body,
        nullptr, false);
    return status.is_object() && status["cluster"].value("status", "") == "ready" &&
           status["cluster"]["peers"].size() == 2;
  }

  void AppendToAll(const std::string& lines) {
    for (const auto& node : kNodes) AppendFile(dir_ / (node + ".log"), lines);
  }

  TempDir dir_;
  int slack_port_ = 0;
  int prometheus_port_ = 0;
  int am_ports_[2] = {0, 0};
  int cluster_ports_[2] = {0, 0};
  std::unique_ptr<Process> slack_;
  std::unique_ptr<Process> alertmanagers_[2];
  std::vector<std::unique_ptr<Process>> nodes_;
  std::unique_ptr<Process> prometheus_;
};

TEST_F(FleetE2E, a_fleet_failover_is_one_slack_message_naming_every_node_and_one_resolution) {
  // Slack stand-in.
  slack_ = std::make_unique<Process>(
      std::vector<std::string>{"python3", (kSource / "tests/support/slack_standin.py").string(),
                               "0"},
      dir_ / "slack.log");
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string out = slack_->Output();
        size_t at = out.find("PORT ");
        if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
        slack_port_ = std::stoi(out.substr(at + 5));
        return true;
      },
      seconds(10)))
      << slack_->Output();

  // Two clustered Alertmanagers with the shipped fleet config; only Slack's URL and the
  // waits (seconds instead of a minute) differ.
  WriteFile(dir_ / "slack_webhook_url",
            "http://127.0.0.1:" + std::to_string(slack_port_) + "/services/T0/B0/x");
  std::string am_config = ReadFile(kSource / "prometheus/fleet/alertmanager-fleet.yml");
  am_config = Replace(am_config, "/etc/alertmanager/slack_webhook_url",
                      (dir_ / "slack_webhook_url").string());
  am_config = std::regex_replace(am_config, std::regex("group_wait: \\w+"), "group_wait: 2s");
  am_config =
      std::regex_replace(am_config, std::regex("group_interval: \\w+"), "group_interval: 3s");
  WriteFile(dir_ / "alertmanager.yml", am_config);
  for (int i = 0; i < 2; ++i) {
    am_ports_[i] = FreePort();
    cluster_ports_[i] = FreePort();
  }
  for (int i = 0; i < 2; ++i) StartAlertmanager(i, dir_ / "alertmanager.yml");

  // Three poolwatch nodes, each with its own log that already holds 20 requests on blue.
  const int kBaseline = 20;
  std::string config =
      "notify:\n"
      "  alertmanager_urls:\n"
      "    - http://127.0.0.1:" +
      std::to_string(am_ports_[0]) +
      "\n"
      "    - http://127.0.0.1:" +
      std::to_string(am_ports_[1]) +
      "/\n"
      // endsAt is 4 s ahead: without the re-posts, Alertmanager would resolve the alerts
      // during the test.
      "  alertmanager_resend_interval: 1s\n";
  WriteFile(dir_ / "poolwatch.yml", config);
  std::vector<int> node_ports;
  for (const auto& node : kNodes) {
    WriteFile(dir_ / (node + ".log"), Lines("blue", kBaseline, SystemClock::now()));
    node_ports.push_back(FreePort());
    nodes_.push_back(std::make_unique<Process>(
        std::vector<std::string>{
            POOLWATCH_BINARY, "--config.file", (dir_ / "poolwatch.yml").string(), "--log.path",
            (dir_ / (node + ".log")).string(), "--log.start-at", "beginning",
            "--web.listen-address", "127.0.0.1:" + std::to_string(node_ports.back()), "--instance",
            node},
        dir_ / (node + ".out"),
        std::map<std::string, std::string>{{"ACTIVE_POOL", "blue"},
                                           {"ALERT_COOLDOWN_SEC", ""},
                                           // Recovery resolves after a second back on blue.
                                           {"POOLWATCH_RESOLVE_FOR_SEC", "1"},
                                           {"SLACK_WEBHOOK_URL", ""},
                                           {"POOLWATCH_ALERTMANAGER_URLS", ""},
                                           {"POOLWATCH_CONFIG", ""}}));
  }

  // Prometheus with the shipped fleet config (file_sd targets naming each node like its
  // --instance), scraping every second and sending its fleet alerts to both Alertmanagers.
  fs::create_directory(dir_ / "prometheus");
  fs::create_directory(dir_ / "prometheus/targets");
  std::string prom_config = ReadFile(kSource / "prometheus/fleet/prometheus-fleet.yml");
  prom_config = Replace(prom_config, "scrape_interval: 15s", "scrape_interval: 1s");
  prom_config = Replace(prom_config, "evaluation_interval: 15s", "evaluation_interval: 1s");
  prom_config = Replace(prom_config, R"(["alertmanager-1:9093", "alertmanager-2:9093"])",
                        "[\"127.0.0.1:" + std::to_string(am_ports_[0]) +
                            "\", \"127.0.0.1:" + std::to_string(am_ports_[1]) + "\"]");
  WriteFile(dir_ / "prometheus/prometheus-fleet.yml", prom_config);
  std::string rules = ReadFile(kSource / "prometheus/fleet/poolwatch-fleet.rules.yml");
  const size_t fleet_failover = rules.find("- alert: PoolwatchFleetFailover");
  ASSERT_NE(fleet_failover, std::string::npos);
  const size_t wait = rules.find("for: 1m", fleet_failover);
  ASSERT_NE(wait, std::string::npos);
  rules.replace(wait, 7, "for: 2s");
  WriteFile(dir_ / "prometheus/poolwatch-fleet.rules.yml", rules);
  std::string targets;
  for (size_t i = 0; i < kNodes.size(); ++i) {
    targets += "- targets: [\"127.0.0.1:" + std::to_string(node_ports[i]) + "\"]\n" +
               "  labels:\n    instance: " + kNodes[i] + "\n";
  }
  WriteFile(dir_ / "prometheus/targets/nodes.yml", targets);
  prometheus_port_ = FreePort();
  prometheus_ = std::make_unique<Process>(
      std::vector<std::string>{
          "prometheus", "--config.file=" + (dir_ / "prometheus/prometheus-fleet.yml").string(),
          "--storage.tsdb.path=" + (dir_ / "prometheus/data").string(),
          "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_)},
      dir_ / "prometheus.log");

  // Everyone up: the nodes have read their logs, the Alertmanagers see each other.
  for (size_t i = 0; i < kNodes.size(); ++i) {
    const std::string metrics = "http://127.0.0.1:" + std::to_string(node_ports[i]) + "/metrics";
    ASSERT_TRUE(WaitUntil(
        [&] {
          return MetricValue(HttpGet(metrics).body, "poolwatch_http_requests_total") == kBaseline;
        },
        seconds(15)))
        << nodes_[i]->Output();
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(WaitUntil([&] { return ClusterReady(i); }, seconds(30)))
        << alertmanagers_[i]->Output();
  }

  // All three nodes fail over to green at once: one message, naming the three.
  const int kFailover = 5;
  AppendToAll(Lines("green", kFailover, SystemClock::now()));
  ASSERT_TRUE(WaitUntil([&] { return !SlackMessages().empty(); }, seconds(20)))
      << "no Slack message\n"
      << alertmanagers_[0]->Output() << alertmanagers_[1]->Output() << nodes_[0]->Output();
  SlackMessage firing = SlackMessages().front();
  EXPECT_NE(firing.title.find("[FIRING]"), std::string::npos) << firing.title;
  EXPECT_NE(firing.title.find("failover (pool blue)"), std::string::npos) << firing.title;
  EXPECT_NE(firing.text.find("Firing on 3: node-a, node-b, node-c"), std::string::npos)
      << firing.text;

  // Prometheus counts the three nodes off their primary (the fleet rule's input).
  EXPECT_TRUE(WaitUntil(
      [&] { return Query("fleet_pool:poolwatch_nodes_off_primary:count{pool=\"blue\"}") == 3; },
      seconds(30), std::chrono::milliseconds(250)))
      << prometheus_->Output();

  // The fleet rule fires too and reaches Alertmanager...
  EXPECT_TRUE(WaitUntil([&] { return FleetFailoverActive(); }, seconds(30)))
      << "PoolwatchFleetFailover never reached Alertmanager\n"
      << prometheus_->Output();
  // ...but there is no second message: not the fleet alert, not the other Alertmanager (the
  // cluster deduplicates), not an update, not a false resolution once the first endsAt (4 s)
  // has passed.
  EXPECT_FALSE(WaitUntil([&] { return SlackMessages().size() > 1; }, seconds(7))) << AllMessages();

  // Back on blue on the three nodes. Each resolves in Alertmanager when its post arrives, a
  // fraction of a second apart (as in production, where nodes recover seconds apart): a group
  // flush in between makes one update before the resolution, never a message that mixes the
  // two.
  const int kRecovery = 10;  // failover's resolve_requests
  AppendToAll(Lines("blue", kRecovery, SystemClock::now()));
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::vector<SlackMessage> messages = SlackMessages();
        return messages.size() >= 2 &&
               messages.back().title.find("[RESOLVED]") != std::string::npos;
      },
      seconds(20)))
      << AllMessages();
  std::vector<SlackMessage> recovery = SlackMessages();
  recovery.erase(recovery.begin());
  // Usually one message. An update needs a flush between two nodes' resolutions; a second one
  // the other Alertmanager's flush, a few ms off its peer's, in between as well.
  ASSERT_LE(recovery.size(), 3u) << AllMessages();
  // Alertmanager forgets a resolved alert once a message has told it: after an update, the
  // resolution names the nodes that recovered since.
  std::string back;
  for (size_t i = 0; i + 1 < recovery.size(); ++i) {
    const SlackMessage& update = recovery[i];
    EXPECT_NE(update.title.find("[FIRING]"), std::string::npos) << update.title;
    std::smatch lists;
    EXPECT_TRUE(std::regex_search(update.text, lists,
                                  std::regex("Firing on [12]: .*\nResolved on [12]: (.*)\n")))
        << update.text;
    if (lists.size() == 2) back += lists[1].str() + ", ";
    EXPECT_NE(update.text.find("Pool failover detected!"), std::string::npos) << update.text;
    EXPECT_EQ(update.text.find("Traffic is back"), std::string::npos)
        << "a firing message describes the problem\n"
        << update.text;
    EXPECT_EQ(update.text.find("Current: blue"), std::string::npos) << update.text;
  }
  const SlackMessage& resolved = recovery.back();
  EXPECT_NE(resolved.title.find("[RESOLVED] failover (pool blue)"), std::string::npos)
      << resolved.title;
  std::smatch last;
  ASSERT_TRUE(std::regex_search(resolved.text, last,
                                std::regex("^Traffic is back on blue\nResolved on [123]: (.*)\n")))
      << resolved.text;
  back += last[1].str();
  EXPECT_EQ(resolved.text.find("Firing on"), std::string::npos) << resolved.text;
  for (const std::string& node : kNodes) {
    EXPECT_NE(back.find(node), std::string::npos) << AllMessages();
    if (last[1].str().find(node) != std::string::npos) {
      EXPECT_NE(resolved.text.find("✓ " + node + ": Previous: green · Current: blue"),
                std::string::npos)
          << resolved.text;
    }
  }
  // How often the update happens, in the XML report (--gtest_output=xml).
  RecordProperty("recovery_messages", static_cast<int>(recovery.size()));
  const size_t after_recovery = SlackMessages().size();
  EXPECT_FALSE(WaitUntil([&] { return SlackMessages().size() > after_recovery; }, seconds(5)))
      << AllMessages();

  // One Alertmanager down: node-a fails over again, within its cooldown (which holds back only
  // poolwatch's own messages), and the page still arrives.
  alertmanagers_[0]->Stop();
  const int kAgain = 3;
  AppendFile(dir_ / "node-a.log", Lines("green", kAgain, SystemClock::now()));
  ASSERT_TRUE(WaitUntil([&] { return SlackMessages().size() > after_recovery; }, seconds(30)))
      << AllMessages() << alertmanagers_[1]->Output();
  SlackMessage again = SlackMessages()[after_recovery];
  EXPECT_NE(again.title.find("[FIRING]"), std::string::npos) << again.title;
  EXPECT_NE(again.text.find("Firing on 1: node-a"), std::string::npos) << again.text;

  // The fleet's totals in Prometheus are the lines written, and each node is named by its
  // instance.
  const double total = 3 * (kBaseline + kFailover + kRecovery) + kAgain;
  EXPECT_TRUE(WaitUntil([&] { return Query("sum(poolwatch_http_requests_total)") == total; },
                        seconds(20), std::chrono::milliseconds(250)))
      << "fleet total " << Query("sum(poolwatch_http_requests_total)") << ", want " << total;
  EXPECT_EQ(Query("sum(poolwatch_http_requests_total{instance=\"node-a\"})"),
            kBaseline + kFailover + kRecovery + kAgain);
  EXPECT_EQ(Query("sum(poolwatch_http_requests_total{instance=\"node-b\"})"),
            kBaseline + kFailover + kRecovery);
}

}  // namespace
}  // namespace poolwatch::testing
