// The simulator itself: its lines are what poolwatch's default format parses, its draws are
// reproducible, and its rates and nginx's failover pattern are what the scenario asks for.
#include "tests/sim/traffic_sim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "exporter/log_format.h"
#include "tests/sim/scenarios.h"

namespace poolwatch::sim {
namespace {

LogFormat DefaultFormat() {
  std::string error;
  auto format = LogFormat::Compile(kDefaultLogFormat, LogFormatOptions{}, &error);
  EXPECT_TRUE(format) << error;
  return *format;
}

Scenario Of(std::vector<Phase> phases) {
  Scenario s;
  s.phases = std::move(phases);
  return s;
}

std::vector<std::string> Lines(const Scenario& scenario, uint64_t seed) {
  std::vector<std::string> lines;
  TrafficSimulator sim(scenario, seed);
  while (sim.Next()) lines.emplace_back(sim.line());
  return lines;
}

TEST(TrafficSimulator, EveryLineParsesWithTheDefaultFormat) {
  Scenario s =
      Of({Traffic(Minutes(2), 20, 0.2), PrimaryDown(Seconds(30), 20), Traffic(Minutes(1), 20, 0.0),
          Quiet(Minutes(1)), AfterRotation(Requests(50, 5, 10))});
  s.phases.push_back(Traffic(Seconds(20), 10, 0));
  s.phases.back().serving = Serving::kNoUpstream;
  const LogFormat format = DefaultFormat();
  TrafficSimulator sim(s, 7);
  LogRecord record;
  std::set<std::string> shapes;  // upstream_status values seen
  uint64_t lines = 0;
  while (sim.Next()) {
    ++lines;
    auto malformed = format.Parse(sim.line(), record);
    ASSERT_FALSE(malformed) << MalformedReasonName(*malformed) << ": " << sim.line();
    EXPECT_EQ(record.time, std::chrono::floor<std::chrono::seconds>(sim.time())) << sim.line();
    EXPECT_EQ(record.status >= 500, sim.client_error()) << sim.line();
    ASSERT_FALSE(record.attempts.empty());
    shapes.insert(std::to_string(record.attempts.size()) + ":" + std::string(record.pool));
  }
  EXPECT_GT(lines, 3000u);
  // One attempt on blue, a failed probe of blue retried on green, green alone, and nginx alone
  // (no pool header: the parser leaves the pool empty for nginx's "-").
  EXPECT_EQ(shapes, (std::set<std::string>{"1:blue", "2:green", "1:green", "1:"}));
}

TEST(TrafficSimulator, TheSameSeedGivesTheSameLogAndAnotherSeedAnother) {
  Scenario s = Of({Traffic(Minutes(1), 10, 0.05), PrimaryDown(Seconds(20), 10)});
  EXPECT_EQ(Lines(s, 42), Lines(s, 42));
  EXPECT_NE(Lines(s, 42), Lines(s, 43));
}

TEST(TrafficSimulator, RatesAndErrorSharesAreWhatThePhaseAsks) {
  // One hour at 10/s with 2 % errors: 36,000 ± 1 % requests (Poisson: sd 190) and an error
  // share within 0.2 points (sd 0.07).
  TrafficSimulator sim(Of({Traffic(Minutes(60), 10, 0.02)}), 1);
  uint64_t errors = 0;
  while (sim.Next()) errors += sim.client_error();
  EXPECT_NEAR(static_cast<double>(sim.requests()), 36000, 360);
  EXPECT_NEAR(100.0 * static_cast<double>(errors) / static_cast<double>(sim.requests()), 2.0, 0.2);
}

// 36,000 requests log-normal around 100 ms (sigma 0.5) with 1 % outliers at 3 s: the median
// within 3 % (its standard error is about 0.8 %), the p99 of the others (100 x e^(2.326 x 0.5) =
// 320 ms) within 8 %, the outliers' share within 0.2 points (sd 0.05); and the line says it.
TEST(TrafficSimulator, TheLatencyModelIsLogNormalWithOutliers) {
  TrafficSimulator sim(
      Of({WithLatency(Traffic(Minutes(60), 10, 0),
                      {.median_ms = 100, .sigma = 0.5, .slow_share = 0.01, .slow_ms = 3000})}),
      3);
  const LogFormat format = DefaultFormat();
  LogRecord record;
  std::vector<uint64_t> others;
  uint64_t slow = 0;
  while (sim.Next()) {
    ASSERT_FALSE(format.Parse(sim.line(), record));
    ASSERT_EQ(record.attempts.size(), 1u);
    ASSERT_NEAR(record.attempts[0].response_time, sim.answer_ms() / 1000.0, 1e-9);
    ASSERT_NEAR(record.request_time, (sim.answer_ms() + 1) / 1000.0, 1e-9);
    if (sim.answer_ms() == 3000) {
      ++slow;
    } else {
      others.push_back(sim.answer_ms());
    }
  }
  std::sort(others.begin(), others.end());
  const auto at = [&](double q) {
    return static_cast<double>(others[static_cast<size_t>(q * (others.size() - 1))]);
  };
  EXPECT_NEAR(at(0.5), 100, 3);
  EXPECT_NEAR(at(0.99), 320, 25);
  EXPECT_NEAR(100.0 * static_cast<double>(slow) / static_cast<double>(sim.requests()), 1.0, 0.2);
}

// Phases without a latency model draw nothing more: the checked-in logs stay what they were.
TEST(TrafficSimulator, WithoutALatencyModelAnswersTakeFourTo35Milliseconds) {
  TrafficSimulator sim(Of({Traffic(Minutes(10), 10, 0)}), 5);
  uint64_t lowest = 1000, highest = 0;
  while (sim.Next()) {
    lowest = std::min(lowest, sim.answer_ms());
    highest = std::max(highest, sim.answer_ms());
  }
  EXPECT_EQ(lowest, 4u);
  EXPECT_EQ(highest, 35u);
}

TEST(TrafficSimulator, EvenArrivalsKeepTheirSpacing) {
  Phase phase = Traffic(Minutes(10), 0.05, 1.0);  // one request every 20 s
  phase.arrivals = Arrivals::kEven;
  TrafficSimulator sim(Of({phase}), 3);
  std::vector<TimePoint> times;
  while (sim.Next()) times.push_back(sim.time());
  ASSERT_GE(times.size(), 28u);
  ASSERT_LE(times.size(), 30u);
  for (size_t i = 1; i < times.size(); ++i) {
    const auto gap = times[i] - times[i - 1];
    EXPECT_GE(gap, Seconds(16));
    EXPECT_LE(gap, Seconds(24));
  }
}

TEST(TrafficSimulator, ACountedPhaseHasExactlyItsErrors) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    TrafficSimulator sim(Of({Requests(20, 10, 10), Traffic(Minutes(1), 10, 0)}), seed);
    uint64_t errors_in_first_20 = 0;
    while (sim.Next()) {
      if (sim.requests() <= 20) errors_in_first_20 += sim.client_error();
    }
    EXPECT_EQ(errors_in_first_20, 10u) << "seed " << seed;
  }
}

TEST(TrafficSimulator, ADownPrimaryIsProbedOncePerFailTimeoutAndReturnsAfterIt) {
  // Even arrivals, 10/s: the primary fails at 60 s and is back at 90 s.
  Scenario s =
      Of({Traffic(Minutes(1), 10, 0), PrimaryDown(Seconds(30), 10), Traffic(Seconds(30), 10, 0)});
  for (Phase& phase : s.phases) phase.arrivals = Arrivals::kEven;
  const LogFormat format = DefaultFormat();
  TrafficSimulator sim(s, 5);
  LogRecord record;
  std::vector<TimePoint> probes;
  TimePoint first_green{}, back_on_blue{};
  while (sim.Next()) {
    ASSERT_FALSE(format.Parse(sim.line(), record));
    if (record.attempts.size() == 2) {
      probes.push_back(sim.time());
      EXPECT_EQ(record.attempts[0].address, "127.0.0.1:8081");
      EXPECT_EQ(record.attempts[0].status, 502);
      EXPECT_EQ(record.attempts[1].address, "127.0.0.1:8082");
      EXPECT_EQ(record.status, 200);
    }
    if (record.pool == "green" && first_green == TimePoint{}) first_green = sim.time();
    if (record.pool == "blue" && first_green != TimePoint{} && back_on_blue == TimePoint{}) {
      back_on_blue = sim.time();
    }
  }
  const TimePoint down = DefaultStart() + Seconds(60);
  ASSERT_EQ(probes.size(), 6u);  // at about 60, 65, ..., 85 s
  EXPECT_EQ(probes.front(), first_green);
  EXPECT_LT(probes.front() - down, Millis(150));
  for (size_t i = 1; i < probes.size(); ++i) {
    EXPECT_GE(probes[i] - probes[i - 1], Seconds(5));
    EXPECT_LT(probes[i] - probes[i - 1], Millis(5150));
  }
  // Back after the last probe's fail_timeout, not at the moment it recovered.
  EXPECT_GE(back_on_blue, probes.back() + Seconds(5));
  EXPECT_GT(back_on_blue, down + Seconds(30));
}

TEST(TrafficSimulator, TheTruthFollowsThePhasesAndRotationsBumpTheFile) {
  Scenario s = Of({Traffic(Minutes(1), 10, 0), AsIncident(Traffic(Seconds(30), 10, 0.5)),
                   AsIncident(PrimaryDown(Seconds(30), 10)), Traffic(Minutes(1), 10, 0),
                   Quiet(Minutes(1)), AfterRotation(AsIncident(Traffic(Seconds(10), 10, 1)))});
  TrafficSimulator sim(s, 9);
  std::vector<size_t> files;
  while (sim.Next()) {
    if (files.empty() || files.back() != sim.file_index()) files.push_back(sim.file_index());
  }
  EXPECT_EQ(files, (std::vector<size_t>{0, 1}));
  const auto& incidents = sim.incidents();
  ASSERT_EQ(incidents.size(), 2u);
  EXPECT_EQ(incidents[0].begin, DefaultStart() + Seconds(60));
  EXPECT_EQ(incidents[0].end, DefaultStart() + Seconds(120));
  EXPECT_EQ(incidents[1].begin, DefaultStart() + Seconds(240));
  EXPECT_EQ(incidents[1].end, DefaultStart() + Seconds(250));
  EXPECT_NEAR(static_cast<double>(incidents[0].first_request), 600, 75);
  EXPECT_NEAR(static_cast<double>(incidents[0].end_request - incidents[0].first_request), 600, 75);
  EXPECT_EQ(incidents[1].end_request, sim.requests());
}

TEST(TrafficSimulator, StampsRollOverMidnightAndMonths) {
  // The quiet phase ends at 23:59:58.500; one request a second, each gap 0.8-1.2 s.
  Scenario s =
      Of({Quiet(std::chrono::hours(24 * 4 + 16) + Minutes(59) + Millis(58500)), Requests(2, 1, 0)});
  s.phases.back().arrivals = Arrivals::kEven;
  std::vector<std::string> lines = Lines(s, 1);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("[30/Nov/2026:23:59:59 +0000]"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("[01/Dec/2026:00:00:0"), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace poolwatch::sim

namespace poolwatch::sim {
namespace {

TEST(TrafficSimulator, ACanaryServesItsShareWithItsOwnErrorRate) {
  const Scenario s = Of({WithCanary(Traffic(Minutes(30), 20, 0.01), "v1.1.0", 0.25, 0.05)});
  const LogFormat format = DefaultFormat();
  TrafficSimulator sim(s, 7);
  uint64_t canary = 0, canary_errors = 0, baseline = 0, baseline_errors = 0;
  LogRecord record;
  while (sim.Next()) {
    record.Clear();
    ASSERT_FALSE(format.Parse(sim.line(), record));
    EXPECT_EQ(record.release, sim.canary() ? "v1.1.0" : "v1.0.0");
    EXPECT_EQ(record.status >= 500, sim.client_error());
    (sim.canary() ? canary : baseline) += 1;
    (sim.canary() ? canary_errors : baseline_errors) += sim.client_error();
  }
  const double total = static_cast<double>(canary + baseline);
  EXPECT_NEAR(static_cast<double>(canary) / total, 0.25, 0.01);
  EXPECT_NEAR(static_cast<double>(canary_errors) / static_cast<double>(canary), 0.05, 0.006);
  EXPECT_NEAR(static_cast<double>(baseline_errors) / static_cast<double>(baseline), 0.01, 0.002);
}

}  // namespace
}  // namespace poolwatch::sim
