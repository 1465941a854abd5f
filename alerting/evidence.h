#pragma once

#include <cstddef>

namespace poolwatch {

// The chance that a service failing at exactly `rate` (0..1) gives at least `errors` errors in
// `requests` requests: the upper tail of the binomial distribution. 1 when errors is 0.
double BinomialUpperTail(size_t requests, size_t errors, double rate);

// Whether `errors` of `requests` show an error rate above `rate`: at least `min_errors` of them,
// and a chance below 1 - confidence_percent / 100 that a service failing at `rate` would give as
// many. Decides firing in part-filled windows, where a share alone overstates thin evidence
// (1 error in 21 requests is 4.8 %).
bool ShowsRateAbove(size_t requests, size_t errors, double rate, size_t min_errors,
                    double confidence_percent);

}  // namespace poolwatch
