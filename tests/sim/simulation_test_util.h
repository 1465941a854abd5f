#pragma once

// Shared by the *_simulation_test.cc files: how many seeds to run, and summaries of what the
// runs measured.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/sim/replay_harness.h"
#include "tests/sim/scenarios.h"

namespace poolwatch::sim {

// POOLWATCH_SIM_SCALE=N runs N times the seeds (or simulated days): for measuring tables with
// more precision than the suite needs to pass. Default 1.
inline int SimulationScale() {
  const char* value = std::getenv("POOLWATCH_SIM_SCALE");
  const int scale = value == nullptr ? 1 : std::atoi(value);
  return std::max(scale, 1);
}

// The p-th percentile (0-100) of `values`, nearest rank; 0 when empty.
inline uint64_t Percentile(std::vector<uint64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(p / 100 * static_cast<double>(values.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

inline std::string Distribution(const std::vector<uint64_t>& values) {
  return "n=" + std::to_string(values.size()) + " p50=" + std::to_string(Percentile(values, 50)) +
         " p90=" + std::to_string(Percentile(values, 90)) +
         " p99=" + std::to_string(Percentile(values, 99)) +
         " max=" + std::to_string(Percentile(values, 100));
}

inline std::string Describe(const SimRun& run) {
  std::string out = "incidents:";
  for (const Incident& incident : run.incidents) {
    out += " [" + FormatRfc3339(incident.begin) + " .. " + FormatRfc3339(incident.end) + "]";
  }
  out += "\nnotifications:\n";
  for (const SentNotification& n : run.notifications) {
    out += "  " + FormatRfc3339(n.at) + " " + n.rule + (n.firing ? " firing" : " resolved") +
           " (after " + std::to_string(n.requests) + " requests, suppressed " +
           std::to_string(n.suppressed) + ")\n";
  }
  return out;
}

// What is wrong with a run where every incident should get exactly one firing and one
// resolution of its rule, the resolution once the incident is over, and no rule should send
// anything else; "" when nothing is.
inline std::string OnePagePerIncidentViolations(const SimRun& run, const RunOutcome& report) {
  std::string problems;
  for (size_t i = 0; i < report.incidents.size(); ++i) {
    const IncidentOutcome& r = report.incidents[i];
    if (r.firings != 1 || r.resolutions != 1 || r.false_resolutions != 0) {
      problems += "incident " + std::to_string(i) + ": " + std::to_string(r.firings) +
                  " firings, " + std::to_string(r.resolutions) + " resolutions (" +
                  std::to_string(r.false_resolutions) + " while it was on); ";
    }
  }
  if (report.false_pages != 0) {
    problems += std::to_string(report.false_pages) + " pages outside every incident; ";
  }
  if (report.pages_of_other_rules != 0) {
    problems += std::to_string(report.pages_of_other_rules) + " pages of other rules; ";
  }
  if (report.incidents.empty()) problems += "no incident in the truth; ";
  if (!problems.empty()) problems.append("\n").append(Describe(run));
  return problems;
}

// Counts the seeds whose runs break a promise; shows the first few in full.
class SeedFailures {
 public:
  void Check(uint64_t seed, const std::string& problems) {
    ++seeds_;
    if (problems.empty()) return;
    if (++failures_ <= 3) ADD_FAILURE() << "seed " << seed << ": " << problems;
  }
  void ExpectNone(const std::string& what) const {
    EXPECT_EQ(failures_, 0) << what << ": " << failures_ << " of " << seeds_
                            << " seeds broke it (the first 3 are shown above)";
  }

 private:
  int seeds_ = 0;
  int failures_ = 0;
};

}  // namespace poolwatch::sim
