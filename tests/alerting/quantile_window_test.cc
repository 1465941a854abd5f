#include "alerting/quantile_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using std::chrono::seconds;

TEST(QuantileWindow, nearest_rank_is_the_ceiling_of_q_times_n) {
  EXPECT_EQ(QuantileWindow::NearestRank(0.99, 200), 198u);
  EXPECT_EQ(QuantileWindow::NearestRank(0.99, 100), 99u);
  EXPECT_EQ(QuantileWindow::NearestRank(0.99, 20), 20u);
  EXPECT_EQ(QuantileWindow::NearestRank(0.999, 1000), 999u);
  EXPECT_EQ(QuantileWindow::NearestRank(0.5, 5), 3u);
  EXPECT_EQ(QuantileWindow::NearestRank(0.5, 4), 2u);
  EXPECT_EQ(QuantileWindow::NearestRank(0.01, 10), 1u);
  EXPECT_EQ(QuantileWindow::NearestRank(0.99, 1), 1u);
  EXPECT_EQ(QuantileWindow::NearestRank(0.99, 0), 0u);
}

// Quantile() remembers its last answer until an entry comes or goes: every change of the
// entries must show in the next answer, asked again for the same q and for another.
TEST(QuantileWindow, a_remembered_quantile_follows_every_change_of_the_entries) {
  QuantileWindow w(4, seconds(10), 1.0);
  w.Push(At(0), 0.1, 0);
  w.Push(At(1), 0.2, 0);
  EXPECT_DOUBLE_EQ(w.Quantile(1.0), 0.2);
  EXPECT_DOUBLE_EQ(w.Quantile(1.0), 0.2);
  EXPECT_DOUBLE_EQ(w.Quantile(0.5), 0.1);  // another q, the same entries
  w.Push(At(2), 3.0, 0);
  EXPECT_DOUBLE_EQ(w.Quantile(1.0), 3.0);
  w.Push(At(3), 0.3, 0);
  w.Push(At(4), 0.4, 0);  // full: 0.1 leaves
  EXPECT_DOUBLE_EQ(w.Quantile(0.25), 0.2);
  w.Expire(At(13));  // 0.2 and 3.0 (at 1 and 2) are older than 10 s
  EXPECT_DOUBLE_EQ(w.Quantile(1.0), 0.4);
  EXPECT_DOUBLE_EQ(w.Quantile(0.25), 0.3);
  w.DropBefore(At(4));  // 0.3 leaves
  EXPECT_DOUBLE_EQ(w.Quantile(0.25), 0.4);
  w.Reconfigure(1, seconds(10));
  w.Push(At(5), 0.05, 0);  // capacity 1: 0.4 leaves
  EXPECT_DOUBLE_EQ(w.Quantile(0.25), 0.05);
  w.Clear();
  EXPECT_DOUBLE_EQ(w.Quantile(0.25), 0);
  w.Push(At(6), 0.7, 0);
  EXPECT_DOUBLE_EQ(w.Quantile(0.25), 0.7);
}

TEST(QuantileWindow, a_p99_of_200_needs_three_slow_entries) {
  QuantileWindow w(200, seconds(0), 1.0);
  for (int i = 0; i < 198; ++i) w.Push(At(i), 0.010 + i * 0.0001, 0);
  w.Push(At(198), 5.0, 0);  // one outlier
  w.Push(At(199), 4.0, 0);  // two
  EXPECT_EQ(w.size(), 200u);
  EXPECT_NEAR(w.Quantile(0.99), 0.010 + 197 * 0.0001, 1e-12);
  w.Push(At(200), 3.0, 0);  // three (the fastest entry leaves)
  EXPECT_DOUBLE_EQ(w.Quantile(0.99), 3.0);
  EXPECT_EQ(w.CountAbove(1.0), 3u);
}

TEST(QuantileWindow, counts_entries_strictly_above_a_value) {
  QuantileWindow w(10, seconds(0), 1.0);
  for (double s : {0.1, 0.5, 0.5, 0.7, 1.0}) w.Push(At(0), s, 0);
  EXPECT_EQ(w.CountAbove(0.5), 2u);
  EXPECT_EQ(w.CountAbove(0.4), 4u);
  EXPECT_EQ(w.CountAbove(1.0), 0u);
  EXPECT_EQ(w.CountAbove(0.0), 5u);
}

TEST(QuantileWindow, keeps_count_of_the_entries_above_its_mark) {
  QuantileWindow w(3, seconds(60), 0.5);
  w.Push(At(0), 0.9, 0);
  w.Push(At(1), 0.5, 0);  // at the mark is not above it
  w.Push(At(2), 0.6, 0);
  EXPECT_EQ(w.above_mark(), 2u);
  w.Push(At(3), 0.1, 0);  // the 0.9 leaves
  EXPECT_EQ(w.above_mark(), 1u);
  w.SetMark(0.05);
  EXPECT_EQ(w.mark(), 0.05);
  EXPECT_EQ(w.above_mark(), 3u);
  w.Expire(At(62.5));  // the entries of 1 s and 2 s are older than 60 s
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.above_mark(), 1u);
  w.Clear();
  EXPECT_EQ(w.above_mark(), 0u);
}

TEST(QuantileWindow, keeps_the_last_n_in_arrival_order_not_the_fastest) {
  QuantileWindow w(3, seconds(0), 1.0);
  w.Push(At(0), 9.0, 1);
  w.Push(At(1), 1.0, 2);
  w.Push(At(2), 2.0, 3);
  w.Push(At(3), 3.0, 4);  // the 9 s entry is the oldest and leaves, although it is the largest
  EXPECT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w.Quantile(0.99), 3.0);
  EXPECT_EQ(w.Slowest()->tag, 4);
}

TEST(QuantileWindow, entries_leave_by_age_and_before_a_time) {
  QuantileWindow w(100, seconds(60), 1.0);
  w.Push(At(0), 5.0, 0);
  w.Push(At(30), 4.0, 0);
  w.Push(At(50), 0.1, 0);
  w.Expire(At(70));  // the entry of t=0 is 70 s old
  EXPECT_EQ(w.size(), 2u);
  EXPECT_DOUBLE_EQ(w.Quantile(0.99), 4.0);
  w.DropBefore(At(40));
  EXPECT_EQ(w.size(), 1u);
  EXPECT_DOUBLE_EQ(w.Quantile(0.99), 0.1);
  w.Expire(At(200));
  EXPECT_TRUE(w.empty());
  EXPECT_DOUBLE_EQ(w.Quantile(0.99), 0.0);
  EXPECT_FALSE(w.Slowest().has_value());
}

TEST(QuantileWindow, no_age_bound_keeps_old_entries) {
  QuantileWindow w(10, seconds(0), 1.0);
  w.Push(At(0), 1.0, 0);
  w.Expire(At(100000));
  EXPECT_EQ(w.size(), 1u);
}

TEST(QuantileWindow, the_slowest_entry_is_the_oldest_of_equals) {
  QuantileWindow w(10, seconds(0), 1.0);
  w.Push(At(0), 0.2, 1);
  w.Push(At(1), 0.9, 2);
  w.Push(At(2), 0.9, 3);
  w.Push(At(3), 0.1, 4);
  const auto slowest = w.Slowest();
  ASSERT_TRUE(slowest.has_value());
  EXPECT_EQ(slowest->tag, 2);
  EXPECT_EQ(slowest->at, At(1));
}

TEST(QuantileWindow, reconfigure_keeps_the_newest_entries_that_fit) {
  QuantileWindow w(5, seconds(0), 1.0);
  for (int i = 0; i < 5; ++i) w.Push(At(i), i + 1.0, static_cast<uint16_t>(i));
  w.Reconfigure(2, seconds(10));
  EXPECT_EQ(w.capacity(), 2u);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_DOUBLE_EQ(w.Quantile(0.01), 4.0);
  EXPECT_EQ(w.max_age(), seconds(10));
  w.Reconfigure(4, seconds(10));
  w.Push(At(5), 0.5, 9);
  w.Push(At(6), 0.6, 9);
  EXPECT_EQ(w.size(), 4u);
  w.Push(At(7), 0.7, 9);  // full at 4: the oldest (4.0) leaves
  EXPECT_DOUBLE_EQ(w.Quantile(0.99), 5.0);
  w.Clear();
  EXPECT_TRUE(w.empty());
}

// Quantiles (by one pass near the top, by selection further down) and the count above the
// mark against a sort of the window's contents, over random pushes and expiries.
TEST(QuantileWindow, agrees_with_sorting_the_window) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> duration(0, 2);
  QuantileWindow w(50, seconds(30), 1.0);
  std::vector<std::pair<double, double>> shadow;  // (time, seconds) in arrival order
  for (int i = 0; i < 5000; ++i) {
    const double t = i * 0.1;
    // Repeated values too: equal entries must leave one at a time.
    const double s = i % 5 == 0 ? 1.0 : std::round(duration(rng) * 100) / 100;
    w.Push(At(t), s, 0);
    shadow.emplace_back(t, s);
    if (shadow.size() > 50) shadow.erase(shadow.begin());
    if (i % 37 == 0) {
      w.Expire(At(t));
      std::erase_if(shadow, [&](const auto& e) { return e.first < t - 30; });
    }
    std::vector<double> sorted;
    for (const auto& e : shadow) sorted.push_back(e.second);
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(w.size(), sorted.size());
    for (double q : {0.01, 0.5, 0.7, 0.9, 0.99, 1.0}) {
      const size_t rank = static_cast<size_t>(std::ceil(q * sorted.size() - 1e-9));
      ASSERT_DOUBLE_EQ(w.Quantile(q), sorted[rank - 1]) << "push " << i << " q " << q;
    }
    const auto above = static_cast<size_t>(
        std::count_if(sorted.begin(), sorted.end(), [](double v) { return v > 1.0; }));
    ASSERT_EQ(w.CountAbove(1.0), above);
    ASSERT_EQ(w.above_mark(), above);
  }
}

}  // namespace
}  // namespace poolwatch
