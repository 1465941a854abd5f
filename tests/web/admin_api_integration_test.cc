// The admin API against what a browser can be made to send: curl plays a cross-site form, a
// cross-site script and the status page's own fetch against a real poolwatch. Muting alerts or
// reloading must take a same-site JSON request that says exactly what it wants.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

struct CurlResult {
  std::string status;  // "000" when there was no response
  std::string headers;
  std::string body;
};

class AdminApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_ = new std::string(FindProgram("curl"));
    if (curl_->empty()) return;
    dir_ = new TempDir();
    WriteFile(*dir_ / "access.log", "");
    poolwatch_ = new Process({POOLWATCH_BINARY, "--log.path", (*dir_ / "access.log").string(),
                              "--web.listen-address", "127.0.0.1:0", "--web.enable-admin-api"},
                             *dir_ / "poolwatch.out");
    port_ = WaitForListeningPort(*poolwatch_);
  }
  static void TearDownTestSuite() {
    delete poolwatch_;
    delete dir_;
    delete curl_;
    poolwatch_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (curl_->empty()) GTEST_SKIP() << "needs curl";
    ASSERT_TRUE(
        WaitUntil([&] { return Curl("/-/ready").status == "200"; }, seconds(20), milliseconds(100)))
        << poolwatch_->Output();
  }

  static std::string Base() { return "http://127.0.0.1:" + std::to_string(port_); }

  static CurlResult Curl(const std::string& path, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {*curl_,       "-sS",
                                     "--max-time", "10",
                                     "-D",         (*dir_ / "headers").string(),
                                     "-o",         (*dir_ / "body").string(),
                                     "-w",         "%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(Base() + path);
    CurlResult r;
    RunCommand(argv, &r.status);
    r.headers = ReadFile(*dir_ / "headers");
    r.body = ReadFile(*dir_ / "body");
    return r;
  }

  // A POST of `body` with the given Content-Type and further headers.
  static CurlResult Post(const std::string& path, const std::string& body,
                         const std::string& content_type, std::vector<std::string> headers = {}) {
    std::vector<std::string> extra = {"-X", "POST", "-H", "Content-Type: " + content_type};
    if (!body.empty()) extra.insert(extra.end(), {"--data-binary", body});
    for (const std::string& h : headers) extra.insert(extra.end(), {"-H", h});
    return Curl(path, extra);
  }

  static std::string MaintenanceState() { return Curl("/api/v1/maintenance").body; }

  static std::string* curl_;
  static TempDir* dir_;
  static int port_;
  static Process* poolwatch_;
};

std::string* AdminApi::curl_ = nullptr;
TempDir* AdminApi::dir_ = nullptr;
int AdminApi::port_ = 0;
Process* AdminApi::poolwatch_ = nullptr;

constexpr char kOff[] = "{\"maintenance\":false}\n";

TEST_F(AdminApi, maintenance_refuses_what_a_cross_site_form_can_send) {
  // What <form method=post enctype=...> can send: form, multipart and text bodies.
  CurlResult r = Curl("/api/v1/maintenance", {"-X", "POST", "-d", "enabled=true"});
  EXPECT_EQ(r.status, "415") << r.body;
  EXPECT_THAT(
      r.body,
      HasSubstr("Content-Type must be application/json, got application/x-www-form-urlencoded"));
  EXPECT_EQ(Post("/api/v1/maintenance", "{\"enabled\": true}", "text/plain").status, "415");
  EXPECT_EQ(Curl("/api/v1/maintenance", {"-X", "POST", "-F", "enabled=true"}).status, "415");
  // No Content-Type at all, as from a body-less fetch.
  EXPECT_EQ(Curl("/api/v1/maintenance", {"-X", "POST"}).status, "415");
  EXPECT_EQ(MaintenanceState(), kOff);
}

TEST_F(AdminApi, maintenance_refuses_another_sites_origin_even_with_json) {
  const std::string on = "{\"enabled\": true}";
  CurlResult r =
      Post("/api/v1/maintenance", on, "application/json", {"Origin: https://evil.example"});
  EXPECT_EQ(r.status, "403") << r.body;
  EXPECT_THAT(r.body, HasSubstr("Origin https://evil.example is not this server"));
  // Same host, another port: another origin (Grafana's page, say).
  EXPECT_EQ(
      Post("/api/v1/maintenance", on, "application/json", {"Origin: http://127.0.0.1:3000"}).status,
      "403");
  EXPECT_EQ(Post("/api/v1/maintenance", on, "application/json", {"Origin: null"}).status, "403");
  r = Post("/api/v1/maintenance", on, "application/json", {"Sec-Fetch-Site: cross-site"});
  EXPECT_EQ(r.status, "403");
  EXPECT_THAT(r.body, HasSubstr("Sec-Fetch-Site: cross-site"));
  EXPECT_EQ(MaintenanceState(), kOff);
  EXPECT_THAT(poolwatch_->Output(),
              HasSubstr("admin API: refused: the request comes from another site's page"));
}

TEST_F(AdminApi, maintenance_wants_an_explicit_boolean_and_an_rfc3339_until) {
  const auto refused = [](const std::string& body) {
    CurlResult r = Post("/api/v1/maintenance", body, "application/json");
    EXPECT_EQ(r.status, "400") << body << " → " << r.body;
    return r.body;
  };
  EXPECT_THAT(refused(""), HasSubstr("body must be a JSON object"));
  EXPECT_THAT(refused("[true]"), HasSubstr("body must be a JSON object"));
  EXPECT_THAT(refused("{}"), HasSubstr("enabled is required and must be true or false"));
  EXPECT_THAT(refused("{\"enabled\": \"true\"}"), HasSubstr("enabled is required"));
  EXPECT_THAT(refused("{\"until\": \"2030-01-01T00:00:00Z\"}"), HasSubstr("enabled is required"));
  // Epoch seconds used to be ignored, which started maintenance with no end.
  EXPECT_THAT(refused("{\"enabled\": true, \"until\": 1893456000}"),
              HasSubstr("until must be an RFC 3339 time string like \\\"2026-11-26T08:00:00Z\\\", "
                        "got 1893456000"));
  EXPECT_THAT(refused("{\"enabled\": true, \"until\": \"tomorrow\"}"),
              HasSubstr("until must be an RFC 3339"));
  EXPECT_THAT(refused("{\"enabled\": true, \"until\": null}"), HasSubstr("got null"));
  // The URL carries nothing: the old ?enabled= is refused, not obeyed or ignored.
  CurlResult r =
      Post("/api/v1/maintenance?enabled=true", "{\"enabled\": false}", "application/json");
  EXPECT_EQ(r.status, "400");
  EXPECT_THAT(r.body, HasSubstr("not in the URL"));
  EXPECT_EQ(MaintenanceState(), kOff);
}

TEST_F(AdminApi, maintenance_accepts_the_status_pages_fetch_and_a_plain_json_client) {
  // What Chromium sends for the page's own fetch: same origin, JSON with a charset.
  const std::string origin = Base();
  CurlResult r =
      Post("/api/v1/maintenance", R"({"enabled": true, "until": "2030-01-01T00:00:00Z"})",
           "application/json; charset=UTF-8", {"Origin: " + origin, "Sec-Fetch-Site: same-origin"});
  ASSERT_EQ(r.status, "200") << r.body << poolwatch_->Output();
  EXPECT_EQ(MaintenanceState(), "{\"maintenance\":true,\"until\":\"2030-01-01T00:00:00Z\"}\n");
  // A script or curl sends neither Origin nor Sec-Fetch-Site.
  r = Post("/api/v1/maintenance", R"({"enabled": false})", "application/json");
  ASSERT_EQ(r.status, "200") << r.body;
  EXPECT_EQ(MaintenanceState(), kOff);
  // The Host header names the server the browser reached; Origin matching it is same-origin
  // whatever the address (a name, a proxy's host).
  r = Post("/api/v1/maintenance", R"({"enabled": false})", "application/json",
           {"Host: poolwatch.internal:10090", "Origin: http://poolwatch.internal:10090"});
  EXPECT_EQ(r.status, "200") << r.body;
}

TEST_F(AdminApi, reload_is_post_only_and_refuses_forms_and_other_sites) {
  EXPECT_EQ(Curl("/-/reload").status, "405");
  EXPECT_EQ(Post("/-/reload", "", "application/json", {"Origin: https://evil.example"}).status,
            "403");
  EXPECT_EQ(Curl("/-/reload", {"-X", "POST", "-H", "Sec-Fetch-Site: cross-site"}).status, "403");
  EXPECT_EQ(Curl("/-/reload", {"-X", "POST", "-d", "x=1"}).status, "415");
  EXPECT_EQ(Post("/-/reload", "x", "text/plain").status, "415");
  EXPECT_THAT(poolwatch_->Output(), Not(HasSubstr("reload requested")));

  // As for Prometheus: a body-less POST, or one with JSON, from curl or the same origin.
  CurlResult r = Curl("/-/reload", {"-X", "POST"});
  EXPECT_EQ(r.status, "202") << r.body;
  EXPECT_EQ(Post("/-/reload", "", "application/json", {"Origin: " + Base()}).status, "202");
  EXPECT_TRUE(WaitUntil(
      [] { return poolwatch_->Output().find("configuration reloaded") != std::string::npos; },
      seconds(10)))
      << poolwatch_->Output();
}

TEST_F(AdminApi, every_answer_forbids_framing_and_sniffing_and_the_page_runs_only_its_own_script) {
  for (const char* path : {"/", "/metrics", "/api/v1/status", "/nowhere"}) {
    const CurlResult r = Curl(path);
    EXPECT_THAT(r.headers, HasSubstr("X-Frame-Options: DENY")) << path;
    EXPECT_THAT(r.headers, HasSubstr("X-Content-Type-Options: nosniff")) << path;
    EXPECT_THAT(r.headers, HasSubstr("frame-ancestors 'none'")) << path;
  }
  EXPECT_THAT(Curl("/metrics").headers,
              HasSubstr("Content-Security-Policy: default-src 'none'; frame-ancestors 'none'"));
  const std::string page = Curl("/").headers;
  EXPECT_THAT(page, HasSubstr("Content-Security-Policy: default-src 'none'; script-src 'sha256-"));
  EXPECT_THAT(page, HasSubstr("connect-src 'self'"));
  EXPECT_THAT(page, HasSubstr("form-action 'none'"));
  EXPECT_THAT(page, Not(HasSubstr("unsafe-inline")));
}

}  // namespace
}  // namespace poolwatch::testing
