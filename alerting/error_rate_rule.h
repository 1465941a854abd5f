#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alerting/clear_stretch.h"
#include "alerting/rule.h"
#include "alerting/window.h"

namespace poolwatch {

// error_rate: share of errors over the last `window_size` requests (scope client: the status
// the client got, 5xx) or upstream attempts (scope upstream: one window and one alert per pool,
// labelled {pool}; an attempt with a 5xx or no response at all counts as an error, so a failing
// primary that nginx hides by retrying on the backup still shows).
//
// Fires when a full window's rate exceeds threshold_percent (the seed's rule), or when a
// part-filled one (at start, or kept short by max_age at low traffic) holds evidence of it
// (ShowsRateAbove: min_errors errors, significant at `confidence`); never on fewer than
// min_requests entries. Resolves only when the rate has stayed at or below ResolveThreshold()
// for ResolveFor() and over ResolveRequests() new entries (or, at traffic too low to bring them,
// for two max_ages): a chance dip in the middle of an incident is not an all-clear.
class ErrorRateRule : public Rule {
 public:
  // Upstream scope keeps at most this many pools (label cardinality stays bounded even if the
  // pool resolver invents names).
  static constexpr size_t kMaxPools = 32;

  explicit ErrorRateRule(RuleConfig config);

  using Rule::Observe;
  void Observe(const LogRecord& record, std::string_view serving_pool) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  std::string_view serving_pool() const override { return serving_; }
  void ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) override;
  void RestoreActive(size_t i, TimePoint since) override;

  const SlidingWindow& window(size_t i) const { return instances_[i].window; }

 private:
  struct Instance {
    std::string pool;  // "" for client scope
    SlidingWindow window;
    ClearStretch clear{};    // while firing: at or below the resolve threshold since when
    TimePoint cleared_at{};  // when the last clear stretch resolved the alert
  };
  double ResolvePercent() const {
    return std::min(config_.ResolveThreshold(), config_.threshold_percent);
  }
  // The firing test on the window as it is now: kFiring, or why not.
  Decision Judge(const SlidingWindow& window) const;
  int FindOrAddPool(std::string_view pool);
  // FindOrAddPool's rare part, out of line: the per-attempt lookup then needs no stack frame
  // for a string and a condition.
  int AddPool(std::string_view pool);
  std::vector<std::pair<std::string, std::string>> Fields(size_t i) const;

  std::vector<Instance> instances_;  // parallel to conditions_
  size_t last_pool_index_ = 0;       // consecutive attempts usually hit the same pool
  std::string serving_;
  TimePoint last_evaluated_{};
};

}  // namespace poolwatch
