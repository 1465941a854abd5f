#include "alerting/window.h"

#include <gtest/gtest.h>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using std::chrono::seconds;

TEST(SlidingWindow, counts_entries_and_errors) {
  SlidingWindow w(10, seconds(300));
  w.Push(At(0), false);
  w.Push(At(1), true);
  w.Push(At(2), false);
  w.Push(At(3), true);
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.errors(), 2u);
  EXPECT_DOUBLE_EQ(w.ErrorPercent(), 50.0);
}

TEST(SlidingWindow, keeps_only_the_last_n_entries) {
  SlidingWindow w(3, seconds(0));
  w.Push(At(0), true);
  w.Push(At(1), true);
  w.Push(At(2), false);
  w.Push(At(3), false);  // evicts the first error
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.errors(), 1u);
  w.Push(At(4), false);  // evicts the second error
  EXPECT_EQ(w.errors(), 0u);
  EXPECT_EQ(*w.oldest(), At(2));
}

TEST(SlidingWindow, expires_entries_older_than_max_age) {
  SlidingWindow w(100, seconds(60));
  w.Push(At(0), true);
  w.Push(At(30), true);
  w.Push(At(50), false);
  w.Expire(At(60));  // nothing older than 60 s yet
  EXPECT_EQ(w.size(), 3u);
  w.Expire(At(61));
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.errors(), 1u);
  w.Expire(At(200));
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.errors(), 0u);
  EXPECT_DOUBLE_EQ(w.ErrorPercent(), 0.0);
}

TEST(SlidingWindow, zero_max_age_means_no_age_bound) {
  SlidingWindow w(5, seconds(0));
  w.Push(At(0), true);
  w.Expire(At(1e6));
  EXPECT_EQ(w.size(), 1u);
}

TEST(SlidingWindow, wraps_around_many_times_with_exact_counts) {
  SlidingWindow w(7, seconds(0));
  for (int i = 0; i < 1000; ++i) w.Push(At(i), i % 3 == 0);
  // The last 7 are 993..999; multiples of 3 among them: 993, 996, 999.
  EXPECT_EQ(w.size(), 7u);
  EXPECT_EQ(w.errors(), 3u);
}

TEST(SlidingWindow, reconfigure_keeps_the_newest_entries) {
  SlidingWindow w(5, seconds(0));
  for (int i = 0; i < 5; ++i) w.Push(At(i), i < 2);  // errors at 0 and 1
  w.Reconfigure(3, seconds(0));
  EXPECT_EQ(w.capacity(), 3u);
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.errors(), 0u);
  EXPECT_EQ(*w.oldest(), At(2));
  w.Reconfigure(10, seconds(0));
  EXPECT_EQ(w.size(), 3u);
  w.Push(At(9), true);
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.errors(), 1u);
}

TEST(SlidingWindow, capacity_zero_is_taken_as_one) {
  SlidingWindow w(0, seconds(0));
  w.Push(At(0), true);
  w.Push(At(1), false);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.errors(), 0u);
}

}  // namespace
}  // namespace poolwatch
