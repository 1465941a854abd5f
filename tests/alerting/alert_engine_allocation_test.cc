// The engine sits on the per-line hot path: Observe() must not allocate in the steady state,
// and an Evaluate() where nothing changed must not either. This executable counts every
// operator new while a measurement is running.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alerting/alert_engine.h"
#include "tests/alerting/alerting_test_util.h"
#include "tests/support/allocation_count.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::AllocationCount;
using poolwatch::testing::At;
using poolwatch::testing::Attempt;
using poolwatch::testing::Request;
using poolwatch::testing::Retried;

AlertingConfig ConfigWithEveryRuleKind() {
  AlertingConfig config = AlertingConfig::SeedDefaults();
  RuleConfig upstream;
  upstream.name = "upstream_error_rate";
  upstream.kind = RuleKind::kErrorRate;
  upstream.scope = ErrorScope::kUpstream;
  config.rules.push_back(upstream);
  RuleConfig slow_failover;
  slow_failover.name = "failover_30s";
  slow_failover.kind = RuleKind::kFailover;
  slow_failover.for_duration = std::chrono::seconds(30);
  config.rules.push_back(slow_failover);
  RuleConfig traffic;
  traffic.name = "no_traffic";
  traffic.kind = RuleKind::kTraffic;
  traffic.min_requests = 1;
  config.rules.push_back(traffic);
  traffic.name = "no_traffic_on_blue";
  traffic.pool = "blue";
  config.rules.push_back(traffic);
  for (ErrorScope scope : {ErrorScope::kClient, ErrorScope::kUpstream}) {
    RuleConfig latency;
    latency.name = scope == ErrorScope::kClient ? "latency" : "upstream_latency";
    latency.kind = RuleKind::kLatency;
    latency.scope = scope;
    latency.latency_threshold = std::chrono::milliseconds(20);
    // A p99 is found by one pass over the window, a median by selection: both paths.
    latency.quantile = scope == ErrorScope::kClient ? 0.99 : 0.5;
    config.rules.push_back(latency);
  }
  for (RegressionBaseline compare :
       {RegressionBaseline::kOtherReleases, RegressionBaseline::kOtherPools}) {
    RuleConfig regression;
    regression.name =
        compare == RegressionBaseline::kOtherReleases ? "release_regression" : "canary_regression";
    regression.kind = RuleKind::kReleaseRegression;
    regression.compare = compare;
    regression.min_requests = 100;
    config.rules.push_back(regression);
  }
  RuleConfig slo;
  slo.name = "availability_slo";
  slo.kind = RuleKind::kSlo;
  slo.objective_percent = 99.9;
  slo.min_requests = 100;
  config.rules.push_back(slo);
  slo.name = "blue_latency_slo";
  slo.sli = SloIndicator::kLatency;
  slo.scope = ErrorScope::kUpstream;
  slo.pool = "blue";
  slo.latency_threshold = std::chrono::milliseconds(30);
  config.rules.push_back(slo);
  return config;
}

TEST(AlertEngineAllocations, the_counter_sees_allocations) {
  AllocationCount count;
  std::vector<std::string> strings;
  strings.emplace_back(64, 'x');
  EXPECT_GE(count.value(), 2);
  EXPECT_EQ(strings[0].size(), 64u);
}

TEST(AlertEngineAllocations, observe_does_not_allocate_in_the_steady_state) {
  AlertEngine engine(ConfigWithEveryRuleKind());
  // Records built up front: the test helpers allocate, the engine must not.
  std::vector<LogRecord> records;
  for (int i = 0; i < 1000; ++i) {
    if (i % 7 == 0) {
      records.push_back(Retried(i * 0.01));
    } else {
      // Two releases on blue, so release_regression compares them.
      records.push_back(
          Request(i * 0.01, "blue", i % 13 == 0 ? 502 : 200, {}, i % 5 == 0 ? "v1.1.0" : "v1.0.0"));
    }
    // Durations all over the latency windows' sorted arrays, some above their threshold.
    records.back().request_time = 0.001 * (i * 7 % 50);
    for (UpstreamAttempt& a : records.back().attempts) a.response_time = 0.001 * (i * 3 % 40);
  }
  for (const LogRecord& r : records) engine.Observe(r);  // warm-up: pools seen, windows full
  engine.Evaluate(At(10));

  AllocationCount count;
  for (int round = 0; round < 20; ++round) {
    for (const LogRecord& r : records) engine.Observe(r);
  }
  EXPECT_EQ(count.value(), 0);
}

TEST(AlertEngineAllocations, evaluate_does_not_allocate_when_nothing_changed) {
  AlertEngine engine(ConfigWithEveryRuleKind());
  std::vector<LogRecord> records;
  for (int i = 0; i < 300; ++i) {
    records.push_back(Request(i * 0.01, "blue", 200, {}, i % 3 == 0 ? "v1.1.0" : "v1.0.0"));
  }
  for (const LogRecord& r : records) engine.Observe(r);
  engine.Evaluate(At(3));  // first decisions are reported (and allocate)

  AllocationCount count;
  for (int tick = 0; tick < 100; ++tick) {
    for (const LogRecord& r : records) engine.Observe(r);
    const Evaluation e = engine.Evaluate(At(3 + tick * 0.1));
    EXPECT_TRUE(e.notifications.empty());
    EXPECT_TRUE(e.decisions.empty());
  }
  EXPECT_EQ(count.value(), 0);
}

TEST(AlertEngineAllocations, slo_windows_advancing_over_hours_do_not_allocate) {
  AlertingConfig config;
  for (const RuleConfig& rule : ConfigWithEveryRuleKind().rules) {
    if (rule.kind == RuleKind::kSlo) config.rules.push_back(rule);
  }
  AlertEngine engine(config);
  LogRecord record = Request(0, "blue");
  // Enough requests for the volume guard: the decisions are below_threshold from the start.
  for (int k = 0; k < 200; ++k) {
    record.time = At(k * 0.2);
    engine.Observe(record);
  }
  engine.Evaluate(At(40));  // first decisions are reported (and allocate)

  AllocationCount count;
  // Two hours of 5 requests a second, evaluated every second: every bucket of the 10 s and
  // one-minute rings is entered and left.
  for (int second = 40; second < 2 * 3600; ++second) {
    for (int k = 0; k < 5; ++k) {
      record.time = At(second + k * 0.2);
      engine.Observe(record);
    }
    const Evaluation e = engine.Evaluate(At(second + 1));
    EXPECT_TRUE(e.notifications.empty());
  }
  EXPECT_EQ(count.value(), 0);
}

// group_by (issue 17): the same rules per site. Lines come file after file, so routing is one
// compare per line and a lookup per change of file; neither allocates once the groups exist.
TEST(AlertEngineAllocations, grouped_rules_route_lines_without_allocating) {
  AlertingConfig config = ConfigWithEveryRuleKind();
  for (RuleConfig& rule : config.rules) rule.group_by = {{"site", 0}};
  AlertEngine engine(config);
  LineSource shop;
  shop.values = {"shop"};
  shop.id = NewLineSourceId();
  LineSource blog;
  blog.values = {"blog"};
  blog.id = NewLineSourceId();
  std::vector<LogRecord> records;
  for (int i = 0; i < 1000; ++i) {
    records.push_back(i % 7 == 0 ? Retried(i * 0.01)
                                 : Request(i * 0.01, "blue", i % 13 == 0 ? 502 : 200, {},
                                           i % 5 == 0 ? "v1.1.0" : "v1.0.0"));
    records.back().request_time = 0.001 * (i * 7 % 50);
    // Runs of 100 lines per file, and some lines without a source (syslog's, say).
    records.back().source = (i / 100) % 3 == 0 ? &shop : (i / 100) % 3 == 1 ? &blog : nullptr;
  }
  for (const LogRecord& r : records) engine.Observe(r);
  engine.Evaluate(At(10));

  AllocationCount count;
  for (int round = 0; round < 20; ++round) {
    for (const LogRecord& r : records) engine.Observe(r);
  }
  EXPECT_EQ(count.value(), 0);
}

}  // namespace
}  // namespace poolwatch
