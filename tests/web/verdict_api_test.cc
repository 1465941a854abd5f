#include "web/verdict_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace poolwatch {
namespace {

using nlohmann::json;

TEST(VerdictHttpStatus, pass_200_fail_412_inconclusive_425_unless_always_200) {
  EXPECT_EQ(VerdictHttpStatus(VerdictOutcome::kPass, false), 200);
  EXPECT_EQ(VerdictHttpStatus(VerdictOutcome::kFail, false), 412);
  EXPECT_EQ(VerdictHttpStatus(VerdictOutcome::kInconclusive, false), 425);
  EXPECT_EQ(VerdictHttpStatus(VerdictOutcome::kFail, true), 200);
  EXPECT_EQ(VerdictHttpStatus(VerdictOutcome::kInconclusive, true), 200);
}

TEST(VerdictJson, has_both_sides_the_test_and_the_pools_alerts) {
  RolloutVerdict v;
  v.outcome = VerdictOutcome::kFail;
  v.reason = "worse";
  v.pool = "green";
  v.window = std::chrono::minutes(5);
  v.release.release = "v2.0.0";
  v.release.serving_since = TimePoint{} + std::chrono::seconds(1'764'140'400);
  v.release.summary.requests = 1512;
  v.release.summary.errors = 47;
  v.release.summary.latency[ReleaseSummary::LatencyBin(0.1)] = 1512;
  v.release.summary.timed = 1512;
  v.baseline.release = "v1.0.0";
  v.baseline.pool = "green";
  v.baseline.releases = 1;
  v.baseline.summary.requests = 1498;
  v.baseline.summary.errors = 2;
  v.judgement.finding = RegressionFinding::kWorse;
  v.judgement.bound_percent = 1.13;
  v.alerts.push_back({"latency", RuleKind::kLatency, true, 0.9, {{"pool", "green"}}});
  v.at = TimePoint{} + std::chrono::seconds(1'764'140'700);
  const json j = json::parse(VerdictJson(v));
  EXPECT_EQ(j["verdict"], "fail");
  EXPECT_EQ(j["reason"], "worse");
  EXPECT_EQ(j["pool"], "green");
  EXPECT_EQ(j["window_seconds"], 300);
  EXPECT_EQ(j["compare"], "releases");
  EXPECT_EQ(j["release"]["release"], "v2.0.0");
  EXPECT_EQ(j["release"]["serving_since"], "2025-11-26T07:00:00Z");
  EXPECT_EQ(j["release"]["requests"], 1512);
  EXPECT_EQ(j["release"]["errors_5xx"], 47);
  EXPECT_NEAR(j["release"]["error_percent"].get<double>(), 3.108, 0.001);
  EXPECT_NEAR(j["release"]["latency_p99_seconds"].get<double>(), 0.1, 0.0123);
  EXPECT_EQ(j["baseline"]["release"], "v1.0.0");
  EXPECT_EQ(j["baseline"]["releases"], 1);
  EXPECT_TRUE(j["baseline"]["latency_p50_seconds"].is_null()) << "no request time: no latency";
  EXPECT_EQ(j["test"]["finding"], "worse");
  EXPECT_EQ(j["test"]["min_requests"], 100);
  EXPECT_DOUBLE_EQ(j["test"]["bound_percent"].get<double>(), 1.13);
  ASSERT_EQ(j["alerts"].size(), 1u);
  EXPECT_EQ(j["alerts"][0]["name"], "latency");
  EXPECT_EQ(j["alerts"][0]["kind"], "latency");
  EXPECT_EQ(j["alerts"][0]["firing"], true);
  EXPECT_EQ(j["alerts"][0]["labels"]["pool"], "green");
  EXPECT_EQ(j["at"], "2025-11-26T07:05:00Z");
}

}  // namespace
}  // namespace poolwatch
