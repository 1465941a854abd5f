// The rollout verdict of the real daemon (GET /api/v1/verdict) on a rollout written to the log
// it follows: v1.0.0 serves blue and green, then v2.0.0 joins both; on blue v2.0.0 fails 10 % of
// its requests, on green it is fine. The answers: 400 before a pool is known, 425 while v2.0.0
// has served too little, then 412 for blue and 200 for green.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using ::testing::HasSubstr;

// A line stamped `ago` seconds before `now`, as nginx writes $time_local.
std::string LineAgo(std::time_t now, int ago, const std::string& pool, const std::string& release,
                    int status, double took) {
  const std::time_t at = now - ago;
  std::tm utc{};
  gmtime_r(&at, &utc);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S +0000", &utc);
  char times[96];
  std::snprintf(times, sizeof(times), "request_time=%.3f upstream_response_time=%.3f", took, took);
  const std::string address = pool == "blue" ? "127.0.0.1:8081" : "127.0.0.1:8082";
  return std::string("127.0.0.1 - - [") + stamp + "] \"GET /api/items HTTP/1.1\" " +
         std::to_string(status) + " 51 \"-\" \"curl/7.88.1\" pool=" + pool + " release=" + release +
         " upstream_status=" + std::to_string(status) + " upstream_addr=" + address + " " + times +
         "\n";
}

// From `from` to `to` seconds ago (from > to), 4 requests a second of v1.0.0 on both pools and,
// with `v2`, as many of v2.0.0; blue's v2.0.0 answers every 10th with a 503.
std::string Rollout(std::time_t now, int from, int to, bool v2, int& counter) {
  std::string out;
  for (int ago = from; ago > to; --ago) {
    for (int i = 0; i < 4; ++i) {
      for (const std::string pool : {"blue", "green"}) {
        out += LineAgo(now, ago, pool, "v1.0.0", 200, 0.020);
        if (!v2) continue;
        const bool error = pool == "blue" && ++counter % 10 == 0;
        out += LineAgo(now, ago, pool, "v2.0.0", error ? 503 : 200, 0.030);
      }
    }
  }
  return out;
}

TEST(VerdictDaemon, ARolloutIsInconclusiveThenFailsWhereWorseAndPassesWhereFine) {
  TempDir dir;
  WriteFile(dir / "access.log", "");
  // Both pools serve at once here (a canary on each): only the release rule, so the seed's
  // failover rule does not fail both verdicts for traffic being off the primary.
  WriteFile(dir / "poolwatch.yml",
            "alerting:\n  rules:\n    - {name: release_regression, kind: release_regression}\n");
  Process poolwatch(
      {POOLWATCH_BINARY, "--config.file", (dir / "poolwatch.yml").string(), "--log.path",
       (dir / "access.log").string(), "--web.listen-address", "127.0.0.1:0"},
      dir / "poolwatch.out");
  const int port = WaitForListeningPort(poolwatch);
  ASSERT_NE(port, 0) << poolwatch.Output();
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/api/v1/verdict";

  HttpResponse r = HttpGet(base + "?pool=green");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(nlohmann::json::parse(r.body)["error"].get<std::string>(),
              HasSubstr("unknown pool 'green'"));

  // v1.0.0 for three minutes, then v2.0.0 starts: 8 requests of it on each pool.
  const std::time_t now = std::time(nullptr);
  int counter = 0;
  AppendFile(dir / "access.log",
             Rollout(now, 240, 62, false, counter) + Rollout(now, 62, 60, true, counter));
  // Both pools have v2.0.0 once the run loop has read the lines: poll for it.
  ASSERT_TRUE(WaitUntil(
      [&] {
        r = HttpGet(base + "?pool=blue");
        return r.status == 425 && nlohmann::json::parse(r.body)["release"]["release"] == "v2.0.0";
      },
      std::chrono::seconds(20)))
      << r.status << " " << r.body;
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["verdict"], "inconclusive");
  EXPECT_EQ(j["release"]["requests"], 8);
  EXPECT_EQ(j["baseline"]["release"], "v1.0.0");
  EXPECT_EQ(j["test"]["finding"], "too_few_requests");
  EXPECT_EQ(HttpGet(base + "?pool=green").status, 425);

  // A minute of both releases: 240 requests of v2.0.0 a pool, 24 of blue's failing (10 %).
  AppendFile(dir / "access.log", Rollout(now, 60, 0, true, counter));
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(base + "?pool=blue").status == 412; },
                        std::chrono::seconds(20)))
      << HttpGet(base + "?pool=blue").body;
  r = HttpGet(base + "?pool=blue&release=v2.0.0&window=5m");
  EXPECT_EQ(r.status, 412);
  j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["verdict"], "fail");
  EXPECT_EQ(j["test"]["finding"], "worse");
  EXPECT_EQ(j["release"]["requests"], 248);
  EXPECT_EQ(j["release"]["errors_5xx"], 24);
  EXPECT_NEAR(j["release"]["latency_p50_seconds"].get<double>(), 0.030, 0.030 * 0.123);
  EXPECT_NEAR(j["baseline"]["latency_p99_seconds"].get<double>(), 0.020, 0.020 * 0.123);
  EXPECT_EQ(j["window_seconds"], 300);
  // The rule saw it too, and its alert is part of the verdict.
  ASSERT_EQ(j["alerts"].size(), 1u);
  EXPECT_EQ(j["alerts"][0]["labels"], (nlohmann::json{{"pool", "blue"}, {"release", "v2.0.0"}}));

  r = HttpGet(base + "?pool=green&release=v2.0.0");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["verdict"], "pass");

  // For Argo Rollouts' web provider: 200 whatever the verdict, judged by the JSON.
  r = HttpGet(base + "?pool=blue&always_200=true");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["verdict"], "fail");
  // Flagger's webhooks POST a JSON payload: the query string still says what to judge.
  EXPECT_EQ(
      HttpPost(base + "?pool=blue", R"({"name":"app","namespace":"prod","phase":"Progressing"})")
          .status,
      412);
  EXPECT_EQ(HttpPost(base + "?pool=green", "{}").status, 200);

  // Bad queries.
  EXPECT_EQ(HttpGet(base + "?pool=green&window=soon").status, 400);
  r = HttpGet(base + "?pool=green&window=1h");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("at most 15m"));
  EXPECT_EQ(HttpGet(base + "?pool=green&compare=hosts").status, 400);
  EXPECT_EQ(HttpGet(base).status, 400);
}

}  // namespace
}  // namespace poolwatch::testing
