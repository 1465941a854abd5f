// Grafana cannot run here, so the dashboard is checked the next best way: real Prometheus
// scrapes a real poolwatch fed by real nginx traffic (failover, a repeat in cooldown,
// maintenance), and every panel and annotation query of grafana/dashboards/poolwatch.json, with
// its template variables substituted as Grafana would, must be valid and return data.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <ctime>
#include <regex>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

constexpr auto kDeadline = std::chrono::seconds(30);

std::string UrlEncode(const std::string& s) {
  char* escaped = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  std::string out = escaped;
  curl_free(escaped);
  return out;
}

// Every `expr` of the dashboard's panels (nested rows included) and annotations.
void CollectExpressions(const nlohmann::json& node, const std::string& where,
                        std::vector<std::pair<std::string, std::string>>& out) {
  if (node.is_object()) {
    if (node.contains("expr") && node["expr"].is_string() &&
        !node["expr"].get<std::string>().empty()) {
      out.emplace_back(where, node["expr"].get<std::string>());
    }
    std::string here =
        node.contains("title") && node["title"].is_string() ? node["title"].get<std::string>()
        : node.contains("name") && node["name"].is_string() ? node["name"].get<std::string>()
                                                            : where;
    for (const auto& [key, value] : node.items()) {
      if (key != "templating") CollectExpressions(value, here, out);
    }
  } else if (node.is_array()) {
    for (const auto& item : node) CollectExpressions(item, where, out);
  }
}

// What Grafana puts in place of the variables: "All" of a multi-value variable is its
// allValue; $__rate_interval is at least four scrape intervals.
std::string Substitute(std::string expr) {
  expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval|\$__interval|\$__range)"), "15s");
  expr = std::regex_replace(expr, std::regex(R"(\$\{?pool\}?)"), ".*");
  expr = std::regex_replace(expr, std::regex(R"(\$\{?release\}?)"), ".*");
  return expr;
}

TEST(GrafanaDashboard, EveryPanelQueryReturnsDataFromRealPrometheus) {
  std::string prometheus = FindProgram("prometheus");
  if (prometheus.empty()) GTEST_SKIP() << "prometheus (Debian package prometheus) is not installed";

  StackOptions options;
  // With a state file, as installed by the package: the state panel has data too.
  TempDir state_dir;
  options.poolwatch_args = {"--web.enable-admin-api", "--state.path",
                            (state_dir / "state.json").string()};
  Stack stack(options);
  int prometheus_port = FreePort();
  WriteFile(stack.dir() / "prometheus.yml",
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: poolwatch\n    static_configs:\n"
            "      - targets: ['127.0.0.1:" +
                std::to_string(stack.poolwatch_port()) + "']\n");
  Process prom({prometheus, "--config.file=" + (stack.dir() / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (stack.dir() / "tsdb").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
               stack.dir() / "prometheus.log");
  const std::string api = "http://127.0.0.1:" + std::to_string(prometheus_port) + "/api/v1/";
  auto prometheus_sees = [&](const std::string& query) {
    return WaitUntil(
        [&] {
          auto r = HttpGet(api + "query?query=" + UrlEncode(query));
          auto j = nlohmann::json::parse(r.body, nullptr, false);
          return j.is_object() && j["status"] == "success" && !j["data"]["result"].empty();
        },
        kDeadline, std::chrono::milliseconds(250));
  };
  ASSERT_TRUE(prometheus_sees("up{job=\"poolwatch\"} == 1")) << prom.Output();
  std::time_t start = std::time(nullptr) - 5;

  int sent = 0;
  auto send = [&](int n) {
    for (int i = 0; i < n; ++i, ++sent) stack.Get("/version");
  };
  // Each change of the serving pool is held until a scrape has seen it, as it would be in
  // production where a failover lasts longer than a scrape interval.
  send(20);
  ASSERT_TRUE(prometheus_sees("poolwatch_serving_pool{pool=\"blue\"} == 1"));
  stack.StartChaos("blue", "error");
  send(20);
  ASSERT_TRUE(prometheus_sees("poolwatch_serving_pool{pool=\"green\"} == 1"));
  stack.StopChaos("blue");
  ASSERT_TRUE(WaitUntil(
      [&] {
        ++sent;
        return stack.Get("/version").headers["x-app-pool"] == "blue";
      },
      kDeadline, std::chrono::milliseconds(200)));
  ASSERT_TRUE(prometheus_sees("poolwatch_serving_pool{pool=\"blue\"} == 1"));
  // A second failover within the cooldown: suppressed, which the dashboard shows.
  stack.StartChaos("blue", "error");
  send(10);
  // Both pools failing: clients get 5xx.
  stack.StartChaos("green", "error");
  send(10);
  stack.StopChaos("green");
  stack.StopChaos("blue");
  HttpPost(stack.PoolwatchUrl("/api/v1/maintenance"), R"({"enabled":true})");
  send(10);
  ASSERT_TRUE(prometheus_sees("poolwatch_maintenance_mode == 1"));
  HttpPost(stack.PoolwatchUrl("/api/v1/maintenance"), R"({"enabled":false})");
  ASSERT_TRUE(
      WaitUntil([&] { return stack.Metric("poolwatch_http_requests_total") == sent; }, kDeadline));
  // Let Prometheus take a few more scrapes so every rate has two samples after the traffic.
  std::string last_scrape;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto r = HttpGet(api + "query?query=" + UrlEncode("sum(poolwatch_http_requests_total)"));
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        if (!j.is_object() || j["data"]["result"].empty()) return false;
        last_scrape = j["data"]["result"][0]["value"][1];
        return last_scrape == std::to_string(sent);
      },
      kDeadline, std::chrono::milliseconds(250)))
      << "Prometheus saw " << last_scrape << " of " << sent;
  HttpGet(stack.PoolwatchUrl("/metrics"));  // and one more scrape interval
  std::time_t end = std::time(nullptr) + 3;
  WaitUntil([&] { return std::time(nullptr) >= end; }, std::chrono::seconds(5),
            std::chrono::milliseconds(100));

  auto dashboard = nlohmann::json::parse(
      ReadFile(std::string(POOLWATCH_SOURCE_DIR) + "/grafana/dashboards/poolwatch.json"));
  std::vector<std::pair<std::string, std::string>> expressions;
  CollectExpressions(dashboard, "dashboard", expressions);
  ASSERT_GE(expressions.size(), 20u);
  for (const auto& [panel, raw] : expressions) {
    std::string expr = Substitute(raw);
    auto r = HttpGet(api + "query_range?query=" + UrlEncode(expr) +
                     "&start=" + std::to_string(start) + "&end=" + std::to_string(end) + "&step=1");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << panel << ": " << r.body;
    EXPECT_EQ(j["status"], "success") << panel << ": " << expr << "\n" << r.body;
    EXPECT_FALSE(j["data"]["result"].empty()) << "no data for panel '" << panel << "': " << expr;
  }
}

}  // namespace
}  // namespace poolwatch::testing
