// The error_rate rule over simulated traffic, judged by rates over many seeds against the
// scenarios' truth: how often steady traffic below the threshold pages, whether sustained
// failures page once and stay paged until they are over, and how many requests a page takes.
// Default configuration throughout: threshold 2 %, window 200, cooldown 300 s, max_age 300 s.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "tests/sim/simulation_test_util.h"

namespace poolwatch::sim {
namespace {

constexpr double kRate = 10;               // requests per second
constexpr double kQuietBaseline = 0.0005;  // 0.05 %: see SteadyTrafficAtTheQuietestBaseline

struct Measured {
  std::vector<uint64_t> requests_to_page;
  std::vector<uint64_t> seconds_to_page;
  std::vector<uint64_t> seconds_to_resolve;  // after the incident's end
  // The longest stretch inside the incident with the window at or below 1 %, by chance.
  std::vector<uint64_t> clear_stretch_requests;
  std::vector<uint64_t> clear_stretch_seconds;
  // Incidents with such a stretch of 60 s and 400 requests: where the resolve rule's
  // defaults would give an all-clear while still failing.
  int long_clear_stretches = 0;
  int incidents = 0, paged = 0, one_pair = 0, false_resolutions = 0, false_pages = 0;
  int max_firings = 0, incidents_resolved_early = 0;
};

void Summarize(const char* what, const Measured& m) {
  std::printf(
      "%s: %d incidents, %d paged, %d with exactly one firing and one resolution, "
      "%d false resolutions, %d false pages\n  requests to page: %s\n  seconds to "
      "page: %s\n  seconds from the end to the resolution: %s\n  longest stretch at or below "
      "1 %% after it looked failing, requests: %s, seconds: %s\n  incidents with "
      "such a stretch of 60 s and 400 requests: %d\n",
      what, m.incidents, m.paged, m.one_pair, m.false_resolutions, m.false_pages,
      Distribution(m.requests_to_page).c_str(), Distribution(m.seconds_to_page).c_str(),
      Distribution(m.seconds_to_resolve).c_str(), Distribution(m.clear_stretch_requests).c_str(),
      Distribution(m.clear_stretch_seconds).c_str(), m.long_clear_stretches);
}

void Collect(const RunOutcome& report, Measured& m) {
  for (const IncidentOutcome& r : report.incidents) {
    ++m.incidents;
    if (r.firings > 0) {
      ++m.paged;
      m.requests_to_page.push_back(*r.requests_to_page);
      m.seconds_to_page.push_back(
          static_cast<uint64_t>(std::chrono::duration_cast<Seconds>(*r.time_to_page).count()));
    }
    if (r.firings == 1 && r.resolutions == 1) ++m.one_pair;
    m.max_firings = std::max(m.max_firings, r.firings);
    if (r.false_resolutions > 0) ++m.incidents_resolved_early;
    if (r.resolved_after_end && *r.resolved_after_end >= Clock::duration::zero()) {
      m.seconds_to_resolve.push_back(static_cast<uint64_t>(
          std::chrono::duration_cast<Seconds>(*r.resolved_after_end).count()));
    }
    m.false_resolutions += r.false_resolutions;
  }
  m.false_pages += report.false_pages + report.pages_of_other_rules;
}

// ---- Steady traffic below the threshold -------------------------------------------------------

// False pages per simulated day at 10 requests/s for a steady baseline error rate. With a full
// window the rule fires above 2 %, i.e. at 5 errors among the last 200 requests, so a baseline
// crosses it by chance at a rate that grows steeply with the baseline: the chance that a request
// is an error that brings the window to 5 is p x P(Binomial(199, p) = 4), times 864,000 requests
// a day: 0.0016 (0.05 %), 0.045 (0.1 %), 3.3 (0.25 %), 64 (0.5 %), 760 (1 %) crossings a day.
// The cooldown caps pages at 288 a day.
TEST(ErrorRateSimulation, FalsePagesPerDayOfSteadyTraffic) {
  const double baselines[] = {0.05, 0.1, 0.25, 0.5, 1.0};
  const int days = SimulationScale();
  const Config config = SimulationConfig();
  std::printf("baseline %%  simulated days  false pages  per day   (10 requests/s)\n");
  for (size_t b = 0; b < std::size(baselines); ++b) {
    int pages = 0;
    for (int day = 0; day < days; ++day) {
      Scenario s;
      s.name = "steady";
      s.phases = {Traffic(std::chrono::hours(24), kRate, baselines[b] / 100)};
      const SimRun run = RunThroughReplayPipeline(s, 1000 * b + static_cast<uint64_t>(day), config);
      ASSERT_EQ(run.malformed, 0u);
      const RunOutcome report = Judge(run, "error_rate", Seconds(0));
      pages += report.false_pages + report.pages_of_other_rules;
      // The cooldown bounds pages: at most one firing per 300 s, 288 a day.
      EXPECT_LE(report.false_pages, 288) << baselines[b];
      EXPECT_EQ(report.pages_of_other_rules, 0) << baselines[b];
      // Every false page is one episode: its firing, then one resolution, except that the last
      // may still be on when the day ends.
      EXPECT_GE(report.false_pages - report.stray_resolutions, 0) << baselines[b];
      EXPECT_LE(report.false_pages - report.stray_resolutions, 1) << baselines[b];
    }
    std::printf("%10.2f  %14d  %11d  %7.3f\n", baselines[b], days, pages,
                static_cast<double>(pages) / days);
  }
}

// 0.05 % is the baseline where the semantics promise no page: 0.1 errors expected per window of
// 200, a full window fires only at 5, and P(Binomial(200, 0.0005) >= 5) = 7e-8 — about one page
// in 640 simulated days at 10 requests/s (0.1 % would already page about once in 22 days). A thin
// window (after the start) needs 3 errors that are significant at 99.9 %: rarer still.
TEST(ErrorRateSimulation, SteadyTrafficAtTheQuietestBaselineNeverPages) {
  const Config config = SimulationConfig();
  const int days = 4 * SimulationScale();
  SeedFailures failures;
  for (int day = 0; day < days; ++day) {
    Scenario s;
    s.phases = {Traffic(std::chrono::hours(24), kRate, kQuietBaseline)};
    const uint64_t seed = 77 + static_cast<uint64_t>(day);
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    failures.Check(seed, run.notifications.empty() ? "" : Describe(run));
  }
  failures.ExpectNone("no message in a day");
}

// ---- Sustained failures -----------------------------------------------------------------------

// 10 minutes of the quiet baseline (the window is full), then 30-60 minutes of failures at
// `error_percent`, then 20 minutes of the baseline again.
Measured RunSustained(double error_percent, int seeds, uint64_t seed_base,
                      bool expect_one_page = true) {
  const Config config = SimulationConfig();
  Measured m;
  SeedFailures failures;
  for (int i = 0; i < seeds; ++i) {
    const uint64_t seed = seed_base + static_cast<uint64_t>(i);
    Scenario s;
    s.phases = {Traffic(Minutes(10), kRate, kQuietBaseline),
                AsIncident(Traffic(Minutes(30 + seed % 31), kRate, error_percent / 100)),
                Traffic(Minutes(20), kRate, kQuietBaseline)};
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    const RunOutcome report = Judge(run, "error_rate", Minutes(2));
    if (expect_one_page) failures.Check(seed, OnePagePerIncidentViolations(run, report));
    Collect(report, m);
    const ClearStretch clear = LongestClearStretchWhileFailing(s, seed);
    m.clear_stretch_requests.push_back(clear.requests);
    m.clear_stretch_seconds.push_back(
        static_cast<uint64_t>(std::chrono::duration_cast<Seconds>(clear.duration).count()));
    if (clear.duration >= Seconds(60) && clear.requests >= 400) ++m.long_clear_stretches;
  }
  failures.ExpectNone("one firing, then one resolution after the end");
  return m;
}

// The page comes within this many requests of the failure's start (10 requests/s). The full
// window fires at 5 errors among the last 200, so at a rate r the page waits for about 5/r
// requests (125 at 4 %, 50 at 10 %) plus the evaluation schedule (each log second and every 50
// lines). Measured over 600 seeds each (POOLWATCH_SIM_SCALE=10): at 4 % p50 119, p99 323,
// max 469 requests (max 48 s); at 10 % p50 52, p99 115, max 177 (max 18 s). N is the max
// seen plus about a third.
constexpr uint64_t kPageWithinRequestsAt2x = 600;
constexpr uint64_t kPageWithinRequestsAt5x = 250;

// No false all-clear at 2x and 5x: the all-clear needs the window at or below 1 % for 60 s and
// 400 requests in a row, and the longest such stretch that chance produced inside a 4 % incident
// after the window had crossed 2 % was 50 s (p99 30 s) over 600 incidents of 30-60 minutes; at
// 10 % it never happened. Rare at 2x, then, rather than impossible; what is asserted here is what
// these seeds show.
TEST(ErrorRateSimulation, FailuresAtTwiceTheThresholdPageOnceAndResolveOnceAfterTheEnd) {
  const Measured m = RunSustained(4.0, 60 * SimulationScale(), 100);
  Summarize("4 % (2x threshold)", m);
  EXPECT_EQ(m.paged, m.incidents);
  EXPECT_LE(Percentile(m.requests_to_page, 100), kPageWithinRequestsAt2x);
}

TEST(ErrorRateSimulation, FailuresAtFiveTimesTheThresholdPageOnceAndResolveOnceAfterTheEnd) {
  const Measured m = RunSustained(10.0, 60 * SimulationScale(), 200);
  Summarize("10 % (5x threshold)", m);
  EXPECT_EQ(m.paged, m.incidents);
  EXPECT_LE(Percentile(m.requests_to_page, 100), kPageWithinRequestsAt5x);
}

// 3 % (1.5x): a window of 200 holds 6 errors on average and is above 2 % (5 or more) 71 % of
// the time, so the page comes soon (p50 159, max 578 requests over 300 seeds). But at 3 % chance
// does leave the window at or below 1 % for long: the longest such stretch after it first looked
// failing was 20 s at p50, 52 s at p99 and 74 s at most, and 1 incident in 300 had one of 60 s
// and 400 requests, where the all-clear comes while it is still failing. What is defensible:
// every incident is paged, a false all-clear is the exception (at most one per incident, in at
// most 1 incident in 10).
TEST(ErrorRateSimulation, FailuresAtOneAndAHalfTimesTheThresholdPageAndRarelyResolveEarly) {
  const int seeds = 30 * SimulationScale();
  const Measured m = RunSustained(3.0, seeds, 300, /*expect_one_page=*/false);
  Summarize("3 % (1.5x threshold)", m);
  EXPECT_EQ(m.paged, m.incidents);
  EXPECT_LE(m.max_firings, 2);
  EXPECT_LE(m.incidents_resolved_early * 10, m.incidents);
  EXPECT_EQ(m.false_pages, 0);
}

// ---- Bursts -----------------------------------------------------------------------------------

// 10 errors among 20 requests: within a full window (10/200 = 5 %), the page comes at the
// evaluation after the 5th error: measured over 1,000 seeds p50 15, p99 26, max 33 requests.
// Right after the log starts (a thin window) it comes at the first evaluation (each log second,
// about 10 requests at 10/s) with 5 requests or more and 3 errors or more significant at 99.9 %
// (3 among 10: P = 0.0009); measured with the old seed semantics, which judged from 20 requests
// on and so can only be later: p50 25, p99 35, max 39. N: the max plus about a quarter.
constexpr uint64_t kBurstPageWithinRequests = 50;

Measured RunBursts(bool at_start, int seeds, uint64_t seed_base) {
  const Config config = SimulationConfig();
  Measured m;
  SeedFailures failures;
  for (int i = 0; i < seeds; ++i) {
    const uint64_t seed = seed_base + static_cast<uint64_t>(i);
    Scenario s;
    if (!at_start) s.phases.push_back(Traffic(Minutes(10), kRate, kQuietBaseline));
    s.phases.push_back(AsIncident(Requests(20, kRate, 10)));
    s.phases.push_back(Traffic(Minutes(10), kRate, kQuietBaseline));
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    const RunOutcome report = Judge(run, "error_rate", Minutes(1));
    failures.Check(seed, OnePagePerIncidentViolations(run, report));
    Collect(report, m);
  }
  failures.ExpectNone("one firing, then one resolution after the burst");
  return m;
}

TEST(ErrorRateSimulation, ABurstInFullTrafficPagesOnceWithinNRequests) {
  const Measured m = RunBursts(/*at_start=*/false, 100 * SimulationScale(), 400);
  Summarize("burst of 10 errors in 20 requests, full window", m);
  EXPECT_EQ(m.paged, m.incidents);
  EXPECT_LE(Percentile(m.requests_to_page, 100), kBurstPageWithinRequests);
}

TEST(ErrorRateSimulation, ABurstRightAfterTheStartPagesOnceWithinNRequests) {
  const Measured m = RunBursts(/*at_start=*/true, 100 * SimulationScale(), 500);
  Summarize("burst of 10 errors in the first 20 requests", m);
  EXPECT_EQ(m.paged, m.incidents);
  EXPECT_LE(Percentile(m.requests_to_page, 100), kBurstPageWithinRequests);
}

// ---- Thin evidence ----------------------------------------------------------------------------

// Story a over many seeds: one 5xx among the first 21 requests is no evidence of a rate above
// 2 % (P(X >= 1 | n = 21, p = 0.02) = 35 %), and min_errors is 3.
TEST(ErrorRateSimulation, OneErrorRightAfterTheStartNeverPages) {
  const Config config = SimulationConfig();
  const int seeds = 200 * SimulationScale();
  SeedFailures failures;
  for (int i = 0; i < seeds; ++i) {
    Scenario s;
    s.phases = {Requests(21, 4, 1), Traffic(Minutes(3), 4, 0)};
    const uint64_t seed = 600 + static_cast<uint64_t>(i);
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    failures.Check(seed, run.notifications.empty() ? "" : Describe(run));
  }
  failures.ExpectNone("no message");
}

}  // namespace
}  // namespace poolwatch::sim
