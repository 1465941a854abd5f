#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alerting/clear_stretch.h"
#include "alerting/quantile_window.h"
#include "alerting/rule.h"

namespace poolwatch {

// latency: the primary got slow. Per pool, the nearest-rank `quantile` of the last
// `window_size` durations (entries older than max_age leave too) against `latency_threshold`.
// Scope client: each request's $request_time, by the pool that served it (ServingPoolOf);
// scope upstream: each attempt's $upstream_response_time, by the attempt's pool, so a primary
// whose slowness nginx hides by retrying on the backup still shows. One alert per pool,
// labelled {pool}, in both scopes.
//
// Nearest rank keeps outliers out: the p99 of 200 is the 198th smallest, so it takes 3 slow
// requests to put it above the threshold, and `min_slow` (default 3) asks for at least that
// many in every window. A full window fires on the quantile alone; a part-filled one (at start,
// or kept short by max_age at low traffic) only on evidence that more than 1 - quantile of the
// requests are slow (ShowsRateAbove at `confidence`: above the threshold is what "the quantile
// is above it" means for the share of slow requests); never on fewer than min_requests entries.
// With `for`, the firing test must hold that long (log time) before the alert is active.
//
// Resolves like error_rate: only once the quantile has stayed at or below the resolve
// threshold (90 % of the threshold unless set: a p99 hovering at the threshold is one
// incident, not a page each time it crosses) for ResolveFor() and ResolveRequests() new
// entries, or for two max_ages at traffic too low to bring them.
class LatencyRule : public Rule {
 public:
  // At most this many pools (label cardinality stays bounded even if the pool resolver invents
  // names), as ErrorRateRule.
  static constexpr size_t kMaxPools = 32;
  // Upstream addresses remembered for the message's slowest entry; an entry from an address
  // beyond these is shown without one.
  static constexpr size_t kMaxAddresses = 256;

  explicit LatencyRule(RuleConfig config);

  using Rule::Observe;
  void Observe(const LogRecord& record, std::string_view serving_pool) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  void RestoreActive(size_t i, TimePoint since) override;
  std::string_view serving_pool() const override { return serving_; }
  // Upstream scope: the attempts of `pool` before `ended_at` belong to a failover that already
  // paged (timeouts are slow attempts too).
  void ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) override;

  const QuantileWindow& window(size_t i) const { return instances_[i].window; }

 private:
  struct Instance {
    std::string pool;
    QuantileWindow window;
    // The firing test has held at every evaluation since `breach_since` (for `for`).
    bool breaching = false;
    TimePoint breach_since{};
    ClearStretch clear{};    // while active: at or below the resolve threshold since when
    TimePoint cleared_at{};  // when the last clear stretch resolved the alert
  };

  double ThresholdSeconds() const;
  double ResolveSeconds() const;
  // The firing test on the window as it is now: kFiring, or why not.
  Decision Judge(const QuantileWindow& window) const;
  int FindOrAddPool(std::string_view pool);
  // FindOrAddPool's and AddressTag's rare part, out of line: their per-line lookups then need
  // no stack frame for a string and a condition (half of their instructions).
  int AddPool(std::string_view pool);
  // The tag an entry from `address` carries: 1 + its index in addresses_, 0 when unknown.
  uint16_t AddressTag(std::string_view address);
  uint16_t AddAddress(std::string_view address);
  void Push(std::string_view pool, TimePoint at, double seconds, std::string_view address);
  // "p99", "p99.9", "p50".
  std::string QuantileName() const;
  std::vector<std::pair<std::string, std::string>> Fields(size_t i) const;

  std::vector<Instance> instances_;  // parallel to conditions_
  std::vector<std::string> addresses_;
  size_t last_pool_index_ = 0;  // consecutive records usually hit the same pool
  uint16_t last_address_tag_ = 0;
  std::string serving_;
  TimePoint last_evaluated_{};
};

// A duration in seconds as people read latencies: "742ms", "1.25s", "5s".
std::string FormatLatency(double seconds);

}  // namespace poolwatch
