#pragma once

// Records, times and rule conditions for the alerting tests. Pool names are string literals, so the
// records' views stay valid for the whole test.

#include <chrono>
#include <initializer_list>
#include <string_view>

#include "alerting/rule.h"
#include "core/log_record.h"

namespace poolwatch::testing {

// Log time `seconds` after a fixed instant (2023-11-14T22:13:20Z).
inline TimePoint At(double seconds) {
  return TimePoint{} + std::chrono::seconds(1'700'000'000) +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

inline UpstreamAttempt Attempt(std::string_view pool, int status) {
  UpstreamAttempt a;
  a.address = pool == "blue" ? "127.0.0.1:8081" : "127.0.0.1:8082";
  a.status = status;
  a.response_time = 0.01;
  a.pool = pool;
  return a;
}

// A request answered by `pool` with `status`; attempts default to one attempt on that pool.
inline LogRecord Request(double seconds, std::string_view pool, int status = 200,
                         std::initializer_list<UpstreamAttempt> attempts = {},
                         std::string_view release = "v1.0.0") {
  LogRecord r;
  r.time = At(seconds);
  r.status = status;
  r.pool = pool;
  r.release = release;
  r.request_time = 0.012;
  if (attempts.size() == 0) {
    r.attempts.push_back(Attempt(pool, status));
  } else {
    r.attempts.assign(attempts.begin(), attempts.end());
  }
  return r;
}

// nginx's failover: blue answers 500, nginx retries on green, the client gets green's 200.
inline LogRecord Retried(double seconds) {
  return Request(seconds, "green", 200, {Attempt("blue", 500), Attempt("green", 200)}, "v2.0.0");
}

// A rule's condition as the policy sees it: active (breaching) or not, with the episodes that
// began since the last evaluation.
inline AlertCondition Active(int started = 0) {
  AlertCondition c;
  c.active = true;
  c.breaching = true;
  c.reason = Decision::kFiring;
  c.episodes_started = started;
  return c;
}

// Still active, but clear now: not yet clear for long enough to resolve.
inline AlertCondition Resolving() {
  AlertCondition c;
  c.active = true;
  c.breaching = false;
  c.reason = Decision::kResolving;
  return c;
}

inline AlertCondition Inactive(int started = 0, Decision reason = Decision::kBelowThreshold) {
  AlertCondition c;
  c.active = false;
  c.reason = reason;
  c.episodes_started = started;
  return c;
}

// The rule resolves as soon as its condition clears (the seed's behaviour): for tests about
// something else than sustained resolution.
inline RuleConfig ResolvingAtOnce(RuleConfig config) {
  config.resolve_for = std::chrono::milliseconds(0);
  config.resolve_requests = 0;
  return config;
}

}  // namespace poolwatch::testing
