// Hostile label values through the whole pipeline: an upstream behind real nginx sends pool and
// release headers with quotes, braces, backslashes, text that looks like exposition, invalid
// UTF-8, and 10,000 distinct releases; nginx logs them (default and JSON escaping) and two
// poolwatch instances follow the two logs. A few lines nginx cannot produce (a newline or NUL
// inside a value, possible with escape=json) are appended by hand. Checked: the exposition
// stays valid (promtool, and no injected sample), series stay bounded, every Slack payload is
// valid JSON, and poolwatch keeps running.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "exporter/metrics.h"
#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
constexpr auto kDeadline = seconds(60);
const fs::path kSource = POOLWATCH_SOURCE_DIR;

// An upstream that answers with X-App-Pool and X-Release-Id taken from the query string,
// byte for byte (latin-1 maps %FF to the byte 0xFF on the wire).
constexpr const char* kUpstream = R"PY(
import sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a): pass
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, encoding="latin-1")
        body = b"ok"
        self.send_response(200)
        self.send_header("X-App-Pool", q.get("pool", ["blue"])[0])
        self.send_header("X-Release-Id", q.get("release", ["v1"])[0])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
print("PORT", s.server_address[1], flush=True)
s.serve_forever()
)PY";

std::string PercentEncode(const std::string& raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// nginx with both of the project's formats, each to its own log, in front of the upstream.
class HostileNginx {
 public:
  HostileNginx() {
    fs::create_directories(dir_ / "nginx");
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
    fs::permissions(dir_ / "nginx", fs::perms::owner_all | fs::perms::group_read |
                                        fs::perms::group_exec | fs::perms::others_read |
                                        fs::perms::others_exec);
    WriteFile(dir_ / "upstream.py", kUpstream);
    upstream_ = std::make_unique<Process>(
        std::vector<std::string>{"python3", (dir_ / "upstream.py").string()},
        dir_ / "upstream.log");
    std::string out;
    if (!WaitUntil(
            [&] {
              out = upstream_->Output();
              return out.find('\n') != std::string::npos;
            },
            seconds(20))) {
      throw std::runtime_error("upstream did not start: " + out);
    }
    const int upstream_port = std::stoi(out.substr(out.find("PORT ") + 5));
    port_ = FreePort();
    const fs::path prefix = dir_ / "nginx";
    WriteFile(prefix / "nginx.conf",
              "worker_processes 1;\n"
              "pid " +
                  (prefix / "nginx.pid").string() +
                  ";\n"
                  "error_log " +
                  (prefix / "error.log").string() +
                  " warn;\n"
                  "events { worker_connections 256; }\n"
                  "http {\n"
                  "  include " +
                  (kSource / "nginx" / "log_format.conf").string() +
                  ";\n"
                  "  access_log " +
                  default_log().string() +
                  " poolwatch;\n"
                  "  access_log " +
                  json_log().string() +
                  " poolwatch_json;\n"
                  "  server {\n"
                  "    listen 127.0.0.1:" +
                  std::to_string(port_) +
                  ";\n"
                  "    location / { proxy_pass http://127.0.0.1:" +
                  std::to_string(upstream_port) +
                  "; }\n"
                  "  }\n"
                  "}\n");
    const std::string nginx = FindProgram("nginx");
    if (nginx.empty()) throw std::runtime_error("nginx is not installed");
    if (RunCommand({nginx, "-p", prefix.string(), "-c", (prefix / "nginx.conf").string()}, &out) !=
        0) {
      throw std::runtime_error("nginx failed to start: " + out);
    }
    if (!WaitUntil([&] { return fs::exists(prefix / "nginx.pid"); }, seconds(10))) {
      throw std::runtime_error("nginx wrote no pid file");
    }
    nginx_pid_ = std::stoi(ReadFile(prefix / "nginx.pid"));
    if (!WaitUntil([&] { return Get("blue", "probe").status == 200; }, seconds(20))) {
      throw std::runtime_error("nginx does not answer");
    }
  }
  ~HostileNginx() {
    if (nginx_pid_ > 0) {
      kill(nginx_pid_, SIGQUIT);
      WaitUntil([&] { return kill(nginx_pid_, 0) != 0; }, seconds(5));
      kill(nginx_pid_, SIGKILL);
    }
  }

  HttpResponse Get(const std::string& pool, const std::string& release) {
    return HttpGet("http://127.0.0.1:" + std::to_string(port_) +
                   "/version?pool=" + PercentEncode(pool) + "&release=" + PercentEncode(release));
  }
  const TempDir& dir() const { return dir_; }
  fs::path default_log() const { return dir_ / "nginx" / "access.log"; }
  fs::path json_log() const { return dir_ / "nginx" / "access.json.log"; }

 private:
  TempDir dir_;
  std::unique_ptr<Process> upstream_;
  int port_ = 0;
  pid_t nginx_pid_ = -1;
};

// The Slack stand-in, alone.
class SlackStandIn {
 public:
  explicit SlackStandIn(const fs::path& log) {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"python3", (kSource / "tests/support/slack_standin.py").string(),
                                 "0"},
        log);
    std::string out;
    if (!WaitUntil(
            [&] {
              out = process_->Output();
              return out.find('\n') != std::string::npos;
            },
            seconds(20))) {
      throw std::runtime_error("slack stand-in did not start: " + out);
    }
    port_ = std::stoi(out.substr(out.find("PORT ") + 5));
  }
  std::string Url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/services/T000/B000/hostile";
  }
  nlohmann::json Received() const {
    return nlohmann::json::parse(
        HttpGet("http://127.0.0.1:" + std::to_string(port_) + "/_received").body, nullptr, false);
  }

 private:
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

struct Poolwatch {
  int port = 0;
  std::unique_ptr<Process> process;
  Poolwatch(const fs::path& log, const fs::path& config, const fs::path& output,
            std::map<std::string, std::string> env, const fs::path& state) {
    process = std::make_unique<Process>(
        std::vector<std::string>{POOLWATCH_BINARY, "--config.file", config.string(), "--log.path",
                                 log.string(), "--log.start-at", "beginning",
                                 "--web.listen-address", "127.0.0.1:0", "--state.path",
                                 state.string()},
        output, std::move(env));
    port = WaitForListeningPort(*process);
    if (!WaitUntil([&] { return HttpGet(Url("/-/ready"), milliseconds(500)).status == 200; },
                   seconds(20))) {
      throw std::runtime_error("poolwatch did not become ready: " + process->Output());
    }
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  std::string Metrics() const { return HttpGet(Url("/metrics")).body; }
};

// (No newline: it cannot travel in an HTTP header; the hand-written JSON lines carry one.)
const std::vector<std::string> kHostilePools = {"gr\"een}", std::string("x\xff\xfey", 4),
                                                "a\\b{c=\"d\"}", "}", "p\" 1 fake_metric 2"};
const std::vector<std::string> kHostileReleases = {
    "v1\" } evil_metric{a=\"b\"} 1 #", std::string("\xc3\x28", 2), "\\", "}", "{", "\"", "#"};

// Every sample line is "name{labels} value" with name one of poolwatch's or of the standard
// process metrics (which have no labels); comments are HELP and TYPE. Returns the offending
// lines.
std::vector<std::string> ForeignLines(const std::string& exposition) {
  static const char* const kProcessMetrics[] = {"process_cpu_seconds_total",
                                                "process_resident_memory_bytes",
                                                "process_virtual_memory_bytes",
                                                "process_start_time_seconds",
                                                "process_open_fds",
                                                "process_max_fds"};
  std::vector<std::string> bad;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    bool known = false;
    for (const char* prefix : {"# HELP ", "# TYPE ", ""}) {
      if (line.rfind(std::string(prefix) + "poolwatch_", 0) == 0) known = true;
      for (const char* process : kProcessMetrics) {
        if (line.rfind(std::string(prefix) + process + " ", 0) == 0) known = true;
      }
    }
    if (!known) bad.push_back(line);
  }
  return bad;
}

size_t SeriesOf(const std::string& exposition, const std::string& name) {
  size_t n = 0;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) n += line.rfind(name + "{", 0) == 0 ? 1 : 0;
  return n;
}

void CheckExposition(const std::string& what, const std::string& exposition, const fs::path& file) {
  EXPECT_THAT(ForeignLines(exposition), ::testing::IsEmpty()) << what;
  // "evil_metric{…" may appear, escaped, inside a label value; never as a line of its own.
  EXPECT_EQ(exposition.find("\nevil_metric"), std::string::npos) << what;
  EXPECT_EQ(exposition.find("\nfake_metric"), std::string::npos) << what;
  // Bounded: 20 pools + "other", 20 releases per pool + "other", a handful of statuses.
  EXPECT_LE(SeriesOf(exposition, "poolwatch_http_requests_total"), 21u * 21u * 3u) << what;
  EXPECT_LT(exposition.size(), 4u * 1024 * 1024) << what;
  const std::string promtool = FindProgram("promtool");
  if (promtool.empty()) return;  // Debian package prometheus; the checks above still ran
  WriteFile(file, exposition);
  std::string output;
  EXPECT_EQ(RunCommand({"sh", "-c", promtool + " check metrics < " + file.string()}, &output), 0)
      << what << ": " << output;
}

TEST(HostileInput, LabelValuesCannotInjectExpositionBreakSlackJsonOrGrowSeries) {
  HostileNginx nginx;
  SlackStandIn slack(nginx.dir() / "slack.log");
  WriteFile(nginx.dir() / "default.yml", "log:\n  escape: default\n");
  std::string json_format = ReadFile(kSource / "nginx" / "log_format.conf");
  json_format = json_format.substr(json_format.find("escape=json '") + 13);
  json_format = json_format.substr(0, json_format.rfind('\''));
  WriteFile(nginx.dir() / "json.yml", "log:\n  escape: json\n  format: '" + json_format + "'\n");
  Poolwatch with_default(
      nginx.default_log(), nginx.dir() / "default.yml", nginx.dir() / "pw-default.log",
      {{"SLACK_WEBHOOK_URL", slack.Url()}, {"ACTIVE_POOL", "blue"}}, nginx.dir() / "default.state");
  Poolwatch with_json(nginx.json_log(), nginx.dir() / "json.yml", nginx.dir() / "pw-json.log",
                      {{"ACTIVE_POOL", "blue"}}, nginx.dir() / "json.state");

  // First, what nginx cannot write but an escape=json log can hold: a newline, a NUL, a quote and a
  // brace inside the values.
  // Stamped now: a release idle for release_eviction_after (log time) gives up its slot, and
  // nginx's lines below carry the current time.
  char now_local[64];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(now_local, sizeof(now_local), "%d/%b/%Y:%H:%M:%S +0000", &utc);
  const std::string hand_written =
      std::string("{\"time_local\":\"")
          .append(now_local)
          .append(
              "\",\"remote_addr\":\"127.0.0.1\","
              "\"remote_user\":\"\",\"request\":\"GET / HTTP/1.1\",\"status\":\"200\","
              "\"body_bytes_sent\":\"2\",\"http_referer\":\"\",\"http_user_agent\":\"x\","
              "\"pool\":\"blue\",\"release\":\"line1\\nfake_metric{} 1\\u0000\\\"}\","
              "\"upstream_status\":\"200\",\"upstream_addr\":\"127.0.0.1:1\",\"request_time\":\"0."
              "001\","
              "\"upstream_response_time\":\"0.001\"}\n");
  AppendFile(nginx.json_log(), hand_written + hand_written);  // before blue's releases fill up

  // 10,000 distinct releases of blue, from four client threads.
  const std::string probes = ReadFile(nginx.default_log());  // nginx's start-up probes
  int sent = static_cast<int>(std::count(probes.begin(), probes.end(), '\n'));
  constexpr int kReleases = 10000;
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      for (int i = next++; i < kReleases; i = next++) {
        if (nginx.Get("blue", "release-" + std::to_string(i)).status != 200) ++failed;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed, 0);
  sent += kReleases;
  // Hostile releases of blue, then each hostile pool long enough for a failover to it.
  for (const std::string& release : kHostileReleases) {
    EXPECT_EQ(nginx.Get("blue", release).status, 200);
    ++sent;
  }
  for (const std::string& pool : kHostilePools) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(nginx.Get(pool, kHostileReleases[static_cast<size_t>(i) % kHostileReleases.size()])
                    .status,
                200);
      ++sent;
    }
  }
  // The failover page goes out before other pools come along, so it names a hostile pool.
  ASSERT_TRUE(WaitUntil([&] { return slack.Received().size() >= 1; }, kDeadline))
      << with_default.process->Output().substr(0, 4000);
  // 30 more pools than the cap of 20.
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(nginx.Get("pool-" + std::to_string(i), "v1").status, 200);
    ++sent;
  }
  for (const Poolwatch* pw : {&with_default, &with_json}) {
    const int lines = sent + (pw == &with_json ? 2 : 0);
    ASSERT_TRUE(
        WaitUntil([&] { return MetricValue(pw->Metrics(), "poolwatch_log_lines_total") == lines; },
                  kDeadline))
        << MetricValue(pw->Metrics(), "poolwatch_log_lines_total") << " of " << lines << "\n"
        << pw->process->Output().substr(0, 4000);
  }

  CheckExposition("escape=default", with_default.Metrics(), nginx.dir() / "default.prom");
  CheckExposition("escape=json", with_json.Metrics(), nginx.dir() / "json.prom");
  EXPECT_EQ(MetricValue(with_default.Metrics(), "poolwatch_http_requests_total",
                        {{"release", "other"}}) > 9000,
            true);

  // Slack got the failovers to the hostile pools, every payload valid JSON (the stand-in parses
  // each body; null means it did not parse) and valid UTF-8.
  // Which hostile pool the page names depends on how many of their lines one read of the log
  // took in (it names where traffic is now); it is one of them, as the application sent it
  // (the parser undoes nginx's escaping; invalid UTF-8 is replaced).
  std::set<std::string> hostile_currents;
  for (const std::string& pool : kHostilePools) {
    hostile_currents.insert("*Current*\n" + pool);
    hostile_currents.insert("*Current*\n" + SanitizeLabelValue(pool));
  }
  bool named_hostile_pool = false;
  for (const auto& attempt : slack.Received()) {
    EXPECT_FALSE(attempt["json"].is_null()) << attempt["body"];
    EXPECT_TRUE(attempt["json"].contains("text")) << attempt["body"];
    for (const auto& block : attempt["json"]["attachments"][0]["blocks"]) {
      for (const auto& field : block.value("fields", nlohmann::json::array())) {
        named_hostile_pool =
            named_hostile_pool || hostile_currents.count(field.value("text", "")) > 0;
      }
    }
  }
  EXPECT_TRUE(named_hostile_pool) << slack.Received().dump();
  // The hostile values did reach the exposition, decoded from nginx's \x22 and JSON's \".
  EXPECT_THAT(with_default.Metrics(), HasSubstr("een}\","));
  EXPECT_THAT(with_json.Metrics(), HasSubstr("een}\","));
  EXPECT_THAT(with_json.Metrics(), HasSubstr("release=\"line1"));
  EXPECT_TRUE(with_default.process->Running());
  EXPECT_TRUE(with_json.process->Running());
  // The state files hold the hostile pools and alert labels and stay valid JSON.
  for (const char* state : {"default.state", "json.state"}) {
    ASSERT_TRUE(WaitUntil([&] { return fs::exists(nginx.dir() / state); }, kDeadline));
    EXPECT_FALSE(
        nlohmann::json::parse(ReadFile(nginx.dir() / state), nullptr, false).is_discarded())
        << state;
  }
  RecordProperty("requests", sent);
}

}  // namespace
}  // namespace poolwatch::testing
