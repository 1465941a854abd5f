#include "alerting/evidence.h"

#include <cmath>

namespace poolwatch {

double BinomialUpperTail(size_t requests, size_t errors, double rate) {
  if (errors == 0) return 1;
  if (errors > requests) return 0;
  if (rate <= 0) return 0;
  if (rate >= 1) return 1;
  const double n = static_cast<double>(requests);
  double k = static_cast<double>(errors);
  // The first term in log space (no overflow for large windows), then each next term from the
  // one before. Above the mean the terms shrink at least geometrically, so the sum stops after a
  // few dozen; below it (never the case when deciding to fire) it runs to the end.
  double term = std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1) +
                         k * std::log(rate) + (n - k) * std::log1p(-rate));
  const double odds = rate / (1 - rate);
  double sum = 0;
  for (; k <= n; k += 1) {
    sum += term;
    // Above the mean every later term is smaller: one that underflowed to 0 ends the sum (else
    // a tail too small for a double would walk all n terms: seconds for days of slo counts).
    if ((term < sum * 1e-15 || term == 0) && k > n * rate) break;
    term *= (n - k) / (k + 1) * odds;
  }
  return sum < 1 ? sum : 1;
}

bool ShowsRateAbove(size_t requests, size_t errors, double rate, size_t min_errors,
                    double confidence_percent) {
  if (requests == 0 || errors < min_errors) return false;
  if (static_cast<double>(errors) <= rate * static_cast<double>(requests)) return false;
  return BinomialUpperTail(requests, errors, rate) <= 1 - confidence_percent / 100;
}

}  // namespace poolwatch
