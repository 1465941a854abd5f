// The shipped stack, checked with the real programs: nginx renders and fails over between two
// demo apps, docker-compose accepts the compose file, promtool and Alertmanager accept the
// Prometheus files, and the Grafana dashboard only asks for metrics poolwatch exports.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_support.h"
#include "yaml-cpp/yaml.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

const fs::path kSource = POOLWATCH_SOURCE_DIR;

// The project's log format, a contract shared with the exporter and with users' nginx.
constexpr const char* kContractLogFormat =
    "'$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\" pool=$upstream_http_x_app_pool "
    "release=$upstream_http_x_release_id upstream_status=$upstream_status "
    "upstream_addr=$upstream_addr request_time=$request_time "
    "upstream_response_time=$upstream_response_time'";

// Every metric poolwatch exports (the contract dashboards and rules are written against).
const std::set<std::string> kCounterAndGaugeNames = {
    "poolwatch_http_requests_total",
    "poolwatch_upstream_attempts_total",
    "poolwatch_log_lines_total",
    "poolwatch_log_malformed_lines_total",
    "poolwatch_log_bytes_read_total",
    "poolwatch_log_rotations_total",
    "poolwatch_log_truncations_total",
    "poolwatch_build_info",
    "poolwatch_serving_pool",
    "poolwatch_active_pool",
    "poolwatch_maintenance_mode",
    "poolwatch_alert_firing",
    "poolwatch_rule_error_ratio",
    "poolwatch_alert_decisions_total",
    "poolwatch_notifications_total",
    "poolwatch_notification_queue_length",
    "poolwatch_notifications_dropped_total",
    "poolwatch_log_readable",
    "poolwatch_state_last_write_successful",
    "poolwatch_config_last_reload_successful",
};
const std::set<std::string> kHistogramNames = {
    "poolwatch_http_request_duration_seconds",
    "poolwatch_upstream_response_duration_seconds",
    "poolwatch_notification_delivery_seconds",
};

bool IsKnownMetric(const std::string& name) {
  if (kCounterAndGaugeNames.count(name) > 0) return true;
  for (const auto& h : kHistogramNames) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (name == h + suffix) return true;
    }
  }
  return false;
}

// Identifiers in a PromQL expression (or any text) that name a poolwatch series: plain
// metric names, and recording-rule names (with colons) that contain "poolwatch_".
std::set<std::string> PoolwatchIdentifiers(const std::string& text) {
  static const std::regex kIdentifier("[A-Za-z_:][A-Za-z0-9_:]*");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kIdentifier);
       it != std::sregex_iterator(); ++it) {
    std::string token = it->str();
    if (token.find("poolwatch_") != std::string::npos) out.insert(token);
  }
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) lines.push_back(line);
  return lines;
}

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

#define REQUIRE_PROGRAM(var, name)           \
  const std::string var = FindProgram(name); \
  if (var.empty()) GTEST_SKIP() << name << " is not installed (not in PATH)"

// ---------------------------------------------------------------------------------------
// nginx/render.sh and the template
// ---------------------------------------------------------------------------------------

struct RenderSettings {
  std::string active_pool = "blue";
  std::string blue = "127.0.0.1:8081";
  std::string green = "127.0.0.1:8082";
  int port = 8080;
  fs::path run_dir;
  fs::path access_log;
};

std::map<std::string, std::string> RenderEnv(const RenderSettings& s) {
  return {{"ACTIVE_POOL", s.active_pool},
          {"BLUE_UPSTREAM", s.blue},
          {"GREEN_UPSTREAM", s.green},
          {"NGINX_LISTEN", "127.0.0.1"},
          {"NGINX_PORT", std::to_string(s.port)},
          {"NGINX_RUN_DIR", s.run_dir.string()},
          {"ACCESS_LOG", s.access_log.string()},
          {"ERROR_LOG", (s.run_dir / "logs" / "error.log").string()},
          {"NGINX_WORKER_PROCESSES", "2"}};
}

// Runs render.sh through sh, so the test does not depend on the file's exec bit.
int Render(const std::map<std::string, std::string>& env, const fs::path& output,
           std::string* messages) {
  return RunCommand({"sh", (kSource / "nginx" / "render.sh").string(), output.string()}, messages,
                    env);
}

TEST(NginxTemplate, renders_a_config_that_nginx_accepts) {
  REQUIRE_PROGRAM(nginx, "nginx");
  REQUIRE_PROGRAM(envsubst, "envsubst");
  TempDir dir;
  RenderSettings settings;
  settings.run_dir = dir / "run";
  settings.access_log = dir / "logs" / "access.log";
  const fs::path conf = dir / "nginx.conf";
  std::string output;
  ASSERT_EQ(Render(RenderEnv(settings), conf, &output), 0) << output;

  const std::string rendered = ReadFile(conf);
  EXPECT_EQ(rendered.find("${"), std::string::npos) << "a template variable was left";
  // nginx's own variables survive: envsubst was given an explicit list.
  EXPECT_NE(rendered.find(std::string("log_format poolwatch ") + kContractLogFormat + ";"),
            std::string::npos)
      << "the poolwatch log_format is not the project's contract format";
  EXPECT_NE(rendered.find("log_format poolwatch_json escape=json '{"), std::string::npos);
  EXPECT_NE(rendered.find("server 127.0.0.1:8081 max_fails=1 fail_timeout=5s;"), std::string::npos);
  EXPECT_NE(rendered.find("server 127.0.0.1:8082 backup max_fails=1 fail_timeout=5s;"),
            std::string::npos);
  EXPECT_NE(rendered.find("proxy_next_upstream error timeout http_500 http_502 http_503 "
                          "http_504;"),
            std::string::npos);
  EXPECT_NE(rendered.find("listen 127.0.0.1:8080;"), std::string::npos);

  // Exactly one access_log directive, to the dedicated file, in the poolwatch format.
  int access_logs = 0;
  for (const auto& line : Lines(rendered)) {
    std::string t = Trim(line);
    if (t.rfind("access_log ", 0) == 0) {
      ++access_logs;
      EXPECT_EQ(t, "access_log " + settings.access_log.string() + " poolwatch;");
    }
  }
  EXPECT_EQ(access_logs, 1);

  EXPECT_EQ(
      RunCommand({nginx, "-t", "-p", settings.run_dir.string(), "-c", conf.string()}, &output), 0)
      << output;
  EXPECT_NE(output.find("test is successful"), std::string::npos) << output;
  // render.sh made the directories nginx needs, reachable by workers running as nobody.
  EXPECT_TRUE(fs::is_directory(settings.run_dir));
  EXPECT_TRUE(fs::is_directory(settings.access_log.parent_path()));
  auto perms = fs::status(settings.run_dir).permissions();
  EXPECT_NE(perms & fs::perms::others_exec, fs::perms::none);
}

TEST(NginxTemplate, green_as_active_pool_makes_blue_the_backup) {
  REQUIRE_PROGRAM(envsubst, "envsubst");
  TempDir dir;
  RenderSettings settings;
  settings.active_pool = "green";
  settings.run_dir = dir / "run";
  settings.access_log = dir / "access.log";
  std::string output;
  ASSERT_EQ(Render(RenderEnv(settings), dir / "nginx.conf", &output), 0) << output;
  const std::string rendered = ReadFile(dir / "nginx.conf");
  EXPECT_NE(rendered.find("server 127.0.0.1:8082 max_fails=1"), std::string::npos);
  EXPECT_NE(rendered.find("server 127.0.0.1:8081 backup max_fails=1"), std::string::npos);
}

TEST(NginxTemplate, render_refuses_values_that_would_break_the_config) {
  REQUIRE_PROGRAM(envsubst, "envsubst");
  TempDir dir;
  RenderSettings settings;
  settings.run_dir = dir / "run";
  settings.access_log = dir / "access.log";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"ACTIVE_POOL", "red"},         {"BLUE_UPSTREAM", "127.0.0.1:8081; include /etc/passwd"},
      {"GREEN_UPSTREAM", "no-port"},  {"NGINX_PORT", "80a"},
      {"ACCESS_LOG", "/tmp/a b.log"},
  };
  for (const auto& [name, value] : bad) {
    auto env = RenderEnv(settings);
    env[name] = value;
    std::string output;
    EXPECT_NE(Render(env, dir / "bad.conf", &output), 0) << name << "=" << value;
    EXPECT_NE(output.find(name), std::string::npos)
        << "message should name " << name << ": " << output;
    EXPECT_FALSE(fs::exists(dir / "bad.conf")) << name;
  }
}

TEST(NginxTemplate, log_format_conf_holds_the_same_formats_as_the_template) {
  auto formats = [](const std::string& text) {
    std::vector<std::string> out;
    for (const auto& line : Lines(text)) {
      std::string t = Trim(line);
      if (t.rfind("log_format ", 0) == 0) out.push_back(t);
    }
    return out;
  };
  std::vector<std::string> conf = formats(ReadFile(kSource / "nginx" / "log_format.conf"));
  std::vector<std::string> tmpl = formats(ReadFile(kSource / "nginx" / "nginx.conf.template"));
  ASSERT_EQ(conf.size(), 2u);
  EXPECT_EQ(conf, tmpl);
  EXPECT_EQ(conf[0], std::string("log_format poolwatch ") + kContractLogFormat + ";");
  // The JSON variant logs the same nginx variables as the default one.
  std::regex variable("\\$[a-z_]+");
  auto variables = [&](const std::string& s) {
    std::set<std::string> out;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), variable); it != std::sregex_iterator();
         ++it) {
      out.insert(it->str());
    }
    return out;
  };
  EXPECT_EQ(variables(conf[0]), variables(conf[1]));
  EXPECT_NE(conf[1].find("escape=json"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// The demo app, alone
// ---------------------------------------------------------------------------------------

bool ExitedCleanly(int status) {
  return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Starts the demo app on a port the kernel picks (--port 0) and returns that port, read
// from its start-up line; 0 if it did not start. Picking in the app avoids the race of
// FreePort() when several tests run at once.
int StartDemoApp(std::unique_ptr<Process>* app, const fs::path& log,
                 std::vector<std::string> extra_args, std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv = {POOLWATCH_DEMO_APP_BINARY, "--port", "0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  *app = std::make_unique<Process>(argv, log, std::move(env));
  static const std::regex kListening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  int port = 0;
  WaitUntil(
      [&] {
        std::smatch m;
        std::string output = (*app)->Output();
        if (!std::regex_search(output, m, kListening)) return false;
        port = std::stoi(m[1]);
        return true;
      },
      seconds(10));
  return port;
}

TEST(DemoApp, serves_identity_and_chaos_endpoints_and_stops_cleanly_on_sigterm) {
  TempDir dir;
  std::unique_ptr<Process> started_app;
  const int port = StartDemoApp(&started_app, dir / "app.log", {},
                                {{"APP_POOL", "blue"}, {"RELEASE_ID", "blue-v7"}});
  ASSERT_GT(port, 0) << started_app->Output();
  Process& app = *started_app;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(base + "/healthz").status == 200; }, seconds(10)))
      << app.Output();

  for (const char* path : {"/version", "/"}) {
    HttpResponse r = HttpGet(base + path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.headers["x-app-pool"], "blue") << path;
    EXPECT_EQ(r.headers["x-release-id"], "blue-v7") << path;
    auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["pool"], "blue");
    EXPECT_EQ(body["release"], "blue-v7");
  }
  EXPECT_EQ(nlohmann::json::parse(HttpGet(base + "/healthz").body)["status"], "ok");

  EXPECT_EQ(HttpPost(base + "/chaos/start?mode=sideways").status, 400);
  EXPECT_EQ(HttpGet(base + "/chaos/start?mode=error").status, 405) << "chaos needs POST";

  ASSERT_EQ(HttpPost(base + "/chaos/start?mode=error").status, 200);
  for (const char* path : {"/version", "/", "/healthz"}) {
    HttpResponse r = HttpGet(base + path);
    EXPECT_EQ(r.status, 500) << path;
    EXPECT_EQ(r.headers["x-app-pool"], "blue") << "headers are sent with errors too";
  }
  ASSERT_EQ(HttpPost(base + "/chaos/stop").status, 200);
  EXPECT_EQ(HttpGet(base + "/version").status, 200);

  // Timeout mode holds a request; stopping chaos releases it at once.
  ASSERT_EQ(HttpPost(base + "/chaos/start?mode=timeout").status, 200);
  auto started = std::chrono::steady_clock::now();
  HttpResponse held;
  std::thread client([&] { held = HttpGet(base + "/version", seconds(20)); });
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(HttpGet(base + "/healthz", milliseconds(200)).status, 0)
      << "a request in timeout mode must not be answered quickly";
  EXPECT_EQ(HttpPost(base + "/chaos/stop").status, 200) << "chaos endpoints stay responsive";
  client.join();
  auto held_for = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(held.status, 200);
  EXPECT_LT(held_for, seconds(3));

  EXPECT_TRUE(ExitedCleanly(app.Stop(SIGTERM))) << app.Output();
}

TEST(DemoApp, rejects_bad_flags) {
  std::string output;
  EXPECT_NE(RunCommand({POOLWATCH_DEMO_APP_BINARY, "--port", "http"}, &output), 0);
  EXPECT_NE(output.find("bad port"), std::string::npos) << output;
  EXPECT_NE(RunCommand({POOLWATCH_DEMO_APP_BINARY, "--colour", "blue"}, &output), 0);
  EXPECT_NE(output.find("unknown flag"), std::string::npos) << output;
}

// ---------------------------------------------------------------------------------------
// nginx in front of two demo apps
// ---------------------------------------------------------------------------------------

class Failover : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FindProgram("nginx").empty()) GTEST_SKIP() << "nginx is not installed";
    if (FindProgram("envsubst").empty()) GTEST_SKIP() << "envsubst is not installed";
    blue_port_ =
        StartDemoApp(&blue_, dir_ / "blue.log", {"--pool", "blue", "--release", "blue-v1"});
    ASSERT_GT(blue_port_, 0) << blue_->Output();
    green_port_ =
        StartDemoApp(&green_, dir_ / "green.log", {"--pool", "green", "--release", "green-v1"});
    ASSERT_GT(green_port_, 0) << green_->Output();
    for (int port : {blue_port_, green_port_}) {
      ASSERT_TRUE(
          WaitUntil([&] { return HttpGet(Url(port, "/healthz")).status == 200; }, seconds(10)))
          << blue_->Output() << green_->Output();
    }

    // FreePort() can race with another test taking the same port: then nginx exits at once
    // and we try another.
    RenderSettings settings;
    settings.blue = BlueAddress();
    settings.green = GreenAddress();
    settings.run_dir = dir_ / "run";
    settings.access_log = dir_ / "logs" / "access.log";
    access_log_ = settings.access_log;
    bool up = false;
    for (int attempt = 0; attempt < 3 && !up; ++attempt) {
      nginx_port_ = FreePort();
      settings.port = nginx_port_;
      std::string output;
      ASSERT_EQ(Render(RenderEnv(settings), dir_ / "nginx.conf", &output), 0) << output;
      nginx_ = std::make_unique<Process>(
          std::vector<std::string>{"nginx", "-p", settings.run_dir.string(), "-c",
                                   (dir_ / "nginx.conf").string(), "-g", "daemon off;"},
          dir_ / "nginx.out");
      up = WaitUntil([&] { return !nginx_->Running() || HttpGet(Site()).status == 200; },
                     seconds(10)) &&
           nginx_->Running();
    }
    ASSERT_TRUE(up) << nginx_->Output() << ReadFile(settings.run_dir / "logs" / "error.log");
    // nginx logs a request after answering it: let the readiness request's line land, so
    // the tests can count lines from here on.
    ASSERT_TRUE(WaitUntil([&] { return LogLines().size() == 1; }, seconds(5)));
  }

  void TearDown() override {
    // civetweb takes a while to stop: signal both apps first so they stop side by side.
    for (auto* p : {blue_.get(), green_.get()}) {
      if (p != nullptr && p->Running()) kill(p->pid(), SIGTERM);
    }
    if (nginx_) nginx_->Stop();
    if (blue_) blue_->Stop();
    if (green_) green_->Stop();
  }

  static std::string Url(int port, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  std::string Site() const { return Url(nginx_port_, "/version"); }
  std::string BlueAddress() const { return "127.0.0.1:" + std::to_string(blue_port_); }
  std::string GreenAddress() const { return "127.0.0.1:" + std::to_string(green_port_); }

  std::vector<std::string> LogLines() const { return Lines(ReadFile(access_log_)); }

  // nginx writes the line after the response has gone out: wait for it.
  std::string WaitForLogLine(size_t index) const {
    std::vector<std::string> lines;
    WaitUntil(
        [&] {
          lines = LogLines();
          return lines.size() > index;
        },
        seconds(5));
    return lines.size() > index ? lines[index] : std::string();
  }

  // Polls the site until the primary (blue) answers again; nginx retries it after its
  // fail_timeout (5 s). On failure, explains with the access log's last lines.
  ::testing::AssertionResult WaitForBlue() const {
    if (WaitUntil([&] { return HttpGet(Site()).headers["x-app-pool"] == "blue"; }, seconds(20),
                  milliseconds(250))) {
      return ::testing::AssertionSuccess();
    }
    std::vector<std::string> lines = LogLines();
    std::string tail;
    for (size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i) {
      tail += lines[i] + "\n";
    }
    return ::testing::AssertionFailure()
           << "blue did not serve again within 20 s; last log lines:\n"
           << tail << ReadFile(dir_ / "run" / "logs" / "error.log");
  }

  TempDir dir_;
  int blue_port_ = 0;
  int green_port_ = 0;
  int nginx_port_ = 0;
  fs::path access_log_;
  std::unique_ptr<Process> blue_;
  std::unique_ptr<Process> green_;
  std::unique_ptr<Process> nginx_;
};

TEST_F(Failover, primary_serves_normal_traffic_with_pool_headers) {
  size_t before = LogLines().size();
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = HttpGet(Site());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["x-app-pool"], "blue");
    EXPECT_EQ(r.headers["x-release-id"], "blue-v1");
    EXPECT_EQ(nlohmann::json::parse(r.body)["pool"], "blue");
  }
  std::string line = WaitForLogLine(before + 4);
  EXPECT_NE(line.find("\"GET /version HTTP/1.1\" 200 "), std::string::npos) << line;
  EXPECT_NE(line.find(" pool=blue release=blue-v1 upstream_status=200 upstream_addr=" +
                      BlueAddress() + " request_time="),
            std::string::npos)
      << line;
}

TEST_F(Failover, error_on_primary_is_answered_by_backup_in_the_same_request) {
  ASSERT_EQ(HttpPost(Url(blue_port_, "/chaos/start?mode=error")).status, 200);
  size_t before = LogLines().size();

  HttpResponse r = HttpGet(Site());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-app-pool"], "green");
  EXPECT_EQ(r.headers["x-release-id"], "green-v1");
  std::string line = WaitForLogLine(before);
  EXPECT_NE(line.find(" 200 "), std::string::npos) << line;
  EXPECT_NE(line.find("pool=green release=green-v1 upstream_status=500, 200 upstream_addr=" +
                      BlueAddress() + ", " + GreenAddress() + " "),
            std::string::npos)
      << line;

  // Blue is now out for fail_timeout: green answers directly, without a retry.
  r = HttpGet(Site());
  EXPECT_EQ(r.headers["x-app-pool"], "green");
  line = WaitForLogLine(before + 1);
  EXPECT_NE(line.find("upstream_status=200 upstream_addr=" + GreenAddress() + " "),
            std::string::npos)
      << line;

  ASSERT_EQ(HttpPost(Url(blue_port_, "/chaos/stop")).status, 200);
  EXPECT_TRUE(WaitForBlue());
}

TEST_F(Failover, timeout_on_primary_is_answered_by_backup_in_the_same_request) {
  ASSERT_EQ(HttpPost(Url(blue_port_, "/chaos/start?mode=timeout")).status, 200);
  size_t before = LogLines().size();

  auto started = std::chrono::steady_clock::now();
  HttpResponse r = HttpGet(Site(), seconds(15));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-app-pool"], "green");
  // nginx gives blue proxy_read_timeout (2 s), well before the app's 5 s delay ends.
  EXPECT_GE(took, milliseconds(1900));
  EXPECT_LT(took, milliseconds(4500));
  std::string line = WaitForLogLine(before);
  EXPECT_NE(line.find("pool=green release=green-v1 upstream_status=504, 200 upstream_addr=" +
                      BlueAddress() + ", " + GreenAddress() + " "),
            std::string::npos)
      << line;

  // The next requests do not wait: blue is out for fail_timeout.
  started = std::chrono::steady_clock::now();
  r = HttpGet(Site());
  EXPECT_EQ(r.headers["x-app-pool"], "green");
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));

  ASSERT_EQ(HttpPost(Url(blue_port_, "/chaos/stop")).status, 200);
  EXPECT_TRUE(WaitForBlue());
}

TEST_F(Failover, both_pools_failing_reach_the_client_as_5xx) {
  ASSERT_EQ(HttpPost(Url(blue_port_, "/chaos/start?mode=error")).status, 200);
  ASSERT_EQ(HttpPost(Url(green_port_, "/chaos/start?mode=error")).status, 200);
  size_t before = LogLines().size();

  // Both tried, both failed: the client gets the backup's 500.
  EXPECT_EQ(HttpGet(Site()).status, 500);
  std::string first = WaitForLogLine(before);
  EXPECT_NE(first.find("upstream_status=500, 500 upstream_addr=" + BlueAddress() + ", " +
                       GreenAddress() + " "),
            std::string::npos)
      << first;

  // Once nginx has marked both out (the backup's last-try 500 does not always count), it
  // answers 502 itself: the group's name as the address, no pool. Every answer is a 5xx.
  bool saw_no_live_upstream = false;
  for (size_t i = 1; i <= 5 && !saw_no_live_upstream; ++i) {
    EXPECT_GE(HttpGet(Site()).status, 500);
    std::string line = WaitForLogLine(before + i);
    saw_no_live_upstream =
        line.find("\" 502 ") != std::string::npos &&
        line.find("pool=- release=- upstream_status=502 upstream_addr=app_pools ") !=
            std::string::npos;
  }
  std::string all;
  for (const auto& l : LogLines()) all += l + "\n";
  EXPECT_TRUE(saw_no_live_upstream) << all;

  ASSERT_EQ(HttpPost(Url(blue_port_, "/chaos/stop")).status, 200);
  ASSERT_EQ(HttpPost(Url(green_port_, "/chaos/stop")).status, 200);
  EXPECT_TRUE(WaitForBlue());
}

// ---------------------------------------------------------------------------------------
// docker-compose.yml, .env.example and the Dockerfiles
// ---------------------------------------------------------------------------------------

std::set<std::string> ComposeVariables(const std::string& compose) {
  std::set<std::string> out;
  std::regex reference("\\$\\{([A-Z_][A-Z0-9_]*)");
  for (auto it = std::sregex_iterator(compose.begin(), compose.end(), reference);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1]);
  }
  return out;
}

std::map<std::string, std::string> EnvExample() {
  std::map<std::string, std::string> out;
  for (const auto& line : Lines(ReadFile(kSource / ".env.example"))) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto eq = t.find('=');
    if (eq != std::string::npos) out[t.substr(0, eq)] = t.substr(eq + 1);
  }
  return out;
}

TEST(Compose, config_is_valid_with_and_without_an_env_file) {
  REQUIRE_PROGRAM(compose, "docker-compose");
  const std::string file = (kSource / "docker-compose.yml").string();
  std::string output;
  ASSERT_EQ(RunCommand({compose, "-f", file, "config", "-q"}, &output), 0) << output;
  EXPECT_EQ(output.find("is not set"), std::string::npos) << output;

  TempDir dir;
  fs::copy_file(kSource / ".env.example", dir / ".env");
  ASSERT_EQ(RunCommand({compose, "-f", file, "--env-file", (dir / ".env").string(), "config", "-q"},
                       &output),
            0)
      << output;

  ASSERT_EQ(RunCommand({compose, "-f", file, "config", "--services"}, &output), 0) << output;
  for (const char* service :
       {"nginx", "app_blue", "app_green", "poolwatch", "prometheus", "grafana", "alertmanager"}) {
    EXPECT_NE(output.find(std::string(service) + "\n"), std::string::npos) << service;
  }
}

TEST(Compose, every_variable_is_in_env_example_with_the_seed_defaults) {
  const std::string compose = ReadFile(kSource / "docker-compose.yml");
  auto example = EnvExample();
  std::set<std::string> used = ComposeVariables(compose);
  for (const auto& name : used) {
    EXPECT_TRUE(example.count(name) > 0) << name << " is used in docker-compose.yml but not "
                                         << "listed in .env.example";
  }
  for (const auto& [name, value] : example) {
    EXPECT_TRUE(used.count(name) > 0) << name << " is in .env.example but docker-compose.yml "
                                      << "never passes it on";
  }
  const std::map<std::string, std::string> seed = {
      {"ACTIVE_POOL", "blue"},       {"ERROR_RATE_THRESHOLD", "2"}, {"WINDOW_SIZE", "200"},
      {"ALERT_COOLDOWN_SEC", "300"}, {"MAINTENANCE_MODE", "false"}, {"SLACK_WEBHOOK_URL", ""},
  };
  for (const auto& [name, value] : seed) {
    ASSERT_TRUE(example.count(name) > 0) << name;
    EXPECT_EQ(example[name], value) << name;
    if (!value.empty()) {
      EXPECT_NE(compose.find("${" + name + ":-" + value + "}"), std::string::npos)
          << name << " should default to " << value << " in docker-compose.yml too";
    }
  }
  for (const char* name :
       {"BLUE_IMAGE", "GREEN_IMAGE", "RELEASE_ID_BLUE", "RELEASE_ID_GREEN", "PORT"}) {
    EXPECT_TRUE(example.count(name) > 0) << name;
  }
}

TEST(Compose, nginx_logs_to_a_shared_file_and_not_to_the_image_stdout_symlink) {
  const std::string compose = ReadFile(kSource / "docker-compose.yml");
  EXPECT_NE(compose.find("ACCESS_LOG: /var/log/poolwatch/access.log"), std::string::npos);
  EXPECT_EQ(compose.find("ACCESS_LOG: /var/log/nginx/"), std::string::npos);
  EXPECT_EQ(CountOccurrences(compose, "nginx_logs:/var/log/poolwatch"), 2u)
      << "nginx and poolwatch share the log volume";
  EXPECT_NE(compose.find("--log.path=/var/log/poolwatch/access.log"), std::string::npos);
  EXPECT_NE(compose.find("render.sh /etc/nginx/nginx.conf"), std::string::npos);
  EXPECT_NE(compose.find("profiles: [alertmanager]"), std::string::npos);
}

// docker-compose.yml as docker-compose itself reads it (defaults filled in, short forms such
// as a depends_on list expanded).
YAML::Node ComposeServices(const std::string& compose) {
  std::string output;
  if (RunCommand({compose, "-f", (kSource / "docker-compose.yml").string(), "config"}, &output) !=
      0) {
    ADD_FAILURE() << output;
    return YAML::Node();
  }
  return YAML::Load(output)["services"];
}

TEST(Compose, dependents_wait_for_healthy_poolwatch_and_prometheus) {
  REQUIRE_PROGRAM(compose, "docker-compose");
  YAML::Node services = ComposeServices(compose);
  ASSERT_TRUE(services.IsMap());
  // Each probe asks the service's own readiness endpoint, with a program its image has (the
  // comments in docker-compose.yml say which).
  const std::map<std::string, std::pair<std::string, std::string>> probes = {
      {"poolwatch", {"bash", "127.0.0.1/10090 "}},
      {"prometheus", {"wget", "http://127.0.0.1:9090/-/ready"}},
      {"grafana", {"curl", "http://127.0.0.1:3000/api/health"}}};
  for (const auto& [service, probe] : probes) {
    YAML::Node check = services[service]["healthcheck"];
    ASSERT_TRUE(check.IsMap() && check["test"].IsSequence()) << service;
    std::string test;
    for (const auto& part : check["test"]) test += part.as<std::string>() + " ";
    EXPECT_EQ(check["test"][0].as<std::string>(), "CMD") << service;
    EXPECT_EQ(check["test"][1].as<std::string>(), probe.first) << service;
    EXPECT_NE(test.find(probe.second), std::string::npos) << service << ": " << test;
    for (const char* key : {"interval", "timeout", "retries", "start_period"}) {
      EXPECT_TRUE(check[key].IsDefined()) << service << " " << key;
    }
  }
  EXPECT_EQ(services["prometheus"]["depends_on"]["poolwatch"]["condition"].as<std::string>(""),
            "service_healthy");
  EXPECT_EQ(services["grafana"]["depends_on"]["prometheus"]["condition"].as<std::string>(""),
            "service_healthy");
}

TEST(Compose, poolwatch_keeps_its_state_file_on_a_named_volume_it_may_write) {
  REQUIRE_PROGRAM(compose, "docker-compose");
  YAML::Node poolwatch = ComposeServices(compose)["poolwatch"];
  ASSERT_TRUE(poolwatch.IsMap());
  std::vector<std::string> command = poolwatch["command"].as<std::vector<std::string>>();
  EXPECT_NE(std::find(command.begin(), command.end(), "--state.path=/var/lib/poolwatch/state.json"),
            command.end());
  bool mounted = false;
  for (const auto& volume : poolwatch["volumes"]) {
    mounted =
        mounted || volume.as<std::string>().rfind("poolwatch_state:/var/lib/poolwatch", 0) == 0;
  }
  EXPECT_TRUE(mounted) << YAML::Dump(poolwatch["volumes"]);
  // A new volume takes the owner of the image's directory: the image must create it for its
  // user, or every state write fails with "Permission denied".
  EXPECT_NE(ReadFile(kSource / "Dockerfile")
                .find("install -d -o poolwatch -g poolwatch -m 750 /var/lib/poolwatch"),
            std::string::npos);
}

// The poolwatch probe is a bash one-liner rather than a stock client (its image has none):
// run it, as written in the file, against a real poolwatch. Debian's bash here is the one
// the image's debian:12-slim has.
TEST(Compose, poolwatch_healthcheck_passes_only_while_poolwatch_answers_ready) {
  REQUIRE_PROGRAM(compose, "docker-compose");
  REQUIRE_PROGRAM(bash, "bash");
  YAML::Node test = ComposeServices(compose)["poolwatch"]["healthcheck"]["test"];
  ASSERT_TRUE(test.IsSequence() && test.size() == 4) << YAML::Dump(test);
  ASSERT_EQ(test[2].as<std::string>(), "-c");
  std::string script = test[3].as<std::string>();
  const int port = FreePort();
  const std::string in_image = "/127.0.0.1/10090 ";
  ASSERT_NE(script.find(in_image), std::string::npos) << script;
  script.replace(script.find(in_image), in_image.size(),
                 "/127.0.0.1/" + std::to_string(port) + " ");
  std::string output;
  auto probe = [&] { return RunCommand({bash, "-c", script}, &output); };

  EXPECT_NE(probe(), 0) << "nothing listens yet";
  TempDir dir;
  auto poolwatch = std::make_unique<Process>(
      std::vector<std::string>{POOLWATCH_BINARY, "--log.path=" + (dir / "access.log").string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port),
                               "--state.path=" + (dir / "state.json").string()},
      dir / "poolwatch.log");
  EXPECT_TRUE(WaitUntil([&] { return probe() == 0; }, seconds(20), milliseconds(100)))
      << output << poolwatch->Output();
  poolwatch->Kill9();  // a graceful stop only adds civetweb's two seconds
  EXPECT_NE(probe(), 0) << "poolwatch is gone";
}

std::vector<std::string> AptInstallPackages(const std::string& dockerfile_stage) {
  // The words after "--no-install-recommends" up to the next "&&".
  std::vector<std::string> out;
  auto start = dockerfile_stage.find("--no-install-recommends");
  if (start == std::string::npos) return out;
  auto end = dockerfile_stage.find("&&", start);
  std::stringstream ss(dockerfile_stage.substr(start, end - start));
  std::string word;
  ss >> word;  // the flag itself
  while (ss >> word) {
    if (word != "\\") out.push_back(word);
  }
  return out;
}

// Splits a Dockerfile at its FROM lines.
std::vector<std::string> Stages(const std::string& dockerfile) {
  std::vector<std::string> stages;
  for (const auto& line : Lines(dockerfile)) {
    if (line.rfind("FROM ", 0) == 0) stages.emplace_back();
    if (!stages.empty()) stages.back() += line + "\n";
  }
  return stages;
}

std::set<std::string> InstallDepsPackages() {
  std::string script = ReadFile(kSource / "scripts" / "install-deps.sh");
  auto start = script.find("packages=(");
  auto end = script.find(')', start);
  std::set<std::string> out;
  std::stringstream ss(script.substr(start + 10, end - start - 10));
  std::string word;
  while (ss >> word) out.insert(word);
  return out;
}

TEST(Dockerfiles, build_with_the_packages_ci_installs_and_copy_every_source_directory) {
  const std::set<std::string> ci = InstallDepsPackages();
  ASSERT_FALSE(ci.empty());
  std::vector<std::string> first_build_packages;
  std::string root_cmake = ReadFile(kSource / "CMakeLists.txt");
  std::regex subdirectory("add_subdirectory\\(([a-z_]+)\\)");
  std::set<std::string> subdirs;
  for (auto it = std::sregex_iterator(root_cmake.begin(), root_cmake.end(), subdirectory);
       it != std::sregex_iterator(); ++it) {
    std::string dir = (*it)[1];
    if (dir != "tests" && dir != "bench") subdirs.insert(dir);  // both switched off in images
  }
  ASSERT_FALSE(subdirs.empty());

  for (const char* path : {"Dockerfile", "demo/Dockerfile"}) {
    SCOPED_TRACE(path);
    std::vector<std::string> stages = Stages(ReadFile(kSource / path));
    ASSERT_EQ(stages.size(), 2u);
    EXPECT_NE(stages[0].find("FROM debian:12"), std::string::npos);
    std::vector<std::string> build = AptInstallPackages(stages[0]);
    ASSERT_FALSE(build.empty());
    for (const auto& p : build) {
      EXPECT_TRUE(ci.count(p) > 0) << p << " is not in scripts/install-deps.sh";
    }
    if (first_build_packages.empty()) {
      first_build_packages = build;
    } else {
      EXPECT_EQ(build, first_build_packages) << "keep the build stages' apt lines identical";
    }
    for (const auto& dir : subdirs) {
      EXPECT_NE(stages[0].find("COPY " + dir + " " + dir), std::string::npos)
          << dir << " is built by CMakeLists.txt but not copied";
    }
    EXPECT_NE(stages[0].find("-DPOOLWATCH_BUILD_TESTS=OFF"), std::string::npos);
  }
}

// The build stage sees only what it COPYs: configure the project from exactly those paths
// (compiling it all would take minutes; a missing directory or file fails the configure).
TEST(Dockerfiles, copied_sources_are_enough_to_configure_the_build) {
  REQUIRE_PROGRAM(cmake, "cmake");
  for (const char* path : {"Dockerfile", "demo/Dockerfile"}) {
    SCOPED_TRACE(path);
    std::vector<std::string> stages = Stages(ReadFile(kSource / path));
    ASSERT_EQ(stages.size(), 2u);
    TempDir dir;
    const fs::path src = dir / "src";
    fs::create_directories(src);
    int copies = 0;
    for (const auto& line : Lines(stages[0])) {
      std::stringstream ss(line);
      std::string word, from, to;
      ss >> word >> from >> to;
      if (word != "COPY" || from.rfind("--", 0) == 0) continue;
      fs::copy(kSource / from, src / to, fs::copy_options::recursive);
      ++copies;
    }
    ASSERT_GT(copies, 0);
    std::string output;
    EXPECT_EQ(RunCommand({cmake, "-S", src.string(), "-B", (dir / "build").string(),
                          "-DPOOLWATCH_BUILD_TESTS=OFF", "-DPOOLWATCH_BUILD_BENCH=OFF"},
                         &output),
              0)
        << output;
  }
}

// Direct shared-library dependencies of `binary`, as the Debian packages that ship them.
std::set<std::string> NeededPackages(const std::string& binary, std::string* problem) {
  std::string readelf_out, ldd_out;
  if (RunCommand({"readelf", "-d", binary}, &readelf_out) != 0 ||
      RunCommand({"ldd", binary}, &ldd_out) != 0) {
    *problem = "readelf/ldd failed: " + readelf_out + ldd_out;
    return {};
  }
  std::map<std::string, std::string> resolved;  // soname → path
  for (const auto& line : Lines(ldd_out)) {
    auto arrow = line.find(" => ");
    if (arrow == std::string::npos) continue;
    std::string soname = Trim(line.substr(0, arrow));
    std::string path = line.substr(arrow + 4);
    path = path.substr(0, path.find(' '));
    resolved[soname] = path;
  }
  std::set<std::string> packages;
  std::regex needed("\\(NEEDED\\)\\s+Shared library: \\[([^\\]]+)\\]");
  for (auto it = std::sregex_iterator(readelf_out.begin(), readelf_out.end(), needed);
       it != std::sregex_iterator(); ++it) {
    std::string soname = (*it)[1];
    std::string path = resolved[soname];
    std::string owner;
    bool found = false;
    // usrmerge: dpkg may know the file under /usr/lib or /lib.
    for (std::string candidate :
         {path, "/usr" + path, path.rfind("/usr", 0) == 0 ? path.substr(4) : path}) {
      if (candidate.empty()) continue;
      if (RunCommand({"dpkg", "-S", candidate}, &owner) == 0) {
        found = true;
        break;
      }
    }
    if (!found) {
      *problem += soname + " (" + path + ") belongs to no package; ";
      continue;
    }
    std::string package = owner.substr(0, owner.find(':'));
    packages.insert(package);
  }
  return packages;
}

TEST(Dockerfiles, runtime_stages_install_every_library_the_binaries_link) {
  REQUIRE_PROGRAM(dpkg, "dpkg");
  REQUIRE_PROGRAM(readelf, "readelf");
  REQUIRE_PROGRAM(ldd, "ldd");
  // Already in debian:12-slim (apt itself needs them).
  const std::set<std::string> in_base = {"libc6", "libgcc-s1", "libstdc++6"};
  const std::vector<std::pair<std::string, std::string>> images = {
      {"Dockerfile", POOLWATCH_BINARY}, {"demo/Dockerfile", POOLWATCH_DEMO_APP_BINARY}};
  for (const auto& [dockerfile, binary] : images) {
    SCOPED_TRACE(dockerfile);
    std::vector<std::string> stages = Stages(ReadFile(kSource / dockerfile));
    ASSERT_EQ(stages.size(), 2u);
    std::vector<std::string> runtime = AptInstallPackages(stages[1]);
    std::string problem;
    std::set<std::string> needed = NeededPackages(binary, &problem);
    EXPECT_TRUE(problem.empty()) << problem;
    for (const auto& package : needed) {
      if (in_base.count(package) > 0) continue;
      EXPECT_NE(std::find(runtime.begin(), runtime.end(), package), runtime.end())
          << binary << " links a library from " << package
          << ", which the runtime stage does not install";
    }
  }
}

// ---------------------------------------------------------------------------------------
// prometheus/: Prometheus config, rules and their tests, Alertmanager
// ---------------------------------------------------------------------------------------

TEST(Prometheus, config_rules_and_rule_tests_pass_promtool) {
  REQUIRE_PROGRAM(promtool, "promtool");
  const fs::path dir = kSource / "prometheus";
  std::string output;
  EXPECT_EQ(RunCommand({promtool, "check", "config", (dir / "prometheus.yml").string()}, &output),
            0)
      << output;
  EXPECT_EQ(
      RunCommand({promtool, "check", "rules", (dir / "poolwatch.rules.yml").string()}, &output), 0)
      << output;
  EXPECT_EQ(
      RunCommand({promtool, "test", "rules", (dir / "poolwatch.rules.test.yml").string()}, &output),
      0)
      << output;
  EXPECT_NE(output.find("SUCCESS"), std::string::npos) << output;
}

TEST(Prometheus, rules_use_only_known_metrics_and_every_alert_is_tested_and_documented) {
  const std::string rules = ReadFile(kSource / "prometheus" / "poolwatch.rules.yml");
  const std::string tests = ReadFile(kSource / "prometheus" / "poolwatch.rules.test.yml");
  const std::string runbook = ReadFile(kSource / "runbook.md");

  std::set<std::string> recorded;
  std::regex record("- record: ([A-Za-z0-9_:]+)");
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), record);
       it != std::sregex_iterator(); ++it) {
    recorded.insert((*it)[1]);
  }
  for (const auto& name : PoolwatchIdentifiers(rules)) {
    EXPECT_TRUE(IsKnownMetric(name) || recorded.count(name) > 0)
        << name << " is neither a poolwatch metric nor a recording rule";
  }

  std::set<std::string> alerts;
  std::regex alert("- alert: ([A-Za-z0-9_]+)");
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), alert);
       it != std::sregex_iterator(); ++it) {
    alerts.insert((*it)[1]);
  }
  for (const char* required : {"PoolwatchFailover", "PoolwatchHighErrorRate",
                               "PoolwatchUpstreamErrorRate", "PoolwatchDown", "PoolwatchAbsent"}) {
    EXPECT_TRUE(alerts.count(required) > 0) << required;
  }
  for (const auto& name : alerts) {
    // Each alert is expected to fire in some test case and to be absent in another.
    EXPECT_GE(CountOccurrences(tests, "alertname: " + name + "\n"), 3u) << name;
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    EXPECT_NE(rules.find("runbook_url: \"runbook.md#" + lower + "\""), std::string::npos) << name;
    EXPECT_NE(runbook.find("<a id=\"" + lower + "\"></a>"), std::string::npos)
        << "runbook.md has no section for " << name;
  }
  // The built-in alerts' Slack links use "#{rule}".
  for (const char* rule :
       {"failover", "error_rate", "upstream_error_rate", "maintenance-mode", "tuning"}) {
    EXPECT_NE(runbook.find(std::string("<a id=\"") + rule + "\"></a>"), std::string::npos) << rule;
  }
}

TEST(Alertmanager, config_passes_amtool_and_routes_pages_to_slack) {
  REQUIRE_PROGRAM(amtool, "amtool");
  const std::string config = (kSource / "prometheus" / "alertmanager.yml").string();
  std::string output;
  ASSERT_EQ(RunCommand({amtool, "check-config", config}, &output), 0) << output;
  EXPECT_NE(output.find("SUCCESS"), std::string::npos) << output;
  // poolwatch's own alerts page, and so do Prometheus's about poolwatch itself...
  for (std::vector<std::string> labels :
       {std::vector<std::string>{"alertname=failover", "severity=critical", "pool=blue"},
        std::vector<std::string>{"alertname=PoolwatchDown", "severity=critical"},
        std::vector<std::string>{"alertname=PoolwatchAbsent", "severity=critical"}}) {
    std::vector<std::string> command = {
        amtool, "config", "routes", "test", "--config.file=" + config, "--verify.receivers=slack"};
    command.insert(command.end(), labels.begin(), labels.end());
    EXPECT_EQ(RunCommand(command, &output), 0) << labels[0] << ": " << output;
  }
  // ...but not Prometheus's copies of poolwatch's alerts, a minute later: one incident, one
  // page when poolwatch posts to this Alertmanager (docker-compose's alertmanager profile).
  EXPECT_EQ(RunCommand({amtool, "config", "routes", "test", "--config.file=" + config,
                        "--verify.receivers=duplicates", "alertname=PoolwatchFailover",
                        "severity=critical", "pool=blue"},
                       &output),
            0)
      << output;
}

// The inhibition is the part of alertmanager.yml a syntax check cannot judge: run the real
// Alertmanager, raise a failover and two upstream error-rate alerts, and ask which it mutes.
TEST(Alertmanager, failover_inhibits_the_upstream_error_rate_of_the_same_pool_only) {
  REQUIRE_PROGRAM(alertmanager, "prometheus-alertmanager");
  TempDir dir;
  // The same config, with the webhook file pointed at a local file (nothing is delivered:
  // nothing listens on port 9).
  std::string config = ReadFile(kSource / "prometheus" / "alertmanager.yml");
  const std::string original = "slack_api_url_file: /tmp/slack_webhook_url";
  auto at = config.find(original);
  ASSERT_NE(at, std::string::npos);
  config.replace(at, original.size(),
                 "slack_api_url_file: " + (dir / "slack_webhook_url").string());
  WriteFile(dir / "slack_webhook_url", "http://127.0.0.1:9/services/T/B/X\n");
  WriteFile(dir / "alertmanager.yml", config);

  const int port = FreePort();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  Process am({alertmanager, "--config.file=" + (dir / "alertmanager.yml").string(),
              "--storage.path=" + (dir / "data").string(), "--cluster.listen-address=",
              "--web.listen-address=127.0.0.1:" + std::to_string(port)},
             dir / "alertmanager.log");
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(base + "/-/ready").status == 200; }, seconds(20)))
      << am.Output();

  nlohmann::json alerts = nlohmann::json::array();
  auto add = [&](const std::string& name, const std::string& pool, const std::string& severity) {
    alerts.push_back(
        {{"labels",
          {{"alertname", name}, {"pool", pool}, {"job", "poolwatch"}, {"severity", severity}}}});
  };
  add("PoolwatchFailover", "blue", "critical");
  add("PoolwatchUpstreamErrorRate", "blue", "warning");
  add("PoolwatchUpstreamErrorRate", "green", "warning");
  ASSERT_EQ(HttpPost(base + "/api/v2/alerts", alerts.dump()).status, 200);

  std::map<std::string, std::string> state;  // "alertname/pool" → active|suppressed
  bool settled = WaitUntil(
      [&] {
        HttpResponse r = HttpGet(base + "/api/v2/alerts");
        if (r.status != 200) return false;
        state.clear();
        for (const auto& a : nlohmann::json::parse(r.body)) {
          state[a["labels"]["alertname"].get<std::string>() + "/" +
                a["labels"]["pool"].get<std::string>()] = a["status"]["state"].get<std::string>();
        }
        return state.size() == 3 && state["PoolwatchUpstreamErrorRate/blue"] == "suppressed";
      },
      seconds(10), milliseconds(100));
  EXPECT_TRUE(settled) << am.Output();
  EXPECT_EQ(state["PoolwatchFailover/blue"], "active");
  EXPECT_EQ(state["PoolwatchUpstreamErrorRate/blue"], "suppressed");
  EXPECT_EQ(state["PoolwatchUpstreamErrorRate/green"], "active");
}

// ---------------------------------------------------------------------------------------
// grafana/
// ---------------------------------------------------------------------------------------

// Replaces Grafana's variables with values Prometheus accepts.
std::string SubstituteGrafanaVariables(std::string expr) {
  const std::vector<std::pair<std::string, std::string>> values = {
      {"$__rate_interval", "1m"}, {"$__interval", "15s"}, {"$__range", "5m"}, {"$job", ".*"},
      {"$instance", ".*"},        {"$pool", ".*"},        {"$release", ".*"},
  };
  for (const auto& [name, value] : values) {
    for (size_t pos = expr.find(name); pos != std::string::npos; pos = expr.find(name, pos)) {
      expr.replace(pos, name.size(), value);
      pos += value.size();
    }
  }
  return expr;
}

// Every query in the dashboard: panel targets (rows included) and annotations.
std::vector<std::pair<std::string, std::string>> DashboardQueries(const nlohmann::json& dash) {
  std::vector<std::pair<std::string, std::string>> out;  // (where, expr)
  std::function<void(const nlohmann::json&)> visit = [&](const nlohmann::json& panels) {
    for (const auto& panel : panels) {
      if (panel.value("type", "") == "row") {
        if (panel.contains("panels")) visit(panel["panels"]);
        continue;
      }
      for (const auto& t : panel.value("targets", nlohmann::json::array())) {
        out.emplace_back(panel.value("title", "?"), t.value("expr", ""));
      }
    }
  };
  visit(dash["panels"]);
  for (const auto& a : dash["annotations"]["list"]) {
    if (a.contains("expr")) out.emplace_back("annotation " + a.value("name", "?"), a["expr"]);
  }
  return out;
}

TEST(Grafana, dashboard_is_importable_with_job_instance_pool_and_release_variables) {
  nlohmann::json dash = nlohmann::json::parse(
      ReadFile(kSource / "grafana" / "dashboards" / "poolwatch.json"), nullptr, false);
  ASSERT_FALSE(dash.is_discarded()) << "poolwatch.json is not valid JSON";
  EXPECT_EQ(dash["uid"], "poolwatch");
  EXPECT_FALSE(dash.contains("id") && !dash["id"].is_null()) << "an id pins the dashboard to "
                                                                "one Grafana";
  std::map<std::string, nlohmann::json> variables;
  for (const auto& v : dash["templating"]["list"]) variables[v["name"]] = v;
  ASSERT_TRUE(variables.count("datasource") > 0);
  EXPECT_EQ(variables["datasource"]["type"], "datasource");
  EXPECT_EQ(variables["datasource"]["query"], "prometheus");
  // Nodes are found by what every poolwatch exports, whatever its job is called.
  const std::map<std::string, std::string> sources = {
      {"job", "label_values(poolwatch_build_info"},
      {"instance", "label_values(poolwatch_build_info"},
      {"pool", "label_values(poolwatch_http_requests_total"},
      {"release", "label_values(poolwatch_http_requests_total"}};
  for (const auto& [name, source] : sources) {
    ASSERT_TRUE(variables.count(name) > 0) << name;
    const auto& v = variables[name];
    EXPECT_EQ(v["type"], "query") << name;
    EXPECT_EQ(v["datasource"]["uid"], "${datasource}") << name;
    EXPECT_TRUE(v["multi"].get<bool>()) << name;
    EXPECT_TRUE(v["includeAll"].get<bool>()) << name;
    EXPECT_NE(v["definition"].get<std::string>().find(source), std::string::npos) << name;
  }
  // Grafana resolves variables in list order: each may only use those before it.
  std::vector<std::string> order;
  for (const auto& v : dash["templating"]["list"]) order.push_back(v["name"]);
  EXPECT_EQ(order, (std::vector<std::string>{"datasource", "job", "instance", "pool", "release"}));

  // Unique panel ids, and every data panel queries the dashboard's datasource variable.
  std::set<int> ids;
  int data_panels = 0;
  for (const auto& panel : dash["panels"]) {
    EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "duplicate id " << panel["id"];
    if (panel["type"] == "row") continue;
    ++data_panels;
    ASSERT_TRUE(panel.contains("targets") && !panel["targets"].empty()) << panel["title"];
    for (const auto& t : panel["targets"]) {
      EXPECT_EQ(t["datasource"]["uid"], "${datasource}") << panel["title"];
      EXPECT_FALSE(t.value("expr", "").empty()) << panel["title"];
    }
  }
  EXPECT_GE(data_panels, 10);

  // The views the dashboard promises.
  std::string all_queries;
  for (const auto& [where, expr] : DashboardQueries(dash)) all_queries += expr + "\n";
  for (const char* needle :
       {"histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,",
        "poolwatch_serving_pool", "changes(poolwatch_serving_pool", "poolwatch_notifications_total",
        "decision=~\"in_cooldown", "poolwatch_log_lines_total",
        "poolwatch_notification_queue_length", "up{job=~\"$job\", instance=~\"$instance\"}",
        "poolwatch_upstream_attempts_total", "by (pool, release)"}) {
    EXPECT_NE(all_queries.find(needle), std::string::npos) << needle;
  }
}

TEST(Grafana, every_query_uses_known_metrics_and_is_valid_promql) {
  nlohmann::json dash =
      nlohmann::json::parse(ReadFile(kSource / "grafana" / "dashboards" / "poolwatch.json"));
  auto queries = DashboardQueries(dash);
  ASSERT_FALSE(queries.empty());
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  int n = 0;
  for (const auto& [where, expr] : queries) {
    for (const auto& name : PoolwatchIdentifiers(expr)) {
      EXPECT_TRUE(IsKnownMetric(name)) << where << ": unknown metric " << name;
    }
    // A recording rule per query: promtool then parses every expression offline.
    rules += "      - record: dashboard_query_" + std::to_string(n++) +
             "\n        expr: " + nlohmann::json(SubstituteGrafanaVariables(expr)).dump() + "\n";
  }
  REQUIRE_PROGRAM(promtool, "promtool");
  TempDir dir;
  WriteFile(dir / "dashboard.rules.yml", rules);
  std::string output;
  EXPECT_EQ(
      RunCommand({promtool, "check", "rules", (dir / "dashboard.rules.yml").string()}, &output), 0)
      << output;
}

TEST(Grafana, provisioning_points_at_the_mounted_dashboards_and_prometheus) {
  const std::string datasource =
      ReadFile(kSource / "grafana" / "provisioning" / "datasources" / "prometheus.yml");
  const std::string dashboards =
      ReadFile(kSource / "grafana" / "provisioning" / "dashboards" / "poolwatch.yml");
  const std::string compose = ReadFile(kSource / "docker-compose.yml");
  EXPECT_NE(datasource.find("type: prometheus"), std::string::npos);
  EXPECT_NE(datasource.find("url: http://prometheus:9090"), std::string::npos);
  EXPECT_NE(dashboards.find("path: /etc/grafana/dashboards"), std::string::npos);
  EXPECT_NE(compose.find("./grafana/dashboards:/etc/grafana/dashboards:ro"), std::string::npos);
  EXPECT_NE(compose.find("./grafana/provisioning:/etc/grafana/provisioning:ro"), std::string::npos);
}

}  // namespace
}  // namespace poolwatch::testing
