#include "web/status.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "web/status_page.h"

namespace poolwatch {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// 2026-11-26T08:00:00Z
const TimePoint kNow = TimePoint{} + seconds(1795680000);

RuleStatus Failover(bool firing) {
  RuleStatus r;
  r.name = "failover";
  r.kind = RuleKind::kFailover;
  r.firing = firing;
  r.value = firing ? 1 : 0;
  r.threshold = 1;
  r.serving_pool = firing ? "green" : "blue";
  r.labels = {{"pool", "blue"}};
  r.since = kNow - seconds(95);
  r.announced = firing;
  r.last_decision = firing ? "firing" : "below_threshold";
  return r;
}

RuleStatus ErrorRate(double value, size_t fill) {
  RuleStatus r;
  r.name = "error_rate";
  r.kind = RuleKind::kErrorRate;
  r.firing = value > 2;
  r.value = value;
  r.threshold = 2;
  r.window_fill = fill;
  r.window_size = 200;
  r.last_decision = "below_threshold";
  return r;
}

StatusSnapshot FailedOver() {
  StatusSnapshot s;
  s.now = kNow;
  s.instance = "edge-1";
  s.version = "0.1.0";
  s.engine.active_pool = "blue";
  s.engine.serving_pool = "green";
  s.engine.serving_since = kNow - seconds(95);
  s.engine.rules = {Failover(true), ErrorRate(1.5, 120)};
  RuleConfig failover;
  failover.name = "failover";
  failover.severity = "critical";
  s.rules = {failover};
  s.log_patterns = {"/var/log/nginx/access.log"};
  FollowerHealth file;
  file.path = "/var/log/nginx/access.log";
  file.stats.file_open = true;
  file.stats.offset = 1000;
  file.stats.file_size = 1500;
  s.files = {file};
  s.lines_parsed = 42;
  s.last_record_time = kNow - seconds(1);
  return s;
}

DeliveryRecord Delivery(DeliveryRecord::Result result, std::string error, int seconds_ago) {
  DeliveryRecord d;
  d.at = kNow - seconds(seconds_ago);
  d.notifier = "slack";
  d.rule = "failover";
  d.key = "failover{pool=blue}";
  d.result = result;
  d.attempt = 1;
  d.error = std::move(error);
  if (!d.error.empty()) d.http_status = 404;
  return d;
}

json Status(const StatusSnapshot& s) { return json::parse(StatusJson(s)); }

TEST(StatusJson, shows_which_pool_serves_since_when_and_the_expected_primary) {
  json j = Status(FailedOver());
  EXPECT_EQ(j["pools"]["serving"], "green");
  EXPECT_EQ(j["pools"]["active"], "blue");
  EXPECT_EQ(j["pools"]["serving_since"], "2026-11-26T07:58:25Z");
  EXPECT_EQ(j["pools"]["serving_for_seconds"], 95);
  EXPECT_EQ(j["pools"]["on_primary"], false);
  EXPECT_EQ(j["time"], "2026-11-26T08:00:00Z");
  EXPECT_EQ(j["instance"], "edge-1");
}

TEST(StatusJson, before_any_traffic_the_serving_pool_is_null_and_counts_as_on_primary) {
  StatusSnapshot s;
  s.now = kNow;
  s.engine.active_pool = "blue";
  json j = Status(s);
  EXPECT_TRUE(j["pools"]["serving"].is_null());
  EXPECT_TRUE(j["pools"]["serving_since"].is_null());
  EXPECT_EQ(j["pools"]["on_primary"], true);
  EXPECT_TRUE(j["log"]["last_record_time"].is_null());
  EXPECT_TRUE(j["alerts"].empty());
  EXPECT_TRUE(j["notifications"]["recent"].empty());
}

TEST(StatusJson, gives_each_rule_its_value_against_its_threshold_and_window_fill) {
  json j = Status(FailedOver());
  ASSERT_EQ(j["rules"].size(), 2u);
  const json& rate = j["rules"][1];
  EXPECT_EQ(rate["name"], "error_rate");
  EXPECT_EQ(rate["kind"], "error_rate");
  EXPECT_EQ(rate["unit"], "percent");
  EXPECT_DOUBLE_EQ(rate["value"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(rate["threshold"].get<double>(), 2);
  EXPECT_EQ(rate["window_fill"], 120);
  EXPECT_EQ(rate["window_size"], 200);
  EXPECT_EQ(rate["firing"], false);
  EXPECT_TRUE(rate["since"].is_null());
  EXPECT_EQ(j["rules"][0]["unit"], "boolean");
  EXPECT_EQ(j["rules"][0]["decision"], "firing");
}

TEST(StatusJson, a_traffic_rule_counts_requests_in_its_window) {
  StatusSnapshot s = FailedOver();
  RuleStatus traffic;
  traffic.name = "no_traffic";
  traffic.kind = RuleKind::kTraffic;
  traffic.firing = true;
  traffic.value = 0;
  traffic.threshold = 1;
  traffic.window_fill = 300;
  traffic.window_size = 300;
  s.engine.rules.push_back(traffic);
  json j = Status(s);
  ASSERT_EQ(j["rules"].size(), 3u);
  EXPECT_EQ(j["rules"][2]["kind"], "traffic");
  EXPECT_EQ(j["rules"][2]["unit"], "requests");
  EXPECT_EQ(j["alerts"].back()["kind"], "traffic");
}

TEST(StatusJson, a_latency_rule_gives_its_quantile_in_seconds) {
  StatusSnapshot s = FailedOver();
  RuleStatus latency;
  latency.name = "slow_primary";
  latency.kind = RuleKind::kLatency;
  latency.firing = true;
  latency.value = 0.742;
  latency.threshold = 0.5;
  latency.window_fill = 200;
  latency.window_size = 200;
  latency.labels = {{"pool", "blue"}};
  latency.last_decision = "firing";
  s.engine.rules.push_back(latency);
  const json j = Status(s);
  ASSERT_EQ(j["rules"].size(), 3u);
  const json& rule = j["rules"][2];
  EXPECT_EQ(rule["kind"], "latency");
  EXPECT_EQ(rule["unit"], "seconds");
  EXPECT_DOUBLE_EQ(rule["value"].get<double>(), 0.742);
  EXPECT_DOUBLE_EQ(rule["threshold"].get<double>(), 0.5);
  EXPECT_EQ(rule["labels"]["pool"], "blue");
}

TEST(StatusJson, a_release_regression_rule_gives_the_releases_share_against_its_bound) {
  StatusSnapshot s = FailedOver();
  RuleStatus release;
  release.name = "bad_release";
  release.kind = RuleKind::kReleaseRegression;
  release.firing = true;
  release.value = 3.1;
  release.threshold = 1.13;
  release.labels = {{"pool", "green"}, {"release", "v2.0.0"}};
  s.engine.rules.push_back(release);
  const json j = Status(s);
  const json& rule = j["rules"][2];
  EXPECT_EQ(rule["kind"], "release_regression");
  EXPECT_EQ(rule["unit"], "percent");
  EXPECT_DOUBLE_EQ(rule["threshold"].get<double>(), 1.13);
  EXPECT_EQ(rule["labels"]["release"], "v2.0.0");
}

TEST(StatusJson, an_slo_rule_gives_its_burn_rate_and_its_tickets_severity) {
  StatusSnapshot s = FailedOver();
  RuleConfig slo;
  slo.name = "checkout_slo";
  slo.kind = RuleKind::kSlo;
  slo.severity = "critical";
  slo.ticket_severity = "warning";
  s.rules.push_back(slo);
  for (const char* urgency : {"page", "ticket"}) {
    RuleStatus r;
    r.name = "checkout_slo";
    r.kind = RuleKind::kSlo;
    r.firing = true;
    r.value = urgency == std::string("page") ? 16.2 : 1.3;
    r.threshold = urgency == std::string("page") ? 14.4 : 1;
    r.labels = {{"urgency", urgency}};
    s.engine.rules.push_back(r);
  }
  const json j = Status(s);
  ASSERT_EQ(j["rules"].size(), 4u);
  EXPECT_EQ(j["rules"][2]["unit"], "burn_rate");
  EXPECT_DOUBLE_EQ(j["rules"][2]["value"].get<double>(), 16.2);
  EXPECT_DOUBLE_EQ(j["rules"][3]["threshold"].get<double>(), 1);
  const json& alerts = j["alerts"];
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[1]["labels"]["urgency"], "page");
  EXPECT_EQ(alerts[1]["severity"], "critical");
  EXPECT_EQ(alerts[2]["labels"]["urgency"], "ticket");
  EXPECT_EQ(alerts[2]["severity"], "warning");
}

TEST(StatusJson, lists_only_firing_alerts_with_their_age_and_severity) {
  json j = Status(FailedOver());
  EXPECT_EQ(j["firing"], 1);
  ASSERT_EQ(j["alerts"].size(), 1u);
  const json& a = j["alerts"][0];
  EXPECT_EQ(a["rule"], "failover");
  EXPECT_EQ(a["state"], "firing");
  EXPECT_EQ(a["labels"]["pool"], "blue");
  EXPECT_EQ(a["age_seconds"], 95);
  EXPECT_EQ(a["active_since"], "2026-11-26T07:58:25Z");
  EXPECT_EQ(a["severity"], "critical");
  EXPECT_EQ(a["announced"], true);
}

TEST(StatusJson, an_alert_muted_by_maintenance_is_firing_but_not_announced) {
  StatusSnapshot s = FailedOver();
  s.engine.rules[0].announced = false;
  s.engine.rules[0].last_decision = "in_maintenance";
  s.engine.maintenance = true;
  json a = Status(s)["alerts"][0];
  EXPECT_EQ(a["announced"], false);
  EXPECT_EQ(a["decision"], "in_maintenance");
}

TEST(StatusJson, the_log_time_running_ahead_of_the_clock_never_gives_a_negative_age) {
  StatusSnapshot s = FailedOver();
  s.engine.rules[0].since = kNow + seconds(3);
  EXPECT_EQ(Status(s)["alerts"][0]["age_seconds"], 0);
}

TEST(StatusJson, shows_the_last_notifications_newest_first_with_their_delivery_result) {
  StatusSnapshot s = FailedOver();
  s.deliveries = {Delivery(DeliveryRecord::Result::kSent, "", 30),
                  Delivery(DeliveryRecord::Result::kRetrying, "HTTP 500: internal_error", 20),
                  Delivery(DeliveryRecord::Result::kFailed, "HTTP 404: no_service", 10)};
  s.destinations = {"slack https://hooks.slack.com/<redacted>"};
  json n = Status(s)["notifications"];
  ASSERT_EQ(n["recent"].size(), 3u);
  EXPECT_EQ(n["recent"][0]["result"], "failed");
  EXPECT_EQ(n["recent"][0]["error"], "HTTP 404: no_service");
  EXPECT_EQ(n["recent"][0]["http_status"], 404);
  EXPECT_EQ(n["recent"][0]["time"], "2026-11-26T07:59:50Z");
  EXPECT_EQ(n["recent"][1]["result"], "retrying");
  EXPECT_EQ(n["recent"][2]["result"], "sent");
  EXPECT_TRUE(n["recent"][2]["http_status"].is_null());
  EXPECT_EQ(n["recent"][2]["status"], "firing");
  EXPECT_EQ(n["recent"][2]["key"], "failover{pool=blue}");
  EXPECT_EQ(n["destinations"][0], "slack https://hooks.slack.com/<redacted>");
}

TEST(StatusJson, keeps_only_the_newest_deliveries) {
  StatusSnapshot s = FailedOver();
  for (int i = 0; i < 50; ++i)
    s.deliveries.push_back(Delivery(DeliveryRecord::Result::kSent, "", 100 - i));
  json recent = Status(s)["notifications"]["recent"];
  ASSERT_EQ(recent.size(), kStatusDeliveries);
  EXPECT_EQ(recent[0]["time"], FormatRfc3339(kNow - seconds(51)));
}

TEST(StatusJson, maintenance_shows_its_expiry_only_while_on) {
  StatusSnapshot s = FailedOver();
  s.engine.maintenance = true;
  s.engine.maintenance_until = kNow + seconds(3600);
  json m = Status(s)["maintenance"];
  EXPECT_EQ(m["enabled"], true);
  EXPECT_EQ(m["until"], "2026-11-26T09:00:00Z");

  s.engine.maintenance = false;
  m = Status(s)["maintenance"];
  EXPECT_EQ(m["enabled"], false);
  EXPECT_TRUE(m["until"].is_null());
}

TEST(StatusJson, follower_lag_is_size_minus_offset_and_never_negative) {
  StatusSnapshot s = FailedOver();
  json f = Status(s)["follower"];
  EXPECT_EQ(f["path"], "/var/log/nginx/access.log");
  EXPECT_EQ(f["offset"], 1000);
  EXPECT_EQ(f["size"], 1500);
  EXPECT_EQ(f["lag_bytes"], 500);
  EXPECT_EQ(f["healthy"], true);
  EXPECT_TRUE(f["last_rotation"].is_null());

  // Truncated in place: the size seen is below the offset until the next poll catches up.
  s.files[0].stats.file_size = 10;
  s.files[0].stats.last_rotation = kNow - seconds(60);
  f = Status(s)["follower"];
  EXPECT_EQ(f["lag_bytes"], 0);
  EXPECT_EQ(f["last_rotation"], "2026-11-26T07:59:00Z");
}

TEST(StatusJson, a_follower_problem_makes_it_unhealthy) {
  StatusSnapshot s = FailedOver();
  s.files[0].stats.file_open = false;
  s.files[0].problem = "cannot open /var/log/nginx/access.log: Permission denied";
  json f = Status(s)["follower"];
  EXPECT_EQ(f["healthy"], false);
  EXPECT_EQ(f["problem"], s.files[0].problem);
}

TEST(StatusJson, inputs_list_every_followed_file_and_the_follower_is_the_one_with_a_problem) {
  StatusSnapshot s = FailedOver();
  s.log_patterns = {"/var/log/nginx/*.access.log"};
  FollowerHealth blog = s.files[0];
  blog.path = "/var/log/nginx/blog.access.log";
  FollowerHealth shop;
  shop.path = "/var/log/nginx/shop.access.log";
  shop.problem = "cannot open /var/log/nginx/shop.access.log: Permission denied";
  s.files = {blog, shop};
  const json status = Status(s);
  const json& files = status["inputs"]["files"];
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0]["path"], "/var/log/nginx/blog.access.log");
  EXPECT_EQ(files[0]["healthy"], true);
  EXPECT_EQ(files[0]["lag_bytes"], 500);
  EXPECT_EQ(files[1]["path"], "/var/log/nginx/shop.access.log");
  EXPECT_EQ(files[1]["healthy"], false);
  EXPECT_EQ(files[1]["problem"], shop.problem);
  EXPECT_EQ(status["inputs"]["patterns"], json::array({"/var/log/nginx/*.access.log"}));
  EXPECT_EQ(status["inputs"]["syslog"], json::array());
  EXPECT_EQ(status["follower"]["path"], "/var/log/nginx/shop.access.log");
  s.files[1].problem.clear();
  s.files[1].stats.file_open = true;
  EXPECT_EQ(Status(s)["follower"]["path"], "/var/log/nginx/blog.access.log");
}

// With only log.syslog.listen there is no file, and nothing says one is not open.
TEST(StatusJson, a_syslog_only_poolwatch_shows_its_listeners_and_no_file) {
  StatusSnapshot s = FailedOver();
  s.log_patterns.clear();
  s.files.clear();
  SyslogListenerHealth udp;
  udp.address = "udp://127.0.0.1:5514";
  udp.stats.received = 120;
  udp.stats.malformed = 3;
  udp.stats.oversized = 2;
  udp.stats.dropped = 7;
  SyslogListenerHealth unix_socket;
  unix_socket.address = "unixgram:///run/poolwatch/syslog.sock";
  unix_socket.stats.received = 5;
  s.syslog = {udp, unix_socket};
  const json status = Status(s);
  EXPECT_TRUE(status["follower"].is_null());
  EXPECT_EQ(status["inputs"]["files"], json::array());
  EXPECT_EQ(status["inputs"]["patterns"], json::array());
  const json& syslog = status["inputs"]["syslog"];
  ASSERT_EQ(syslog.size(), 2u);
  EXPECT_EQ(syslog[0], json({{"address", "udp://127.0.0.1:5514"},
                             {"received", 120},
                             {"malformed", 3},
                             {"oversized", 2},
                             {"dropped", 7}}));
  EXPECT_EQ(syslog[1]["address"], "unixgram:///run/poolwatch/syslog.sock");
  EXPECT_EQ(syslog[1]["received"], 5);
  EXPECT_EQ(status["log"]["lines_parsed"], 42);
}

TEST(StatusJson, invalid_utf8_from_the_log_does_not_break_the_answer) {
  StatusSnapshot s = FailedOver();
  s.engine.serving_pool =
      "gr\xff"
      "een";
  s.engine.rules[0].labels = {{"pool", "bl\xc3"}};
  s.deliveries = {Delivery(DeliveryRecord::Result::kFailed, "body \xfe", 1)};
  std::string text;
  ASSERT_NO_THROW(text = StatusJson(s));
  EXPECT_TRUE(json::accept(text));
  ASSERT_NO_THROW(text = AlertsJson(s));
  EXPECT_TRUE(json::accept(text));
}

TEST(AlertsJson, lists_the_firing_alerts_only) {
  StatusSnapshot s = FailedOver();
  json j = json::parse(AlertsJson(s));
  ASSERT_EQ(j["alerts"].size(), 1u);
  EXPECT_EQ(j["alerts"][0]["rule"], "failover");
  EXPECT_EQ(j["alerts"][0], Status(s)["alerts"][0]);

  s.engine.rules[0] = Failover(false);
  EXPECT_TRUE(json::parse(AlertsJson(s))["alerts"].empty());
}

TEST(StatusPage, is_self_contained_and_readable_on_a_phone) {
  const std::string page(StatusPageHtml());
  EXPECT_NE(page.find("<meta name=\"viewport\""), std::string::npos);
  // No external assets: nothing loaded from another origin or another file.
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_FALSE(std::regex_search(page, std::regex("(src|href)=\"(https?:)?//")));
  // Refreshes by fetching the API (relative, so it works behind a path prefix).
  EXPECT_NE(page.find("fetch(\"api/v1/status\""), std::string::npos);
  EXPECT_NE(page.find("setInterval(refresh"), std::string::npos);
  EXPECT_EQ(page.find("http-equiv=\"refresh\""), std::string::npos);
}

TEST(StatusPage, puts_data_into_the_dom_only_as_text) {
  const std::string page(StatusPageHtml());
  EXPECT_EQ(page.find("innerHTML"), std::string::npos);
  EXPECT_EQ(page.find("outerHTML"), std::string::npos);
  EXPECT_EQ(page.find("document.write"), std::string::npos);
}

TEST(StatusPage, offers_maintenance_buttons_only_when_the_admin_api_is_enabled) {
  const std::string page(StatusPageHtml());
  EXPECT_NE(page.find("id=\"maintenance-buttons\" hidden"), std::string::npos);
  EXPECT_NE(page.find("$(\"maintenance-buttons\").hidden = !s.admin_api"), std::string::npos);
  EXPECT_NE(
      page.find("fetch(\"api/v1/maintenance\", {method: \"POST\", headers: {\"Content-Type\": "
                "\"application/json\"}, body: JSON.stringify(body)})"),
      std::string::npos);
}

TEST(StatusPage, policy_lets_exactly_its_one_script_and_style_run) {
  const std::string page(StatusPageHtml());
  const std::string policy = StatusPagePolicy();
  // One inline element of each, and no inline style attribute or handler, which a hash cannot
  // allow.
  const size_t script = page.find("<script>") + 8;
  const size_t style = page.find("<style>") + 7;
  EXPECT_EQ(page.find("<script", script), std::string::npos);
  EXPECT_EQ(page.find("<style", style), std::string::npos);
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(<[^>]+\s(style|on[a-z]+)=)")))
      << "inline attribute";
  EXPECT_NE(policy.find("script-src " +
                        CspHashSource(page.substr(script, page.find("</script>") - script)) + ";"),
            std::string::npos)
      << policy;
  EXPECT_NE(policy.find("style-src " +
                        CspHashSource(page.substr(style, page.find("</style>") - style)) + ";"),
            std::string::npos)
      << policy;
  EXPECT_EQ(policy.rfind("default-src 'none';", 0), 0u);
  EXPECT_NE(policy.find("connect-src 'self'"), std::string::npos);
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe"), std::string::npos);
}

// group_by (issue 17): one entry per group, each with its labels and state; the rule says what
// it groups by.
TEST(StatusJson, a_grouped_rule_lists_each_group_with_its_state) {
  StatusSnapshot s = FailedOver();
  RuleConfig grouped;
  grouped.name = "site_errors";
  grouped.kind = RuleKind::kErrorRate;
  grouped.group_by = {{"site", 0}};
  s.rules.push_back(grouped);
  for (const char* site : {"shop", "blog"}) {
    RuleStatus r = ErrorRate(std::string(site) == "shop" ? 12.5 : 0.5, 40);
    r.name = "site_errors";
    r.labels = {{"site", site}};
    s.engine.rules.push_back(r);
  }
  const json j = Status(s);
  ASSERT_EQ(j["rules"].size(), 4u);
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_EQ(j["rules"][i]["group_by"], json::array({"site"}));
  }
  EXPECT_EQ(j["rules"][2]["labels"]["site"], "shop");
  EXPECT_TRUE(j["rules"][2]["firing"].get<bool>());
  EXPECT_EQ(j["rules"][3]["labels"]["site"], "blog");
  EXPECT_FALSE(j["rules"][3]["firing"].get<bool>());
  // Ungrouped rules say nothing about groups.
  EXPECT_FALSE(j["rules"][1].contains("group_by"));
}

}  // namespace
}  // namespace poolwatch
