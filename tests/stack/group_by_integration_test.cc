// group_by (issue 17) end to end with real nginx: one nginx serving two sites, each a `server`
// block on its own port with its own access_log and its own demo app; poolwatch follows both
// logs through a glob with log.path_label and an error_rate rule with group_by: [site]. The
// shop's app fails; the page names the shop and only the shop, the blog's healthy traffic does
// not page, the shop's alert resolves once it recovers, and the request metrics carry each
// vhost's site.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
constexpr auto kDeadline = std::chrono::seconds(20);

class TwoSites : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(run_ / "logs");
    // nginx started as root runs its workers as nobody, who must reach the logs.
    for (const fs::path& p : {dir_.path(), run_, run_ / "logs"}) {
      fs::permissions(p, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    }
    shop_app_ = StartApp("blue", shop_app_port_);
    blog_app_ = StartApp("green", blog_app_port_);
    StartSlackStandin();
    StartNginx();
    StartPoolwatch();
  }

  void TearDown() override {
    if (poolwatch_) poolwatch_->Stop(SIGTERM, std::chrono::seconds(15));
    if (nginx_pid_ > 0) {
      kill(nginx_pid_, SIGQUIT);
      WaitUntil([&] { return kill(nginx_pid_, 0) != 0; }, std::chrono::seconds(5));
      kill(nginx_pid_, SIGKILL);
    }
  }

  std::unique_ptr<Process> StartApp(const std::string& pool, int port) {
    auto app = std::make_unique<Process>(
        std::vector<std::string>{POOLWATCH_DEMO_APP_BINARY, "--port", std::to_string(port),
                                 "--pool", pool, "--release", "v1.0.0"},
        dir_ / (pool + ".log"));
    EXPECT_TRUE(WaitUntil(
        [&] {
          return HttpGet(Url(port, "/healthz"), std::chrono::milliseconds(500)).status == 200;
        },
        kDeadline))
        << app->Output();
    return app;
  }

  void StartSlackStandin() {
    slack_ = std::make_unique<Process>(
        std::vector<std::string>{
            "python3", std::string(POOLWATCH_SOURCE_DIR) + "/tests/support/slack_standin.py", "0"},
        dir_ / "slack.log");
    std::string out;
    ASSERT_TRUE(WaitUntil(
        [&] {
          out = slack_->Output();
          return out.find("PORT ") != std::string::npos && out.find('\n') != std::string::npos;
        },
        kDeadline))
        << out;
    slack_port_ = std::stoi(out.substr(out.find("PORT ") + 5));
  }

  // Two server blocks, one access_log each: how a host serving several sites logs them.
  void StartNginx() {
    const std::string format = ReadFile(fs::path(POOLWATCH_SOURCE_DIR) / "nginx/log_format.conf");
    auto server = [&](const std::string& site, int port, int app_port) {
      return "  upstream " + site + "_app { server 127.0.0.1:" + std::to_string(app_port) +
             "; }\n"
             "  server {\n"
             "    listen 127.0.0.1:" +
             std::to_string(port) +
             ";\n"
             "    access_log " +
             (run_ / "logs" / (site + ".access.log")).string() +
             " poolwatch;\n"
             "    location / { proxy_pass http://" +
             site + "_app; }\n  }\n";
    };
    std::string out;
    int rc = 1;
    // FreePort() says a port was free a moment ago: another test may take it meanwhile.
    for (int attempt = 0; attempt < 3 && rc != 0; ++attempt) {
      shop_port_ = FreePort();
      blog_port_ = FreePort();
      const std::string r = run_.string();
      WriteFile(run_ / "nginx.conf",
                "worker_processes 1;\npid " + r + "/nginx.pid;\nerror_log " + r +
                    "/logs/error.log warn;\nevents { worker_connections 64; }\nhttp {\n"
                    "  client_body_temp_path " +
                    r + "/client_body_temp;\n  proxy_temp_path " + r +
                    "/proxy_temp;\n  fastcgi_temp_path " + r + "/fastcgi_temp;\n" +
                    "  uwsgi_temp_path " + r + "/uwsgi_temp;\n  scgi_temp_path " + r +
                    "/scgi_temp;\n" + format + "\n  access_log off;\n" +
                    server("shop", shop_port_, shop_app_port_) +
                    server("blog", blog_port_, blog_app_port_) + "}\n");
      rc = RunCommand({FindProgram("nginx"), "-p", r, "-c", (run_ / "nginx.conf").string()}, &out);
      if (out.find("Address already in use") == std::string::npos) break;
    }
    ASSERT_EQ(rc, 0) << out;
    ASSERT_TRUE(WaitUntil([&] { return fs::exists(run_ / "nginx.pid"); }, kDeadline));
    nginx_pid_ = std::stoi(ReadFile(run_ / "nginx.pid"));
    ASSERT_TRUE(WaitUntil([&] { return Site(shop_port_).status == 200; }, kDeadline));
    ASSERT_TRUE(WaitUntil([&] { return Site(blog_port_).status == 200; }, kDeadline));
    // One line each so far, the probes' (nginx logs a request after answering it).
    ASSERT_TRUE(
        WaitUntil([&] { return LogLines("shop") == 1 && LogLines("blog") == 1; }, kDeadline));
  }

  void StartPoolwatch() {
    WriteFile(dir_ / "poolwatch.yml",
              "log:\n"
              "  path: " +
                  (run_ / "logs" / "*.access.log").string() +
                  "\n"
                  "  path_label: {name: site, regex: '.*/(\\w+)\\.access\\.log'}\n"
                  "alerting:\n"
                  "  rules:\n"
                  "    - name: site_errors\n"
                  "      kind: error_rate\n"
                  "      threshold_percent: 10\n"
                  "      window_size: 40\n"
                  "      min_requests: 20\n"
                  "      resolve_for: 1s\n"
                  "      group_by: [site]\n"
                  "state:\n"
                  "  path: " +
                  (dir_ / "state.json").string() + "\n");
    poolwatch_ = std::make_unique<Process>(
        std::vector<std::string>{POOLWATCH_BINARY, "--config.file",
                                 (dir_ / "poolwatch.yml").string(), "--web.listen-address",
                                 "127.0.0.1:0", "--log.start-at", "beginning"},
        dir_ / "poolwatch.log",
        std::map<std::string, std::string>{
            {"SLACK_WEBHOOK_URL", Url(slack_port_, "/services/T000/B000/secret-token")}});
    poolwatch_port_ = WaitForListeningPort(*poolwatch_);
    ASSERT_NE(poolwatch_port_, 0) << poolwatch_->Output();
  }

  static std::string Url(int port, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  HttpResponse Site(int port) { return HttpGet(Url(port, "/version"), std::chrono::seconds(10)); }
  // Statuses of `n` requests to a site.
  std::map<int, int> Hit(int port, int n) {
    std::map<int, int> statuses;
    for (int i = 0; i < n; ++i) ++statuses[Site(port).status];
    return statuses;
  }
  double LogLines(const std::string& site) {
    const std::string text = ReadFile(run_ / "logs" / (site + ".access.log"));
    return static_cast<double>(std::count(text.begin(), text.end(), '\n'));
  }
  double Requests(const std::map<std::string, std::string>& labels) {
    return MetricValue(HttpGet(Url(poolwatch_port_, "/metrics")).body,
                       "poolwatch_http_requests_total", labels);
  }
  // The `text` of every message the Slack stand-in accepted.
  std::vector<std::string> SlackTexts() {
    std::vector<std::string> texts;
    const nlohmann::json all =
        nlohmann::json::parse(HttpGet(Url(slack_port_, "/_received")).body, nullptr, false);
    if (!all.is_array()) return texts;
    for (const auto& d : all) {
      if (d.value("status", 0) == 200 && d.contains("json") && d["json"].is_object()) {
        texts.push_back(d["json"].value("text", ""));
      }
    }
    return texts;
  }
  bool SlackHas(const std::string& what) {
    return WaitUntil(
        [&] {
          for (const std::string& text : SlackTexts()) {
            if (text.find(what) != std::string::npos) return true;
          }
          return false;
        },
        kDeadline);
  }

  TempDir dir_;
  const fs::path run_ = dir_ / "nginx";
  const int shop_app_port_ = FreePort();
  const int blog_app_port_ = FreePort();
  int shop_port_ = 0, blog_port_ = 0, slack_port_ = 0, poolwatch_port_ = 0;
  pid_t nginx_pid_ = -1;
  std::unique_ptr<Process> shop_app_, blog_app_, slack_, poolwatch_;
};

TEST_F(TwoSites, TheFailingSitePagesAloneAndEachVhostsRequestsCarryItsSite) {
  // Healthy traffic on both: each vhost's lines counted under its site (with the start-up
  // probe's).
  EXPECT_EQ(Hit(blog_port_, 60)[200], 60);
  EXPECT_EQ(Hit(shop_port_, 30)[200], 30);
  const double blog_lines = 1 + 60, shop_lines = 1 + 30;
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Requests({{"site", "blog"}}) == blog_lines;
      },
      kDeadline))
      << poolwatch_->Output();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Requests({{"site", "shop"}}) == shop_lines;
      },
      kDeadline))
      << poolwatch_->Output();
  EXPECT_EQ(Requests({{"site", "blog"}, {"pool", "green"}}), blog_lines);
  EXPECT_EQ(Requests({{"site", "shop"}, {"pool", "blue"}}), shop_lines);
  EXPECT_EQ(Requests({}), blog_lines + shop_lines);

  // The shop's app fails: 20 of its 40 last requests are 500s, while the blog keeps serving
  // more than both together failed (across all lines the rate would stay under 10 %).
  ASSERT_EQ(HttpPost(Url(shop_app_port_, "/chaos/start?mode=error")).status, 200);
  EXPECT_EQ(Hit(shop_port_, 20)[500], 20);
  EXPECT_EQ(Hit(blog_port_, 150)[200], 150);
  ASSERT_TRUE(SlackHas("[site shop]")) << poolwatch_->Output();
  // The alert's key, labels and text name the shop; nothing names the blog.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return Requests({{"site", "blog"}}) == blog_lines + 150;
      },
      kDeadline));
  const nlohmann::json status =
      nlohmann::json::parse(HttpGet(Url(poolwatch_port_, "/api/v1/status")).body);
  bool shop_firing = false;
  for (const auto& rule : status["rules"]) {
    const std::string site = rule["labels"].value("site", "");
    if (site == "shop") shop_firing = rule["firing"].get<bool>();
    if (site == "blog") {
      EXPECT_FALSE(rule["firing"].get<bool>()) << rule.dump();
    }
  }
  EXPECT_TRUE(shop_firing) << status.dump();
  for (const std::string& text : SlackTexts()) {
    EXPECT_THAT(text, Not(HasSubstr("blog"))) << text;
    EXPECT_THAT(text, HasSubstr("[site shop]")) << text;
  }

  // A restart keeps the shop's announced alert: still failing afterwards, no second page.
  ASSERT_EQ(poolwatch_->Stop(SIGTERM, std::chrono::seconds(15)), 0) << poolwatch_->Output();
  const nlohmann::json saved = nlohmann::json::parse(ReadFile(dir_ / "state.json"));
  ASSERT_EQ(saved["alerting"]["alerts"].size(), 1u) << saved.dump();
  EXPECT_EQ(saved["alerting"]["alerts"][0]["labels"],
            nlohmann::json::parse(R"([["site", "shop"]])"));
  StartPoolwatch();
  EXPECT_EQ(Hit(shop_port_, 20)[500], 20);
  // Resumed where it stood: the window holds the 20 new lines alone, and the alert is on.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const nlohmann::json now =
            nlohmann::json::parse(HttpGet(Url(poolwatch_port_, "/api/v1/status")).body);
        for (const auto& rule : now["rules"]) {
          if (rule["labels"].value("site", "") != "shop") continue;
          return rule["window_fill"].get<int>() == 20 && rule["firing"].get<bool>() &&
                 rule["announced"].get<bool>();
        }
        return false;
      },
      kDeadline))
      << poolwatch_->Output();
  EXPECT_EQ(SlackTexts().size(), 1u);

  // The shop recovers: its alert resolves, as the shop's.
  ASSERT_EQ(HttpPost(Url(shop_app_port_, "/chaos/stop")).status, 200);
  EXPECT_EQ(Hit(shop_port_, 100)[200], 100);
  ASSERT_TRUE(WaitUntil(
      [&] {
        // resolve_for is 1 s of log time: a request later moves it on.
        Hit(shop_port_, 1);
        for (const std::string& text : SlackTexts()) {
          if (text.find("RESOLVED") != std::string::npos) return true;
        }
        return false;
      },
      kDeadline))
      << poolwatch_->Output();
  const std::vector<std::string> texts = SlackTexts();
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_THAT(texts[0], HasSubstr("SITE_ERRORS: [site shop]"));
  EXPECT_THAT(texts[1], HasSubstr("RESOLVED: [site shop]"));
}

}  // namespace
}  // namespace poolwatch::testing
