// The failover rule over simulated traffic: nginx fails over to the backup when the primary
// is down (probing it once per fail_timeout), and back once it answers again. One incident,
// one page and one all-clear, also when the primary flaps. Default configuration.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "tests/sim/simulation_test_util.h"

namespace poolwatch::sim {
namespace {

constexpr double kRate = 10;

struct FailoverStats {
  std::vector<uint64_t> seconds_to_page;
  std::vector<uint64_t> seconds_to_resolve;  // after the primary was healthy again
};

void Record(const RunOutcome& report, FailoverStats& stats) {
  for (const IncidentOutcome& r : report.incidents) {
    if (r.time_to_page) {
      stats.seconds_to_page.push_back(
          static_cast<uint64_t>(std::chrono::duration_cast<Seconds>(*r.time_to_page).count()));
    }
    if (r.resolved_after_end && *r.resolved_after_end >= Clock::duration::zero()) {
      stats.seconds_to_resolve.push_back(static_cast<uint64_t>(
          std::chrono::duration_cast<Seconds>(*r.resolved_after_end).count()));
    }
  }
}

// The primary is down for 1-5 minutes, then healthy for 10: one firing when traffic leaves it,
// one resolution after it is back (nginx returns within fail_timeout = 5 s of the recovery,
// then the all-clear waits for 30 s and 10 requests on the primary).
TEST(FailoverSimulation, AFailoverWithRecoveryPagesOnceAndResolvesOnce) {
  const Config config = SimulationConfig();
  const int seeds = 100 * SimulationScale();
  SeedFailures failures;
  FailoverStats stats;
  for (int i = 0; i < seeds; ++i) {
    const uint64_t seed = 1000 + static_cast<uint64_t>(i);
    Scenario s;
    s.phases = {Traffic(Minutes(5), kRate, 0),
                AsIncident(PrimaryDown(Seconds(60 + 60 * (seed % 5)), kRate)),
                Traffic(Minutes(10), kRate, 0)};
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    const RunOutcome report = Judge(run, "failover", Minutes(1));
    failures.Check(seed, OnePagePerIncidentViolations(run, report));
    Record(report, stats);
  }
  failures.ExpectNone("one failover page, one all-clear after the recovery");
  std::printf("failover: seconds to page %s\n  seconds from the recovery to the all-clear %s\n",
              Distribution(stats.seconds_to_page).c_str(),
              Distribution(stats.seconds_to_resolve).c_str());
  // The first request after the primary went down is retried on the backup: paged at once.
  EXPECT_LE(Percentile(stats.seconds_to_page, 100), 2u);
}

// The primary is out for 5 s and back for 5 s, again and again for 2-3 minutes, then stable:
// traffic never stays on the primary for the 30 s the all-clear needs until the flapping stops,
// so it is one incident with one page and one all-clear.
TEST(FailoverSimulation, AFlappingPrimaryPagesOnceAndResolvesOnce) {
  const Config config = SimulationConfig();
  const int seeds = 100 * SimulationScale();
  SeedFailures failures;
  FailoverStats stats;
  for (int i = 0; i < seeds; ++i) {
    const uint64_t seed = 2000 + static_cast<uint64_t>(i);
    Scenario s;
    s.phases = {Traffic(Minutes(5), kRate, 0)};
    const int flaps = 12 + static_cast<int>(seed % 7);  // 2 to 3 minutes
    for (int flap = 0; flap < flaps; ++flap) {
      s.phases.push_back(AsIncident(PrimaryDown(Seconds(5), kRate)));
      s.phases.push_back(AsIncident(Traffic(Seconds(5), kRate, 0)));
    }
    s.phases.push_back(Traffic(Minutes(10), kRate, 0));
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    const RunOutcome report = Judge(run, "failover", Minutes(1));
    failures.Check(seed, OnePagePerIncidentViolations(run, report));
    Record(report, stats);
  }
  failures.ExpectNone("one failover page and one all-clear for the whole flapping");
  std::printf("flapping: seconds to page %s\n  seconds from the end to the all-clear %s\n",
              Distribution(stats.seconds_to_page).c_str(),
              Distribution(stats.seconds_to_resolve).c_str());
}

}  // namespace
}  // namespace poolwatch::sim
