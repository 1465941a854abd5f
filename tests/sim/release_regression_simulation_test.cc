// kind release_regression over simulated traffic, judged over many seeds against the truth:
// two releases of the primary pool failing at the same rate must never page, at small and large
// volumes; a release that fails more (3 % vs 0.1 %, 5 % vs 1 %) pages once, within a bounded
// number of requests, and resolves once after it is fixed. `kind: release_regression` with its
// defaults: window 5m, min_increase_points 1, min_ratio 2, min_requests 100 a side, confidence
// 99.9, resolving after 60 s and 200 of the release's requests, cooldown 300 s.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/sim/simulation_test_util.h"

namespace poolwatch::sim {
namespace {

const std::string kRuleYaml =
    "alerting:\n  rules:\n    - name: release_regression\n      kind: release_regression\n";

// False pages per simulated day when the canary v1.1.0 fails exactly as often as v1.0.0, the
// rest of the primary's traffic. Both halves of the test (chance in the baseline, chance in the
// release) are bounded by α / 2 per judgement, and the 1-point margin is far above the noise of
// a 5-minute window at these rates, so the expected count is 0.
TEST(ReleaseRegressionSimulation, EqualReleasesNeverPage) {
  struct Row {
    double rate;     // requests per second, both releases
    double share;    // the canary's share
    double percent;  // both releases' 5xx share
    int hours;
  };
  // Small volume (2 requests/s: the canary's 5-minute window barely holds min_requests at a
  // 10 % share) to large (100 requests/s); rates from 0.1 % to 10 %, where the ratio bound
  // (× 2) is the one that matters.
  const Row rows[] = {{2, 0.5, 1, 24},  {2, 0.1, 5, 24},  {20, 0.5, 0.1, 24},
                      {20, 0.1, 2, 24}, {100, 0.5, 1, 6}, {100, 0.05, 10, 6}};
  const Config config = SimulationConfig(kRuleYaml);
  const int scale = SimulationScale();
  std::printf("req/s  canary share  5xx %%  simulated hours  false pages  per day\n");
  for (size_t r = 0; r < std::size(rows); ++r) {
    const Row& row = rows[r];
    int pages = 0;
    for (int run = 0; run < scale; ++run) {
      Scenario s;
      s.phases = {WithCanary(Traffic(std::chrono::hours(row.hours), row.rate, row.percent / 100),
                             "v1.1.0", row.share, row.percent / 100)};
      const SimRun run_result =
          RunThroughReplayPipeline(s, 15000 + 100 * r + static_cast<uint64_t>(run), config);
      ASSERT_EQ(run_result.malformed, 0u);
      const RunOutcome report = Judge(run_result, "release_regression", Seconds(0));
      pages += report.false_pages;
      EXPECT_EQ(report.pages_of_other_rules, 0);
    }
    const double hours = static_cast<double>(row.hours * scale);
    std::printf("%5.0f  %12.2f  %5.1f  %15.0f  %11d  %7.3f\n", row.rate, row.share, row.percent,
                hours, pages, pages / hours * 24);
    EXPECT_EQ(pages, 0) << "row " << r;
  }
}

// A regression: 10 minutes of both releases at the baseline's rate, then 20 minutes in which
// the canary fails at `bad` (the truth's incident), then 20 minutes fixed again. Every seed
// must page once during the incident and resolve once after it; the requests and time to the
// page are reported as distributions (requests of both releases, from the incident's start).
struct Regression {
  double rate;
  double share;
  double baseline_percent;
  double bad_percent;
};

void ExpectPagesOnce(const Regression& g, int seeds, uint64_t seed_base) {
  const Config config = SimulationConfig(kRuleYaml);
  std::vector<uint64_t> requests;
  std::vector<uint64_t> seconds;
  for (int i = 0; i < seeds; ++i) {
    const double p0 = g.baseline_percent / 100;
    Scenario s;
    s.phases = {
        WithCanary(Traffic(Minutes(10), g.rate, p0), "v1.1.0", g.share, p0),
        AsIncident(
            WithCanary(Traffic(Minutes(20), g.rate, p0), "v1.1.0", g.share, g.bad_percent / 100)),
        WithCanary(Traffic(Minutes(20), g.rate, p0), "v1.1.0", g.share, p0),
    };
    const uint64_t seed = seed_base + static_cast<uint64_t>(i);
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    // A page comes once the window holds enough of the bad release: within its 20 minutes;
    // the resolution comes after the bad requests left the window (5 minutes) and 60 s more.
    const RunOutcome report = Judge(run, "release_regression", Seconds(0));
    EXPECT_EQ(OnePagePerIncidentViolations(run, report), "") << "seed " << seed;
    ASSERT_EQ(report.incidents.size(), 1u);
    const IncidentOutcome& o = report.incidents[0];
    if (o.requests_to_page) requests.push_back(*o.requests_to_page);
    if (o.time_to_page) {
      seconds.push_back(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::seconds>(*o.time_to_page).count()));
    }
    if (o.resolved_after_end) {
      EXPECT_LE(*o.resolved_after_end, Minutes(8)) << "seed " << seed;
    }
  }
  std::printf("%.0f req/s, canary %.0f %%: %.1f %% vs %.1f %%: requests to page %s; seconds %s\n",
              g.rate, g.share * 100, g.bad_percent, g.baseline_percent,
              Distribution(requests).c_str(), Distribution(seconds).c_str());
  ASSERT_EQ(requests.size(), static_cast<size_t>(seeds));
}

TEST(ReleaseRegressionSimulation, ThreePercentAgainstATenthPagesOnceAndResolves) {
  ExpectPagesOnce({10, 0.5, 0.1, 3}, 40 * SimulationScale(), 16000);
}

// 5 % against 1 % is a ratio of 5 over a noisier baseline: at 10 requests/s (1,500 a release in
// the window) the exact test pages in 34 of 40 seeds within the incident's 20 minutes (measured;
// the baseline's upper bound at 99.95 % is about 2 %, its bound 4 %, and 5 % of 1,500 is not
// always significantly above that). At 40 requests/s it always does.
TEST(ReleaseRegressionSimulation, FivePercentAgainstOnePagesOnceAndResolves) {
  ExpectPagesOnce({40, 0.5, 1, 5}, 40 * SimulationScale(), 17000);
}

TEST(ReleaseRegressionSimulation, ASmallCanaryAtHighVolumePagesOnce) {
  ExpectPagesOnce({100, 0.05, 0.1, 3}, 20 * SimulationScale(), 18000);
}

}  // namespace
}  // namespace poolwatch::sim
