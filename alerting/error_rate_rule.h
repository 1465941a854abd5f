#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alerting/rule.h"
#include "alerting/window.h"

namespace poolwatch {

// error_rate: share of errors over the last `window_size` requests (scope client: the status
// the client got, 5xx) or upstream attempts (scope upstream: one window and one alert per pool,
// labelled {pool}; an attempt with a 5xx or no response at all counts as an error, so a failing
// primary that nginx hides by retrying on the backup still shows). Fires when the rate exceeds
// threshold_percent with at least min_requests entries; resolves when it falls to
// ResolveThreshold() (hysteresis) or when fewer than min_requests entries remain after max_age
// expiry (a quiet period resolves an old burst).
class ErrorRateRule : public Rule {
 public:
  // Upstream scope keeps at most this many pools (label cardinality stays bounded even if the
  // pool resolver invents names).
  static constexpr size_t kMaxPools = 32;

  explicit ErrorRateRule(RuleConfig config);

  void Observe(const LogRecord& record) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  std::string_view serving_pool() const override { return serving_; }
  void ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) override;

  const SlidingWindow& window(size_t i) const { return instances_[i].window; }

 private:
  struct Instance {
    std::string pool;  // "" for client scope
    SlidingWindow window;
  };
  size_t MinRequests() const;
  int FindOrAddPool(std::string_view pool);
  std::vector<std::pair<std::string, std::string>> Fields(size_t i) const;

  std::vector<Instance> instances_;  // parallel to conditions_
  size_t last_pool_index_ = 0;       // consecutive attempts usually hit the same pool
  std::string serving_;
};

}  // namespace poolwatch
