// Grafana cannot run here, so the dashboard is checked the next best way: real Prometheus
// scrapes a real poolwatch fed by real nginx traffic (failover, a repeat in cooldown,
// maintenance), and every panel and annotation query of grafana/dashboards/poolwatch.json, with
// its template variables resolved and substituted as Grafana would, must be valid and return
// data. The scrape job is deliberately not called "poolwatch", and Prometheus scrapes itself
// too: the dashboard must find poolwatch by what it exports and show nothing of other targets.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string_view>

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

// A query variable of the dashboard, as Grafana reads it.
struct Variable {
  std::string name;
  std::string definition;  // label_values(<selector>, <label>)
  bool multi = false;
  bool include_all = false;
  std::optional<std::string> all_value;
};

std::vector<Variable> QueryVariables(const nlohmann::json& dashboard) {
  std::vector<Variable> out;
  for (const auto& v : dashboard["templating"]["list"]) {
    if (v.value("type", "") != "query") continue;
    Variable var{v["name"], v["definition"], v.value("multi", false), v.value("includeAll", false),
                 std::nullopt};
    if (v.contains("allValue") && v["allValue"].is_string() && !v["allValue"].empty()) {
      var.all_value = v["allValue"];
    }
    out.push_back(var);
  }
  return out;
}

// Grafana's prometheusSpecialRegexEscape: a chosen value is matched literally inside =~"…",
// so regex metacharacters get a backslash, written doubled in the PromQL string.
std::string GrafanaRegexEscape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\\\\\";
    } else if (std::string_view("$^*{}[]+?.()|").find(c) != std::string_view::npos) {
      out += "\\\\";
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

// What Grafana writes for a multi-value or "include All" variable of a Prometheus datasource:
// one value escaped, several as (a|b). "All" is the variable's allValue when it has one, else
// every value it offers.
std::string GrafanaValue(const Variable& var, const std::vector<std::string>& selected, bool all,
                         const std::vector<std::string>& options) {
  if (all && var.all_value) return *var.all_value;
  const std::vector<std::string>& values = all ? options : selected;
  if (values.size() == 1) return GrafanaRegexEscape(values[0]);
  std::string out = "(";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += '|';
    out += GrafanaRegexEscape(values[i]);
  }
  return out + ")";
}

// $__rate_interval is at least four scrape intervals; the variables as resolved.
std::string Substitute(std::string expr, const std::map<std::string, std::string>& values) {
  expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval|\$__interval|\$__range)"), "15s");
  for (const auto& [name, value] : values) {
    // A function as the format keeps regex_replace from reading $ or \ in the value.
    std::regex use("\\$\\{?" + name + "\\}?(?![A-Za-z0-9_])");
    std::string out;
    auto last = expr.cbegin();
    for (auto it = std::sregex_iterator(expr.begin(), expr.end(), use);
         it != std::sregex_iterator(); ++it) {
      out.append(last, expr.cbegin() + it->position());
      out += value;
      last = expr.cbegin() + it->position() + it->length();
    }
    out.append(last, expr.cend());
    expr = out;
  }
  return expr;
}

// Every series selector of a poolwatch metric (or `up`) in a query, with its matchers.
std::vector<std::pair<std::string, std::string>> Selectors(const std::string& expr) {
  static const std::regex kSelector(
      R"((?:^|[^A-Za-z0-9_:])(poolwatch_[A-Za-z0-9_]+|up)(?![A-Za-z0-9_:(])(\{[^}]*\})?)");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), kSelector);
       it != std::sregex_iterator(); ++it) {
    out.emplace_back((*it)[1], (*it)[2]);
  }
  return out;
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
  // A job named like a Kubernetes ServiceMonitor's, and targets that are not poolwatch: one
  // up, one down (nothing listens on its port).
  const std::string job = "monitoring/edge-proxy";
  const std::string poolwatch_target = "127.0.0.1:" + std::to_string(stack.poolwatch_port());
  // The shipped rules too, to see PoolwatchDown judge the same targets on a real Prometheus.
  WriteFile(stack.dir() / "poolwatch.rules.yml",
            ReadFile(std::string(POOLWATCH_SOURCE_DIR) + "/prometheus/poolwatch.rules.yml"));
  WriteFile(stack.dir() / "prometheus.yml",
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "rule_files: ['poolwatch.rules.yml']\n"
            "scrape_configs:\n  - job_name: " +
                job + "\n    static_configs:\n      - targets: ['" + poolwatch_target +
                "']\n  - job_name: prometheus\n    static_configs:\n"
                "      - targets: ['127.0.0.1:" +
                std::to_string(prometheus_port) +
                "']\n  - job_name: node\n    static_configs:\n"
                "      - targets: ['127.0.0.1:" +
                std::to_string(FreePort()) + "']\n");
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
  ASSERT_TRUE(prometheus_sees("up{job=\"" + job + "\"} == 1")) << prom.Output();
  ASSERT_TRUE(prometheus_sees("up{job=\"prometheus\"} == 1")) << prom.Output();
  ASSERT_TRUE(prometheus_sees("up{job=\"node\"} == 0")) << prom.Output();
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
  // The failover resolves once blue has served 10 requests for a second (the stack's
  // resolve_for); only then is the next one a new incident.
  send(10);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return stack.Metric("poolwatch_alert_firing", {{"rule", "failover"}}) == 0;
      },
      kDeadline));
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

  // Every selector filters by both node variables, so one node can be looked at alone.
  for (const auto& [panel, raw] : expressions) {
    auto selectors = Selectors(raw);
    EXPECT_FALSE(selectors.empty()) << panel << ": " << raw;
    for (const auto& [metric, matchers] : selectors) {
      EXPECT_NE(matchers.find(R"(job=~"$job")"), std::string::npos)
          << panel << ": " << metric << " is not filtered by $job in " << raw;
      EXPECT_NE(matchers.find(R"(instance=~"$instance")"), std::string::npos)
          << panel << ": " << metric << " is not filtered by $instance in " << raw;
    }
  }

  // Resolves the variables in the dashboard's order, as Grafana does on load: each one's
  // label_values query, with the earlier ones substituted, gives the values it offers.
  // `choose` returns the values picked for a variable; empty means "All".
  const std::vector<Variable> variables = QueryVariables(dashboard);
  // With `expect_options`, every variable must offer values (there is data to choose from).
  auto resolve = [&](const std::function<std::vector<std::string>(const Variable&)>& choose,
                     bool expect_options) {
    static const std::regex kLabelValues(R"(^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$)");
    std::map<std::string, std::string> values;
    for (const auto& var : variables) {
      std::smatch m;
      EXPECT_TRUE(std::regex_match(var.definition, m, kLabelValues)) << var.definition;
      if (m.empty()) continue;
      auto r = HttpGet(api + "label/" + m[2].str() +
                       "/values?match[]=" + UrlEncode(Substitute(m[1].str(), values)) +
                       "&start=" + std::to_string(start) + "&end=" + std::to_string(end));
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      std::vector<std::string> options;
      if (j.is_object() && j["status"] == "success") {
        options = j["data"].get<std::vector<std::string>>();
      }
      if (expect_options) {
        EXPECT_FALSE(options.empty()) << "variable $" << var.name << " offers nothing: " << r.body;
      }
      std::vector<std::string> chosen = choose(var);
      values[var.name] = GrafanaValue(var, chosen, chosen.empty(), options);
      if (var.name == "job") {
        EXPECT_EQ(options, std::vector<std::string>{job}) << "only poolwatch's job";
      }
      if (var.name == "instance") {
        EXPECT_EQ(options, std::vector<std::string>{poolwatch_target}) << "only poolwatch";
      }
    }
    return values;
  };

  auto query_range = [&](const std::string& expr) {
    auto r = HttpGet(api + "query_range?query=" + UrlEncode(expr) +
                     "&start=" + std::to_string(start) + "&end=" + std::to_string(end) + "&step=1");
    return nlohmann::json::parse(r.body, nullptr, false);
  };
  struct Selection {
    std::string name;
    std::function<std::vector<std::string>(const Variable&)> choose;
    bool expect_data;
  };
  const std::vector<Selection> selections = {
      // The dashboard as it opens: All everywhere.
      {"All", [](const Variable&) { return std::vector<std::string>{}; }, true},
      // One node picked by hand; its address has dots Grafana escapes.
      {"one node",
       [&](const Variable& v) {
         if (v.name == "job") return std::vector<std::string>{job};
         if (v.name == "instance") return std::vector<std::string>{poolwatch_target};
         return std::vector<std::string>{};
       },
       true},
      // A node without data: a panel that still shows something ignores the selection.
      {"another node",
       [&](const Variable& v) {
         if (v.name == "instance") return std::vector<std::string>{"10.9.9.9:10090"};
         return std::vector<std::string>{};
       },
       false},
  };
  for (const auto& selection : selections) {
    SCOPED_TRACE("selection: " + selection.name);
    std::map<std::string, std::string> values = resolve(selection.choose, selection.expect_data);
    for (const auto& [panel, raw] : expressions) {
      std::string expr = Substitute(raw, values);
      auto j = query_range(expr);
      ASSERT_TRUE(j.is_object()) << panel << ": " << expr;
      EXPECT_EQ(j["status"], "success") << panel << ": " << expr << "\n" << j.dump();
      const auto& result = j["data"]["result"];
      if (!selection.expect_data) {
        EXPECT_TRUE(result.empty())
            << "panel '" << panel << "' shows data of no selected node: " << expr << "\n"
            << result.dump();
        continue;
      }
      EXPECT_FALSE(result.empty()) << "no data for panel '" << panel << "': " << expr;
      for (const auto& series : result) {
        if (series["metric"].contains("job")) {
          EXPECT_EQ(series["metric"]["job"], job) << panel << " shows another target: " << expr;
        }
      }
    }
  }

  // The up panels show poolwatch's targets only: 1 while it answers, whatever other targets
  // do; 0 once it stops answering, although its poolwatch_build_info is then stale at once.
  std::map<std::string, std::string> all =
      resolve([](const Variable&) { return std::vector<std::string>{}; }, true);
  std::vector<std::pair<std::string, std::string>> up_panels;
  for (const auto& [panel, raw] : expressions) {
    if (raw.find("up{") == 0 || raw.find("(up{") != std::string::npos) {
      up_panels.emplace_back(panel, Substitute(raw, all));
    }
  }
  ASSERT_EQ(up_panels.size(), 2u);
  auto up_panels_show = [&](const std::string& value) {
    for (const auto& [panel, expr] : up_panels) {
      std::string seen;
      EXPECT_TRUE(WaitUntil(
          [&] {
            auto r = HttpGet(api + "query?query=" + UrlEncode(expr));
            auto j = nlohmann::json::parse(r.body, nullptr, false);
            if (!j.is_object() || j["data"]["result"].size() != 1) {
              seen = r.body;
              return false;
            }
            seen = j["data"]["result"][0]["value"][1];
            return seen == value;
          },
          kDeadline, std::chrono::milliseconds(250)))
          << panel << " shows " << seen << ", not " << value << ": " << expr;
    }
  };
  up_panels_show("1");
  stack.StopPoolwatch();
  up_panels_show("0");

  // PoolwatchDown (pending for its minute) holds the stopped poolwatch under its own job
  // name, and not the target that was down all along; PoolwatchAbsent stays quiet.
  auto alerts = [&](const std::string& selector) {
    auto r = HttpGet(api + "query?query=" + UrlEncode("ALERTS" + selector));
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() ? j["data"]["result"] : nlohmann::json::array();
  };
  EXPECT_TRUE(WaitUntil(
      [&] {
        return alerts(R"({alertname="PoolwatchDown", job=")" + job + R"(", instance=")" +
                      poolwatch_target + R"("})")
                   .size() == 1;
      },
      kDeadline, std::chrono::milliseconds(250)))
      << prom.Output();
  EXPECT_TRUE(alerts(R"({alertname="PoolwatchDown", job!=")" + job + R"("})").empty());
  EXPECT_TRUE(alerts(R"({alertname="PoolwatchAbsent"})").empty());
}

}  // namespace
}  // namespace poolwatch::testing
