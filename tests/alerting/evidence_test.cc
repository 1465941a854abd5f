#include "alerting/evidence.h"

#include <gtest/gtest.h>

#include <cmath>

namespace poolwatch {
namespace {

// The tail summed term by term from the definition, for comparison.
double DirectUpperTail(int n, int k, double p) {
  double sum = 0;
  for (int j = k; j <= n; ++j) {
    double binomial = 1;
    for (int i = 1; i <= j; ++i) binomial = binomial * (n - j + i) / i;
    sum += binomial * std::pow(p, j) * std::pow(1 - p, n - j);
  }
  return sum;
}

TEST(Evidence, upper_tail_matches_the_definition) {
  for (int n : {1, 5, 21, 100, 200}) {
    for (int k = 0; k <= n; k += (n > 20 ? 7 : 1)) {
      for (double p : {0.001, 0.02, 0.1, 0.5}) {
        const double expected = DirectUpperTail(n, k, p);
        EXPECT_NEAR(BinomialUpperTail(n, k, p), expected, 1e-9 + expected * 1e-9)
            << n << " " << k << " " << p;
      }
    }
  }
}

TEST(Evidence, upper_tail_edges) {
  EXPECT_EQ(BinomialUpperTail(10, 0, 0.02), 1);
  EXPECT_EQ(BinomialUpperTail(10, 11, 0.02), 0);
  EXPECT_EQ(BinomialUpperTail(10, 3, 0), 0);
  EXPECT_EQ(BinomialUpperTail(10, 3, 1), 1);
  // A large window stays finite (log-space first term).
  const double tail = BinomialUpperTail(1'000'000, 20'500, 0.02);
  EXPECT_GT(tail, 0);
  EXPECT_LT(tail, 0.001);
}

TEST(Evidence, one_error_in_21_requests_is_not_evidence_of_more_than_2_percent) {
  // The page about nothing: 4.76 % on paper, a 35 % chance at 2 %.
  EXPECT_NEAR(BinomialUpperTail(21, 1, 0.02), 1 - std::pow(0.98, 21), 1e-12);
  EXPECT_FALSE(ShowsRateAbove(21, 1, 0.02, 3, 99.9));
}

TEST(Evidence, one_or_two_errors_never_show_it_whatever_the_share) {
  EXPECT_FALSE(ShowsRateAbove(1, 1, 0.02, 3, 99.9));
  EXPECT_FALSE(ShowsRateAbove(2, 2, 0.02, 3, 99.9));
  EXPECT_FALSE(ShowsRateAbove(20, 2, 0.02, 3, 99.9));
}

TEST(Evidence, a_clear_burst_shows_it) {
  EXPECT_TRUE(ShowsRateAbove(20, 10, 0.02, 3, 99.9));
  EXPECT_TRUE(ShowsRateAbove(3, 3, 0.02, 3, 99.9));
  EXPECT_TRUE(ShowsRateAbove(150, 12, 0.02, 3, 99.9));
}

// An slo window of days holds millions of requests: a share far above the rate has a tail
// below what a double holds. It is 0, found from the first term (not by walking every term).
TEST(Evidence, a_tail_too_small_for_a_double_is_zero) {
  EXPECT_EQ(BinomialUpperTail(10'000'000, 2'500'000, 0.144), 0);
  EXPECT_TRUE(ShowsRateAbove(10'000'000, 2'500'000, 0.144, 3, 99.9));
  EXPECT_FALSE(ShowsRateAbove(10'000'000, 1'440'000, 0.144, 3, 99.9));  // at the mean
}

TEST(Evidence, confidence_and_min_errors_decide) {
  // 5 of 100: a 5 % chance at 2 %; enough at 90 % confidence, not at 99.9 %.
  EXPECT_TRUE(ShowsRateAbove(100, 5, 0.02, 3, 90));
  EXPECT_FALSE(ShowsRateAbove(100, 5, 0.02, 3, 99.9));
  EXPECT_FALSE(ShowsRateAbove(20, 10, 0.02, 11, 99.9));
  // At or below the threshold's share is never above it.
  EXPECT_FALSE(ShowsRateAbove(100, 2, 0.02, 1, 50));
}

}  // namespace
}  // namespace poolwatch
