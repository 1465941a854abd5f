#pragma once

#include <cstdint>

#include "alerting/alerting_config.h"

namespace poolwatch {

// The test release_regression and the rollout verdict share: is a release's 5xx share worse
// than its baseline's (the other releases it is compared with)? Pure.
//
// Worse means above the bound max(baseline + min_increase_points, baseline × min_ratio), with
// at least min_requests requests on each side, and significantly so at `confidence`. The
// significance test accounts for chance on both sides, so a small baseline that happened to see
// few errors does not make its bound look low:
//   1. the baseline's rate is taken at its upper confidence bound (Clopper-Pearson, exact, at
//      1 - α/2 with α = 1 - confidence), and the bound is computed from that;
//   2. the release's errors must be more than a release failing at exactly that bound would give
//      with a chance of α/2 (BinomialUpperTail, evidence.h).
// When both releases fail at the same rate, the first step overstates the baseline except with
// chance α/2, and then the second step fires with chance at most α/2: a false finding has a
// chance of at most α per judgement, however the requests are split. (Judgements at successive
// evaluations overlap in their requests, so that is not α per evaluation; the simulation test
// measures the false pages per day.)
struct RegressionSettings {
  double min_increase_points = 1;
  double min_ratio = 2;
  uint64_t min_requests = 100;
  double confidence_percent = 99.9;

  // A release_regression rule's settings.
  static RegressionSettings Of(const RuleConfig& config);
};

enum class RegressionFinding {
  kTooFewRequests,  // fewer than min_requests on either side: not judged
  kNotWorse,        // the release's share is at or below the bound
  kNotSignificant,  // above the bound, but chance could explain it
  kWorse,           // significantly above the bound
};

struct RegressionJudgement {
  RegressionFinding finding = RegressionFinding::kTooFewRequests;
  // The share (percent) the release is compared with: max(baseline + min_increase_points,
  // baseline × min_ratio), from the baseline's observed share.
  double bound_percent = 0;
};

// With test_significance false, a release above the bound is kNotSignificant without the exact
// test (which costs a few thousand operations): for an alert already firing, which stays firing
// above the bound either way.
RegressionJudgement CompareWithBaseline(uint64_t release_requests, uint64_t release_errors,
                                        uint64_t baseline_requests, uint64_t baseline_errors,
                                        const RegressionSettings& settings,
                                        bool test_significance = true);

// The upper end of the one-sided `confidence` interval (0..1) of a rate seen as `errors` in
// `requests` (Clopper-Pearson: the rate at which that few errors or fewer have a chance of
// 1 - confidence). 1 without requests.
double RateUpperBound(uint64_t requests, uint64_t errors, double confidence);

}  // namespace poolwatch
