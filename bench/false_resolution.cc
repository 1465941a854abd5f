// How often the error_rate rule's defaults give a false all-clear: a service fails steadily at a
// given rate for many simulated hours, the rule (as shipped, with its default resolve_for,
// resolve_requests and hysteresis) is evaluated once a second, and every resolution is false.
// Also how long a real recovery takes to resolve. Pure rule, no parsing: hours run in seconds.
//
//   poolwatch-false-resolution [hours] [seed]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "alerting/error_rate_rule.h"

namespace {

using poolwatch::Clock;
using poolwatch::ErrorRateRule;
using poolwatch::LogRecord;
using poolwatch::RuleConfig;
using poolwatch::RuleKind;
using poolwatch::TimePoint;

RuleConfig Defaults() {
  RuleConfig config;
  config.name = "error_rate";
  config.kind = RuleKind::kErrorRate;
  return config;
}

struct Result {
  long resolutions = 0;  // while failing: all false
  long firings = 0;
  double recovery_seconds = 0;  // from the end of the failure to the resolution
};

// `hours` of failure at `error_rate` (0..1) with `per_second` requests a second (Poisson), then
// healthy traffic until the alert resolves.
Result Run(double per_second, double error_rate, double hours, uint64_t seed) {
  ErrorRateRule rule(Defaults());
  std::mt19937_64 random(seed);
  std::exponential_distribution<double> gap(per_second);
  std::bernoulli_distribution failing(error_rate);
  LogRecord record;
  record.pool = "blue";
  const TimePoint start = TimePoint{} + std::chrono::hours(24 * 365 * 50);
  auto at = [&](double s) {
    return start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  Result result;
  bool active = false;
  double t = 0;
  double next_evaluation = 1;
  const double end = hours * 3600;
  while (true) {
    t += gap(random);
    while (next_evaluation <= t) {
      rule.Evaluate(at(next_evaluation));
      const bool now_active = rule.conditions()[0].active;
      if (now_active && !active) ++result.firings;
      if (!now_active && active) {
        if (next_evaluation <= end) {
          ++result.resolutions;
        } else {
          result.recovery_seconds = next_evaluation - end;
          return result;
        }
      }
      active = now_active;
      next_evaluation += 1;
    }
    record.time = at(t);
    record.status = t <= end && failing(random) ? 500 : 200;
    rule.Observe(record);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const double hours = argc > 1 ? std::atof(argv[1]) : 1000;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  std::printf("threshold 2 %%, window 200, resolve at or below 1 %% for 60 s and 400 requests\n");
  std::printf("%-9s %-11s %-9s %-9s %-21s %s\n", "req/s", "error rate", "hours", "firings",
              "false resolutions", "resolved after recovery");
  for (double per_second : {1.0, 10.0, 100.0}) {
    for (double error_rate : {0.03, 0.04, 0.10}) {
      // The same number of requests per row: low traffic gets more hours.
      const double row_hours = hours * 10 / per_second;
      const Result r = Run(per_second, error_rate, row_hours, seed);
      std::printf("%-9.0f %-11.0f %-9.0f %-9ld %-21ld %.0f s\n", per_second, error_rate * 100,
                  row_hours, r.firings, r.resolutions, r.recovery_seconds);
    }
  }
  return 0;
}
