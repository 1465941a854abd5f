#pragma once

#include <string_view>

namespace poolwatch {

// What the alerting pipeline decided for one alert at one evaluation. Every evaluation has
// one, so "why did (not) I get paged?" always has an answer; the names are stable because
// they are label values of poolwatch_alert_decisions_total{rule,decision} and appear in logs.
enum class Decision {
  kFired,               // "fired": a firing message went out
  kResolved,            // "resolved": the condition cleared (message sent unless send_resolved off)
  kRepeated,            // "repeated": repeat_interval re-sent a still-firing alert
  kFiring,              // "firing": still firing and already announced; nothing to send
  kSuppressedCooldown,  // "in_cooldown": a (re)firing swallowed by the cooldown, counted
  kBelowThreshold,      // "below_threshold": the condition does not hold
  kTooFewRequests,      // "too_few_requests": not enough data to judge (min_requests, no traffic)
  kNotSignificant,      // "not_significant": above the threshold in a part-filled window, on
                        // too little evidence (min_errors, confidence)
  kResolving,           // "resolving": firing, clear now, not yet for resolve_for/resolve_requests
  kPending,             // "pending": the condition holds but not yet for `for`
  kMaintenance,         // "in_maintenance": muted by maintenance mode
  kInhibited,           // "inhibited": muted by a firing failover away from the same pool
};

inline constexpr Decision kAllDecisions[] = {
    Decision::kFired,          Decision::kResolved,           Decision::kRepeated,
    Decision::kFiring,         Decision::kSuppressedCooldown, Decision::kBelowThreshold,
    Decision::kTooFewRequests, Decision::kNotSignificant,     Decision::kResolving,
    Decision::kPending,        Decision::kMaintenance,        Decision::kInhibited,
};

constexpr std::string_view DecisionName(Decision decision) {
  switch (decision) {
    case Decision::kFired:
      return "fired";
    case Decision::kResolved:
      return "resolved";
    case Decision::kRepeated:
      return "repeated";
    case Decision::kFiring:
      return "firing";
    case Decision::kSuppressedCooldown:
      return "in_cooldown";
    case Decision::kBelowThreshold:
      return "below_threshold";
    case Decision::kTooFewRequests:
      return "too_few_requests";
    case Decision::kNotSignificant:
      return "not_significant";
    case Decision::kResolving:
      return "resolving";
    case Decision::kPending:
      return "pending";
    case Decision::kMaintenance:
      return "in_maintenance";
    case Decision::kInhibited:
      return "inhibited";
  }
  return "unknown";
}

}  // namespace poolwatch
