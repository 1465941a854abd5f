#pragma once

// Building blocks for scenarios, and the two stories of the checked-in regression logs.

#include <string>

#include "tests/sim/traffic_sim.h"

namespace poolwatch::sim {

using Minutes = std::chrono::minutes;
using Seconds = std::chrono::seconds;

// Requests on the primary at `rate` per second, each failing with `error_probability`.
Phase Traffic(Millis duration, double rate, double error_probability);
// No request at all.
Phase Quiet(Millis duration);
// `count` requests at `rate`, exactly `errors` of them failing (a burst, a hiccup).
Phase Requests(uint64_t count, double rate, int64_t errors);
// The primary is down: nginx probes it once per fail_timeout, the backup serves.
Phase PrimaryDown(Millis duration, double rate);
// The same phase with its requests taking the time `latency` says.
Phase WithLatency(Phase phase, LatencyModel latency);
// The same phase with `share` of the primary's requests answered by `release`, failing with
// `error_probability`.
Phase WithCanary(Phase phase, std::string release, double share, double error_probability);
// The same phase, marked as an incident in the truth.
Phase AsIncident(Phase phase);
// The same phase, written to a new log file (the old one rotated away).
Phase AfterRotation(Phase phase);

// Story a, "a page on thin evidence": one 5xx among the first 21 requests of the log, then
// clean traffic, then one real incident (10 % errors for 2 minutes) and clean traffic again.
Scenario ThinEvidenceStory();
inline constexpr uint64_t kThinEvidenceSeed = 12;  // found by make_sim_logs --search

// Story b, "a false all-clear in the middle of an incident": half the requests are POSTs and
// 5 % of those fail for 5 minutes (2.5 % overall, above the 2 % threshold), between stretches
// of clean traffic.
Scenario FalseAllClearStory();
inline constexpr uint64_t kFalseAllClearSeed = 932;  // found by make_sim_logs --search

}  // namespace poolwatch::sim
