// The status page and its JSON API end to end: poolwatch follows a log holding a failover,
// alerts go to a Slack stand-in that rejects them, and the page is opened in a real headless
// Chromium. Assertions are on the DOM after the page's own fetch, so they prove that the script
// runs and renders, not just that the HTML is served.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "core/log_record.h"
#include "tests/support/test_support.h"
#include "web/http_server.h"

namespace poolwatch {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FindProgram;
using testing::FreePort;
using testing::FreeUdpPort;
using testing::HttpGet;
using testing::HttpPost;
using testing::HttpResponse;
using testing::Process;
using testing::ReadFile;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitUntil;
using testing::WriteFile;

// The webhook path is the credential: it must never show on the page or in the API.
constexpr char kSecretPath[] = "/services/T0POOL/B0WATCH/s3cr3tT0k3nXYZ";
constexpr char kSecret[] = "s3cr3tT0k3nXYZ";

std::string LogTime(Clock::time_point t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%d/%b/%Y:%H:%M:%S +0000", &tm);
  return buf;
}

// Traffic on blue, then nginx failing over to green (blue answers 500, green serves).
std::string FailoverLog() {
  const std::string ts = LogTime(Clock::now());
  std::string out;
  for (int i = 0; i < 30; ++i) {
    out += "127.0.0.1 - - [" + ts +
           "] \"GET /version HTTP/1.1\" 200 51 \"-\" \"curl/7.88.1\" pool=blue release=v1.0.0 "
           "upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.001 "
           "upstream_response_time=0.001\n";
  }
  for (int i = 0; i < 30; ++i) {
    out += "127.0.0.1 - - [" + ts +
           "] \"GET /version HTTP/1.1\" 200 51 \"-\" \"curl/7.88.1\" pool=green release=v2.0.0 "
           "upstream_status=500, 200 upstream_addr=127.0.0.1:8081, 127.0.0.1:8082 "
           "request_time=0.001 upstream_response_time=0.002, 0.001\n";
  }
  return out;
}

// A Slack that answers every delivery like a deleted webhook does.
class RejectingSlack {
 public:
  RejectingSlack()
      : server_({{"127.0.0.1:0"}, "/metrics", 2}, std::make_shared<prometheus::Registry>()) {
    server_.Handle("POST", kSecretPath, [](const HttpRequest&) {
      return HttpReply{404, "text/html", "no_service"};
    });
    std::string error;
    if (!server_.Start(&error)) throw std::runtime_error(error);
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + kSecretPath;
  }

 private:
  HttpServer server_;
};

class StatusPage : public ::testing::Test {
 protected:
  void Start(bool admin_api) {
    WriteFile(dir_ / "access.log", FailoverLog());
    std::vector<std::string> argv = {POOLWATCH_BINARY,
                                     "--log.start-at",
                                     "beginning",
                                     "--log.path",
                                     (dir_ / "access.log").string(),
                                     "--web.listen-address",
                                     "127.0.0.1:0",
                                     "--instance",
                                     "e2e"};
    if (admin_api) argv.push_back("--web.enable-admin-api");
    poolwatch_ = std::make_unique<Process>(
        argv, dir_ / "poolwatch.out",
        std::map<std::string, std::string>{{"ACTIVE_POOL", "blue"},
                                           {"SLACK_WEBHOOK_URL", slack_.url()}});
    port_ = WaitForListeningPort(*poolwatch_);
    ASSERT_NE(port_, 0) << poolwatch_->Output();
    // Ready, failover firing, and Slack's refusal recorded: the page has all it should show.
    bool settled = WaitUntil(
        [&] {
          HttpResponse r = HttpGet(Url("/api/v1/status"));
          if (r.status != 200) return false;
          json s = json::parse(r.body, nullptr, false);
          return !s.is_discarded() && s["firing"] == 1 && !s["notifications"]["recent"].empty() &&
                 s["notifications"]["recent"][0]["result"] == "failed";
        },
        std::chrono::seconds(20), std::chrono::milliseconds(100));
    ASSERT_TRUE(settled) << poolwatch_->Output();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  json Get(const std::string& path) {
    HttpResponse r = HttpGet(Url(path));
    EXPECT_EQ(r.status, 200) << path << ": " << r.error << r.body;
    EXPECT_NE(r.headers["content-type"].find("application/json"), std::string::npos);
    return json::parse(r.body, nullptr, false);
  }

  TempDir dir_;
  RejectingSlack slack_;
  int port_ = 0;
  std::unique_ptr<Process> poolwatch_;
};

std::string Chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::string path = FindProgram(name);
    if (!path.empty()) return path;
  }
  return "";
}

// Runs headless Chromium with a fresh profile (and a fresh HOME: it writes caches there),
// bounded by timeout(1). Returns the exit code; `output` gets stdout and stderr.
int RunChromium(const std::string& chromium, const fs::path& scratch, std::vector<std::string> args,
                std::string* output) {
  static int run = 0;
  const fs::path home = scratch / ("chromium-" + std::to_string(++run));
  fs::create_directories(home / "profile");
  std::vector<std::string> argv;
  if (std::string timeout = FindProgram("timeout"); !timeout.empty()) {
    argv = {timeout, "--kill-after=5", "120"};
  }
  for (std::string a :
       {chromium, std::string("--headless"), std::string("--no-sandbox"),
        std::string("--disable-gpu"), std::string("--disable-background-networking"),
        std::string("--disable-component-update"), std::string("--disable-sync"),
        std::string("--disable-default-apps"), std::string("--no-first-run"),
        std::string("--hide-scrollbars"), std::string("--mute-audio"),
        "--user-data-dir=" + (home / "profile").string(),
        // Lets the page's fetch of api/v1/status finish before the DOM is taken.
        std::string("--virtual-time-budget=3000")}) {
    argv.push_back(a);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, output,
                    {{"HOME", home.string()},
                     {"XDG_CONFIG_HOME", (home / "config").string()},
                     {"XDG_CACHE_HOME", (home / "cache").string()}});
}

// The serialized document from --dump-dom output (Chromium's log lines share the stream).
std::string Dom(const std::string& output) {
  auto start = output.find("<html");
  auto end = output.rfind("</html>");
  if (start == std::string::npos || end == std::string::npos) return "";
  return output.substr(start, end + 7 - start);
}

bool Has(const std::string& dom, const std::string& pattern) {
  return std::regex_search(dom, std::regex(pattern));
}

bool IsPng(const fs::path& path) {
  if (!fs::exists(path) || fs::file_size(path) < 1000) return false;
  return ReadFile(path).rfind("\x89PNG\r\n\x1a\n", 0) == 0;
}

#define REQUIRE_CHROMIUM(var)         \
  const std::string var = Chromium(); \
  if (var.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium)"

TEST_F(StatusPage, json_api_reports_the_failover_and_slacks_refusal_without_the_webhook) {
  ASSERT_NO_FATAL_FAILURE(Start(/*admin_api=*/false));

  json s = Get("/api/v1/status");
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["instance"], "e2e");
  EXPECT_EQ(s["pools"]["active"], "blue");
  EXPECT_EQ(s["pools"]["serving"], "green");
  EXPECT_EQ(s["pools"]["on_primary"], false);
  EXPECT_TRUE(s["pools"]["serving_since"].is_string());
  EXPECT_EQ(s["admin_api"], false);
  EXPECT_EQ(s["maintenance"]["enabled"], false);

  ASSERT_EQ(s["alerts"].size(), 1u) << s.dump(2);
  EXPECT_EQ(s["alerts"][0]["rule"], "failover");
  EXPECT_EQ(s["alerts"][0]["labels"]["pool"], "blue");
  EXPECT_GE(s["alerts"][0]["age_seconds"].get<int>(), 0);

  bool saw_error_rate = false;
  for (const json& r : s["rules"]) {
    if (r["name"] != "error_rate") continue;
    saw_error_rate = true;
    EXPECT_EQ(r["window_fill"], 60);
    EXPECT_EQ(r["window_size"], 200);
    EXPECT_DOUBLE_EQ(r["threshold"].get<double>(), 2);
  }
  EXPECT_TRUE(saw_error_rate) << s["rules"].dump(2);

  const json& delivery = s["notifications"]["recent"][0];
  EXPECT_EQ(delivery["notifier"], "slack");
  EXPECT_EQ(delivery["key"], "failover{pool=blue}");
  EXPECT_EQ(delivery["result"], "failed");
  EXPECT_EQ(delivery["http_status"], 404);
  EXPECT_NE(delivery["error"].get<std::string>().find("no_service"), std::string::npos)
      << delivery.dump();

  const json& f = s["follower"];
  EXPECT_EQ(f["path"], (dir_ / "access.log").string());
  EXPECT_EQ(f["healthy"], true);
  EXPECT_EQ(f["size"], fs::file_size(dir_ / "access.log"));
  EXPECT_EQ(f["offset"], f["size"]);
  EXPECT_EQ(f["lag_bytes"], 0);
  EXPECT_EQ(s["log"]["lines_parsed"], 60);

  json alerts = Get("/api/v1/alerts");
  ASSERT_EQ(alerts["alerts"].size(), 1u);
  EXPECT_EQ(alerts["alerts"][0]["rule"], "failover");
  EXPECT_EQ(alerts["alerts"][0]["state"], "firing");

  // The admin call is refused while the admin API is off.
  EXPECT_EQ(HttpPost(Url("/api/v1/maintenance"), R"({"enabled": true})").status, 403);

  // Nothing secret anywhere the page reads from.
  for (const char* path : {"/", "/api/v1/status", "/api/v1/alerts"}) {
    HttpResponse r = HttpGet(Url(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body.find(kSecret), std::string::npos) << path << " shows the webhook";
  }
  EXPECT_EQ(s["notifications"]["destinations"].dump().find("/services/"), std::string::npos);
}

TEST_F(StatusPage, renders_the_failover_in_headless_chromium_without_admin_buttons) {
  REQUIRE_CHROMIUM(chromium);
  ASSERT_NO_FATAL_FAILURE(Start(/*admin_api=*/false));

  HttpResponse page = HttpGet(Url("/"));
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.headers["content-type"].find("text/html"), std::string::npos);

  std::string output;
  int rc = RunChromium(chromium, dir_.path(), {"--dump-dom", Url("/")}, &output);
  ASSERT_EQ(rc, 0) << output;
  const std::string dom = Dom(output);
  ASSERT_FALSE(dom.empty()) << output;

  EXPECT_TRUE(Has(dom, R"(<body[^>]*data-loaded="true")")) << "the first fetch never rendered\n"
                                                           << dom;
  EXPECT_TRUE(Has(dom, R"(<div[^>]*id="serving-pool"[^>]*>green</div>)")) << dom;
  EXPECT_TRUE(Has(dom, R"(<dd[^>]*id="active-pool"[^>]*>blue</dd>)")) << dom;
  EXPECT_TRUE(Has(dom, R"(<span id="overall"[^>]*data-state="firing")")) << dom;
  EXPECT_TRUE(Has(dom, R"(<li class="alert firing[^"]*" data-rule="failover")")) << dom;
  EXPECT_TRUE(Has(dom, R"(<tr class="delivery" data-result="failed">)")) << dom;
  EXPECT_NE(dom.find("no_service"), std::string::npos) << dom;
  EXPECT_TRUE(Has(dom, R"(<tr class="rule[^"]*" data-rule="error_rate")")) << dom;
  EXPECT_NE(dom.find("60 / 200"), std::string::npos) << "window fill\n" << dom;
  EXPECT_TRUE(Has(dom, R"(<div class="buttons" id="maintenance-buttons" hidden)")) << dom;
  EXPECT_EQ(dom.find(kSecret), std::string::npos);
  // The followed file, and no syslog section for a poolwatch without syslog.
  EXPECT_TRUE(Has(dom, R"(<tr class="file" data-healthy="true"><td><code>)" +
                           (dir_ / "access.log").string() +
                           R"(</code></td><td class="ok">reading)"))
      << dom;
  EXPECT_TRUE(Has(dom, R"(<div id="file-patterns" class="muted">log.path: )" +
                           (dir_ / "access.log").string() + "</div>"))
      << dom;
  EXPECT_TRUE(Has(dom, R"(<div id="syslog-block" hidden)")) << dom;

  // Screenshots at desktop and phone widths: the page lays out and paints.
  for (const char* size : {"1280,1000", "390,1600"}) {
    SCOPED_TRACE(size);
    const fs::path shot = dir_ / (std::string("status-") + size + ".png");
    rc = RunChromium(
        chromium, dir_.path(),
        {"--screenshot=" + shot.string(), std::string("--window-size=") + size, Url("/")}, &output);
    EXPECT_EQ(rc, 0) << output;
    EXPECT_TRUE(IsPng(shot)) << shot << " is missing or not a PNG\n" << output;
    if (const char* keep = std::getenv("POOLWATCH_TEST_ARTIFACTS");
        keep != nullptr && IsPng(shot)) {
      fs::create_directories(keep);
      fs::copy_file(shot, fs::path(keep) / shot.filename(), fs::copy_options::overwrite_existing);
    }
  }
}

// The buttons as a person uses them: a real click in Chromium, so the request is the page's own
// fetch with whatever Origin, Sec-Fetch-Site and Content-Type Chromium gives it, under the
// page's Content-Security-Policy. The admin API's cross-site checks must let exactly that in.
TEST_F(StatusPage, its_maintenance_buttons_work_in_chromium_under_the_admin_apis_checks) {
  REQUIRE_CHROMIUM(chromium);
  ASSERT_NO_FATAL_FAILURE(Start(/*admin_api=*/true));

  // The DevTools protocol over a pipe, from Python's standard library: no WebSocket client needed.
  const fs::path home = dir_ / "chromium-devtools";
  fs::create_directories(home);
  std::string output;
  std::vector<std::string> argv;
  if (std::string timeout = FindProgram("timeout"); !timeout.empty()) {
    argv = {timeout, "--kill-after=5", "90"};
  }
  argv.insert(
      argv.end(),
      {"python3", std::string(POOLWATCH_SOURCE_DIR) + "/tests/e2e/click_maintenance_buttons.py",
       chromium, Url("/"), home.string()});
  const int rc = RunCommand(argv, &output);
  ASSERT_EQ(rc, 0) << output << "\nChromium:\n" << ReadFile(home / "chromium.err");
  EXPECT_NE(output.find(R"({"on":"Maintenance on.","off":"Maintenance off."})"), std::string::npos)
      << output;

  // The server saw both, from the page, and ends with maintenance off.
  const std::string log = poolwatch_->Output();
  EXPECT_NE(log.find("maintenance mode on until "), std::string::npos) << log;
  EXPECT_NE(log.find("maintenance mode off (admin API"), std::string::npos) << log;
  EXPECT_EQ(log.find("admin API: refused"), std::string::npos) << log;
  EXPECT_EQ(Get("/api/v1/status")["maintenance"]["enabled"], false);
}

TEST_F(StatusPage, maintenance_set_through_the_api_shows_on_the_page_with_its_expiry) {
  REQUIRE_CHROMIUM(chromium);
  ASSERT_NO_FATAL_FAILURE(Start(/*admin_api=*/true));

  const std::string until = FormatRfc3339(Clock::now() + std::chrono::hours(1));
  HttpResponse r =
      HttpPost(Url("/api/v1/maintenance"), R"({"enabled": true, "until": ")" + until + R"("})");
  ASSERT_EQ(r.status, 200) << r.body;

  json s = Get("/api/v1/status");
  EXPECT_EQ(s["admin_api"], true);
  EXPECT_EQ(s["maintenance"]["enabled"], true);
  EXPECT_EQ(s["maintenance"]["until"], until);

  std::string output;
  ASSERT_EQ(RunChromium(chromium, dir_.path(), {"--dump-dom", Url("/")}, &output), 0) << output;
  const std::string dom = Dom(output);
  EXPECT_TRUE(Has(dom, R"(<section id="maintenance" data-enabled="true">)")) << dom;
  EXPECT_TRUE(Has(dom, R"(id="maintenance-state">ON</div>)")) << dom;
  EXPECT_TRUE(Has(dom, R"(<div id="maintenance-until"[^>]*>until [^<]+</div>)")) << dom;
  // The buttons are there for an admin API that is on.
  EXPECT_TRUE(Has(dom, R"(<div class="buttons" id="maintenance-buttons">)")) << dom;

  ASSERT_EQ(HttpPost(Url("/api/v1/maintenance"), R"({"enabled": false})").status, 200);
  EXPECT_EQ(Get("/api/v1/status")["maintenance"]["enabled"], false);
}

// A poolwatch fed only by log.syslog.listen: the page and the JSON describe its listener and its
// datagrams, no file (nothing "not open"), and it is ready without one.
TEST(SyslogOnlyStatusPage, shows_the_listener_with_its_datagrams_and_no_file) {
  TempDir dir;
  const int udp_port = FreeUdpPort();
  const std::string address = "udp://127.0.0.1:" + std::to_string(udp_port);
  WriteFile(dir / "poolwatch.yml", "log:\n  syslog:\n    listen: " + address + "\n");
  Process poolwatch({POOLWATCH_BINARY, "--config.file", (dir / "poolwatch.yml").string(),
                     "--web.listen-address", "127.0.0.1:0"},
                    dir / "poolwatch.out");
  const int port = WaitForListeningPort(poolwatch);
  ASSERT_NE(port, 0) << poolwatch.Output();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(
      WaitUntil([&] { return HttpGet(base + "/-/ready").status == 200; }, std::chrono::seconds(20)))
      << poolwatch.Output();

  const std::string log = FailoverLog();
  const std::string line = log.substr(0, log.find('\n'));
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(udp_port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (const std::string& datagram :
       {"<190>Nov 26 07:00:00 web-1 shop: " + line, "<190>Nov 26 07:00:00 shop: " + line, line}) {
    ASSERT_EQ(sendto(fd, datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              static_cast<ssize_t>(datagram.size()));
  }
  close(fd);
  json s;
  ASSERT_TRUE(WaitUntil(
      [&] {
        s = json::parse(HttpGet(base + "/api/v1/status").body, nullptr, false);
        return !s.is_discarded() && s["inputs"]["syslog"].size() == 1 &&
               s["inputs"]["syslog"][0]["received"] == 3;
      },
      std::chrono::seconds(20)))
      << s.dump(2) << poolwatch.Output();
  EXPECT_EQ(s["inputs"]["syslog"][0]["address"], address);
  EXPECT_EQ(s["inputs"]["syslog"][0]["malformed"], 1);
  EXPECT_EQ(s["inputs"]["syslog"][0]["dropped"], 0);
  EXPECT_EQ(s["inputs"]["files"], json::array());
  EXPECT_EQ(s["inputs"]["patterns"], json::array());
  EXPECT_TRUE(s["follower"].is_null()) << s.dump(2);
  EXPECT_EQ(s["log"]["lines_parsed"], 2);

  REQUIRE_CHROMIUM(chromium);
  std::string output;
  ASSERT_EQ(RunChromium(chromium, dir.path(), {"--dump-dom", base + "/"}, &output), 0) << output;
  const std::string dom = Dom(output);
  EXPECT_TRUE(Has(dom, R"(<body[^>]*data-loaded="true")")) << dom;
  EXPECT_TRUE(Has(dom, R"(<div id="syslog-block">)")) << dom;
  EXPECT_TRUE(Has(dom, R"(<tr class="listener"><td><code>)" + address +
                           R"(</code></td><td class="num">3</td><td class="num warn">1</td>)"))
      << dom;
  EXPECT_TRUE(Has(dom, R"(<div id="files-block" hidden)")) << dom;
  // The section as rendered (the page's own script, also in the DOM, has the words).
  const size_t inputs = dom.find(R"(<section id="inputs")");
  ASSERT_NE(inputs, std::string::npos) << dom;
  const std::string section = dom.substr(inputs, dom.find("</section>", inputs) - inputs);
  EXPECT_EQ(section.find("not open"), std::string::npos) << section;
  EXPECT_TRUE(Has(dom, R"(<dd id="log-lines">2 parsed, 0 malformed</dd>)")) << dom;
}

}  // namespace
}  // namespace poolwatch
