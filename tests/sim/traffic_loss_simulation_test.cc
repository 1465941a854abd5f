// The traffic rule over simulated logs, run as replay runs them: a gap in the log is walked
// through second by second, so silence pages at the second it reaches the window, and nothing
// is judged after the last line. A day of traffic with a quiet night; a stop of 10 minutes pages
// once and resolves once; gaps shorter than the window, a log's first window and its end never
// page; a low-traffic site pages falsely unless its window expects enough requests.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/sim/simulation_test_util.h"

namespace poolwatch::sim {
namespace {

using Hours = std::chrono::hours;

constexpr char kRule[] = "no_traffic";

Config TrafficRuleConfig(const std::string& settings = "") {
  return SimulationConfig("alerting:\n  rules:\n    - {name: no_traffic, kind: traffic" + settings +
                          "}\n");
}

// A day of a site's traffic, with `middle` (an outage, a short gap, nothing) at noon: a quiet
// night at 1 request/s, 10 requests/s by day, 3 in the evening.
std::vector<Phase> Day(const std::vector<Phase>& middle) {
  std::vector<Phase> phases = {Traffic(Hours(6), 1, 0), Traffic(Hours(6), 10, 0)};
  Millis middle_length{0};
  for (const Phase& phase : middle) {
    phases.push_back(phase);
    middle_length += phase.duration;
  }
  phases.push_back(Traffic(Hours(6) - middle_length, 10, 0));
  phases.push_back(Traffic(Hours(6), 3, 0));
  return phases;
}

uint64_t WholeSeconds(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<Seconds>(d).count());
}

TEST(TrafficLossSimulation, TenMinutesWithoutTrafficAtNoonPageOnceAndResolveOnce) {
  const Config config = TrafficRuleConfig();
  const int days = 3 * SimulationScale();
  SeedFailures failures;
  std::vector<uint64_t> seconds_to_page, seconds_to_resolve;
  for (int day = 0; day < days; ++day) {
    const uint64_t seed = 7000 + static_cast<uint64_t>(day);
    Scenario s;
    s.phases = Day({AsIncident(Quiet(Minutes(10)))});
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    const RunOutcome report = Judge(run, kRule, Minutes(2));
    failures.Check(seed, OnePagePerIncidentViolations(run, report));
    const IncidentOutcome& r = report.incidents.front();
    if (r.time_to_page) seconds_to_page.push_back(WholeSeconds(*r.time_to_page));
    if (r.resolved_after_end) seconds_to_resolve.push_back(WholeSeconds(*r.resolved_after_end));
  }
  failures.ExpectNone("one page for the stop, one all-clear after it");
  std::printf("traffic stop: seconds to page %s\n  seconds from the return to the all-clear %s\n",
              Distribution(seconds_to_page).c_str(), Distribution(seconds_to_resolve).c_str());
  ASSERT_EQ(seconds_to_page.size(), static_cast<size_t>(days));
  // The window (5 minutes) after the last request, which came at most a second or so before
  // the stop (10 requests/s); lines show whole seconds.
  EXPECT_GE(Percentile(seconds_to_page, 0), 295u);
  EXPECT_LE(Percentile(seconds_to_page, 100), 301u);
  // resolve_for (60 s) from the evaluation after the first request back, a second or two.
  ASSERT_EQ(seconds_to_resolve.size(), static_cast<size_t>(days));
  EXPECT_GE(Percentile(seconds_to_resolve, 0), 60u);
  EXPECT_LE(Percentile(seconds_to_resolve, 100), 63u);
}

TEST(TrafficLossSimulation, SteadyTrafficAndGapsShorterThanTheWindowNeverPage) {
  const Config config = TrafficRuleConfig();
  const int days = 3 * SimulationScale();
  SeedFailures failures;
  for (int day = 0; day < days; ++day) {
    const uint64_t seed = 7100 + static_cast<uint64_t>(day);
    Scenario s;
    // nginx restarted, a deploy, a load balancer draining: gaps of 30 s, 2 minutes and 4m55s.
    s.phases = Day({Quiet(Seconds(30)), Traffic(Minutes(20), 10, 0), Quiet(Minutes(2)),
                    Traffic(Minutes(20), 10, 0), Quiet(Seconds(295))});
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    failures.Check(seed, run.notifications.empty() ? "" : Describe(run));
  }
  failures.ExpectNone("no message in a day");
}

// Poisson arrivals at one request a minute: a 5-minute window expects 5 requests and is empty
// with a chance of e^-5 = 0.7 % after each request, about 10 times a day. A 20-minute window
// expects 20 (e^-20 = 2e-9): no page in thousands of years. README: choose the window so the
// quietest hour still expects about 20 requests in it (or min_requests well below what it
// expects).
TEST(TrafficLossSimulation, ALowTrafficSiteNeedsAWindowThatExpectsEnoughRequests) {
  const Config five_minutes = TrafficRuleConfig();
  const Config twenty_minutes = TrafficRuleConfig(", window: 20m");
  const int days = 20 * SimulationScale();
  SeedFailures failures;
  int pages_with_five_minutes = 0;
  for (int day = 0; day < days; ++day) {
    const uint64_t seed = 7200 + static_cast<uint64_t>(day);
    Scenario s;
    s.phases = {Traffic(Hours(24), 1.0 / 60, 0)};
    const SimRun five = RunThroughReplayPipeline(s, seed, five_minutes);
    for (const SentNotification& n : five.notifications) pages_with_five_minutes += n.firing;
    const SimRun twenty = RunThroughReplayPipeline(s, seed, twenty_minutes);
    failures.Check(seed, twenty.notifications.empty() ? "" : Describe(twenty));
  }
  failures.ExpectNone("no page with a window that expects 20 requests");
  const double per_day = static_cast<double>(pages_with_five_minutes) / days;
  std::printf("one request a minute: %.1f false pages a day with a 5-minute window\n", per_day);
  EXPECT_GT(per_day, 3.0) << "the odds above say about 10 (less the cooldown's share)";
}

TEST(TrafficLossSimulation, ALogThatStartsSlowlyIsNotPagedInItsFirstWindow) {
  // 20 requests in 5 minutes is the minimum; the log's first 4 minutes have about 12.
  const Config config = TrafficRuleConfig(", min_requests: 20");
  const int seeds = 20 * SimulationScale();
  SeedFailures failures;
  for (int i = 0; i < seeds; ++i) {
    const uint64_t seed = 7300 + static_cast<uint64_t>(i);
    Scenario s;
    s.phases = {Traffic(Minutes(4), 0.05, 0), Traffic(Minutes(20), 5, 0)};
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    failures.Check(seed, run.notifications.empty() ? "" : Describe(run));
  }
  failures.ExpectNone("no message");
}

TEST(TrafficLossSimulation, TheEndOfTheLogIsTheEndOfTime) {
  // The log ends; the scenario's last half hour writes nothing. Replay stops at the last line
  // and invents no silence after it.
  const Config config = TrafficRuleConfig();
  Scenario s;
  s.phases = {Traffic(Minutes(10), 10, 0), Quiet(Minutes(30))};
  const SimRun run = RunThroughReplayPipeline(s, 7400, config);
  EXPECT_TRUE(run.notifications.empty()) << Describe(run);
}

// pool: blue watches the primary alone. While blue is down nginx serves everything from green
// (probing blue once per fail_timeout, and retrying that request on green too), so traffic
// goes on and only this rule sees that blue gets none.
TEST(TrafficLossSimulation, APoolRuleSeesThePrimaryGetNothingWhileTheBackupServes) {
  const Config config = SimulationConfig(
      "alerting:\n  rules:\n    - {name: primary_traffic, kind: traffic, pool: blue}\n");
  const int seeds = 10 * SimulationScale();
  SeedFailures failures;
  std::vector<uint64_t> seconds_to_resolve;
  for (int i = 0; i < seeds; ++i) {
    const uint64_t seed = 7500 + static_cast<uint64_t>(i);
    Scenario s;
    s.phases = {Traffic(Minutes(30), 10, 0), AsIncident(PrimaryDown(Minutes(10), 10)),
                Traffic(Minutes(30), 10, 0)};
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    const RunOutcome report = Judge(run, "primary_traffic", Minutes(2));
    failures.Check(seed, OnePagePerIncidentViolations(run, report));
    for (const SentNotification& n : run.notifications) {
      if (n.labels != std::map<std::string, std::string>{{"pool", "blue"}}) {
        failures.Check(seed, "labels of " + n.text);
      }
    }
    const IncidentOutcome& r = report.incidents.front();
    if (r.resolved_after_end) seconds_to_resolve.push_back(WholeSeconds(*r.resolved_after_end));
  }
  failures.ExpectNone("one page while blue is out, one all-clear after");
  std::printf("primary out: seconds from the recovery to the all-clear %s\n",
              Distribution(seconds_to_resolve).c_str());
  // nginx sends to blue again within fail_timeout (5 s) of the recovery, then 60 s.
  EXPECT_LE(Percentile(seconds_to_resolve, 100), 68u);
}

}  // namespace
}  // namespace poolwatch::sim
