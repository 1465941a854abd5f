#include "tests/sim/scenarios.h"

#include <utility>

namespace poolwatch::sim {

Phase Traffic(Millis duration, double rate, double error_probability) {
  Phase phase;
  phase.name = "traffic";
  phase.duration = duration;
  phase.rate = rate;
  phase.kinds.front().error_probability = error_probability;
  return phase;
}

Phase Quiet(Millis duration) {
  Phase phase;
  phase.name = "quiet";
  phase.duration = duration;
  phase.rate = 0;
  return phase;
}

Phase Requests(uint64_t count, double rate, int64_t errors) {
  Phase phase;
  phase.name = "requests";
  phase.requests = count;
  phase.rate = rate;
  phase.exact_errors = errors;
  return phase;
}

Phase PrimaryDown(Millis duration, double rate) {
  Phase phase = Traffic(duration, rate, 0);
  phase.name = "primary down";
  phase.serving = Serving::kFailover;
  return phase;
}

Phase WithLatency(Phase phase, LatencyModel latency) {
  phase.latency = latency;
  return phase;
}

Phase WithCanary(Phase phase, std::string release, double share, double error_probability) {
  phase.canary = CanarySpec{std::move(release), share, error_probability};
  return phase;
}

Phase AsIncident(Phase phase) {
  phase.incident = true;
  return phase;
}

Phase AfterRotation(Phase phase) {
  phase.new_file = true;
  return phase;
}

Scenario ThinEvidenceStory() {
  // Four requests a second keeps the log small, and makes the first judged window (the first
  // evaluation, at a log second, with min_requests=20 in it) hold a count around 20.
  constexpr double kRate = 4;
  Scenario s;
  s.name = "thin evidence";
  s.phases = {Requests(21, kRate, 1), Traffic(Minutes(6), kRate, 0),
              AsIncident(Traffic(Minutes(2), kRate, 0.10)), Traffic(Minutes(5), kRate, 0)};
  return s;
}

Scenario FalseAllClearStory() {
  constexpr double kRate = 4;
  Phase failing = AsIncident(Traffic(Minutes(5), kRate, 0));
  failing.name = "POSTs failing";
  failing.kinds = {RequestKind{"GET", "/api/items", 0.5, 0},
                   RequestKind{"POST", "/api/orders", 0.5, 0.05}};
  Scenario s;
  s.name = "false all-clear";
  s.phases = {Traffic(Minutes(2), kRate, 0), failing, Traffic(Minutes(5), kRate, 0)};
  for (Phase& phase : s.phases) {
    if (phase.kinds.size() == 1) {
      phase.kinds = {RequestKind{"GET", "/api/items", 0.5, 0},
                     RequestKind{"POST", "/api/orders", 0.5, 0}};
    }
  }
  return s;
}

}  // namespace poolwatch::sim
