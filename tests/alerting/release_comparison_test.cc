#include "alerting/release_comparison.h"

#include <gtest/gtest.h>

#include <random>

namespace poolwatch {
namespace {

RegressionFinding Find(uint64_t n1, uint64_t k1, uint64_t n0, uint64_t k0,
                       RegressionSettings settings = {}) {
  return CompareWithBaseline(n1, k1, n0, k0, settings).finding;
}

TEST(CompareWithBaseline, the_issues_example_is_worse) {
  // v1.1.0: 3.1 % of 1,512 vs v1.0.0: 0.1 % of 1,498.
  EXPECT_EQ(Find(1512, 47, 1498, 2), RegressionFinding::kWorse);
}

TEST(CompareWithBaseline, too_few_requests_on_either_side_is_not_judged) {
  EXPECT_EQ(Find(99, 50, 1000, 0), RegressionFinding::kTooFewRequests);
  EXPECT_EQ(Find(1000, 500, 99, 0), RegressionFinding::kTooFewRequests);
}

TEST(CompareWithBaseline, the_bound_is_the_larger_of_points_and_ratio) {
  // Baseline 0.5 %: + 1 point = 1.5 %, × 2 = 1 %.
  EXPECT_DOUBLE_EQ(CompareWithBaseline(1000, 0, 1000, 5, {}).bound_percent, 1.5);
  // Baseline 4 %: + 1 point = 5 %, × 2 = 8 %.
  EXPECT_DOUBLE_EQ(CompareWithBaseline(1000, 0, 1000, 40, {}).bound_percent, 8);
  // 7 % against 4 % is below the ratio bound, however many requests.
  EXPECT_EQ(Find(1000000, 70000, 1000000, 40000), RegressionFinding::kNotWorse);
}

TEST(CompareWithBaseline, above_the_bound_on_thin_evidence_is_not_significant) {
  // 3 of 100 (3 %) against 0 of 100: above 1 %, but 0 of 100 says little about the baseline.
  EXPECT_EQ(Find(100, 3, 100, 0), RegressionFinding::kNotSignificant);
  // The same shares over more requests are.
  EXPECT_EQ(Find(5000, 150, 5000, 0), RegressionFinding::kWorse);
}

TEST(CompareWithBaseline, a_lucky_baseline_does_not_make_an_equal_release_worse) {
  // Both fail at 2 %; the baseline saw 0.5 % by chance: the point bound is 1.5 %, but its
  // upper confidence bound keeps a 2 % release from being called worse.
  RegressionSettings settings;
  settings.min_increase_points = 0;
  settings.min_ratio = 2;
  EXPECT_NE(Find(100000, 2000, 200, 1, settings), RegressionFinding::kWorse);
}

TEST(CompareWithBaseline, equal_rates_are_rarely_worse_over_many_random_samples) {
  // 10,000 judgements of two releases failing at the same rate, at several volumes and rates:
  // at 99.9 % confidence, at most a handful may come out worse by chance (expected ≤ 10).
  std::mt19937_64 rng(15);
  int worse = 0;
  int judged = 0;
  RegressionSettings settings;
  settings.min_increase_points = 0;  // the ratio alone: the hardest case for chance
  for (double rate : {0.001, 0.01, 0.05}) {
    for (uint64_t n : {100u, 1000u, 20000u}) {
      std::binomial_distribution<uint64_t> errors(n, rate);
      for (int i = 0; i < 1111; ++i) {
        ++judged;
        if (Find(n, errors(rng), n, errors(rng), settings) == RegressionFinding::kWorse) ++worse;
      }
    }
  }
  EXPECT_GT(judged, 9000);
  EXPECT_LE(worse, 10) << worse << " of " << judged;
}

TEST(RateUpperBound, covers_the_true_rate) {
  // 0 of 1000 at 99.95 %: 1 - 0.0005^(1/1000) ≈ 0.76 %.
  EXPECT_NEAR(RateUpperBound(1000, 0, 0.9995), 0.0076, 0.0002);
  // 10 of 1000: the exact (Clopper-Pearson) one-sided 97.5 % bound is 1.83 %.
  EXPECT_NEAR(RateUpperBound(1000, 10, 0.975), 0.0183, 0.0003);
  EXPECT_DOUBLE_EQ(RateUpperBound(0, 0, 0.99), 1);
  EXPECT_DOUBLE_EQ(RateUpperBound(10, 10, 0.99), 1);
}

}  // namespace
}  // namespace poolwatch
