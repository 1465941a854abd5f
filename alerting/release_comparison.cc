#include "alerting/release_comparison.h"

#include <algorithm>
#include <cmath>

#include "alerting/evidence.h"

namespace poolwatch {
namespace {

// The chance that a service failing at `rate` gives at most `errors` errors in `requests`.
// Summed from `errors` down: the rates asked about are above errors / requests, where those
// terms shrink at least geometrically.
double BinomialLowerTail(uint64_t requests, uint64_t errors, double rate) {
  if (errors >= requests || rate <= 0) return 1;
  if (rate >= 1) return 0;
  const double n = static_cast<double>(requests);
  double k = static_cast<double>(errors);
  double term = std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) +
                         k * std::log(rate) + (n - k) * std::log1p(-rate));
  const double odds = (1 - rate) / rate;
  double sum = 0;
  for (; k >= 0; k -= 1) {
    sum += term;
    if (term < sum * 1e-15 && k < n * rate) break;
    term *= k / (n - k + 1) * odds;
  }
  return std::min(sum, 1.0);
}

}  // namespace

RegressionSettings RegressionSettings::Of(const RuleConfig& config) {
  return RegressionSettings{config.min_increase_points, config.min_ratio, config.min_requests,
                            config.confidence_percent};
}

double RateUpperBound(uint64_t requests, uint64_t errors, double confidence) {
  if (requests == 0 || errors >= requests) return 1;
  const double alpha = 1 - confidence;
  if (errors == 0) return 1 - std::pow(alpha, 1 / static_cast<double>(requests));
  // The lower tail falls as the rate rises: bisect for the rate where it is alpha.
  double low = static_cast<double>(errors) / static_cast<double>(requests);
  double high = 1;
  // To a relative 1e-4 of the rate: far finer than the bound it feeds needs to be.
  for (int i = 0; i < 60 && high - low > 1e-4 * low; ++i) {
    const double mid = (low + high) / 2;
    if (BinomialLowerTail(requests, errors, mid) > alpha) {
      low = mid;
    } else {
      high = mid;
    }
  }
  return high;
}

RegressionJudgement CompareWithBaseline(uint64_t release_requests, uint64_t release_errors,
                                        uint64_t baseline_requests, uint64_t baseline_errors,
                                        const RegressionSettings& settings,
                                        bool test_significance) {
  RegressionJudgement out;
  auto bound = [&](double baseline_rate) {
    return std::max(baseline_rate + settings.min_increase_points / 100,
                    baseline_rate * settings.min_ratio);
  };
  const double baseline_rate = baseline_requests == 0 ? 0
                                                      : static_cast<double>(baseline_errors) /
                                                            static_cast<double>(baseline_requests);
  out.bound_percent = 100 * bound(baseline_rate);
  const uint64_t min_requests = std::max<uint64_t>(settings.min_requests, 1);
  if (release_requests < min_requests || baseline_requests < min_requests) {
    out.finding = RegressionFinding::kTooFewRequests;
    return out;
  }
  const double release_rate =
      static_cast<double>(release_errors) / static_cast<double>(release_requests);
  if (release_rate <= out.bound_percent / 100) {
    out.finding = RegressionFinding::kNotWorse;
    return out;
  }
  if (!test_significance) {
    out.finding = RegressionFinding::kNotSignificant;
    return out;
  }
  // Only now the exact test, which costs a few thousand operations: most evaluations stop above.
  const double alpha = 1 - settings.confidence_percent / 100;
  const double high_baseline = RateUpperBound(baseline_requests, baseline_errors, 1 - alpha / 2);
  const double test_bound = bound(high_baseline);
  const bool significant =
      test_bound < 1 &&
      static_cast<double>(release_errors) > test_bound * static_cast<double>(release_requests) &&
      BinomialUpperTail(release_requests, release_errors, test_bound) <= alpha / 2;
  out.finding = significant ? RegressionFinding::kWorse : RegressionFinding::kNotSignificant;
  return out;
}

}  // namespace poolwatch
