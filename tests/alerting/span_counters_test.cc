#include "alerting/span_counters.h"

#include <gtest/gtest.h>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// At(0) is a whole minute (1,700,000,000 s is not: it is 20 s past one), so tests place
// requests relative to the start of the minute it falls in.
constexpr double kMinute = 40;  // At(40) starts a minute

TEST(SpanCounters, each_span_sums_its_last_buckets) {
  SpanCounters counters(seconds(60), {minutes(5), hours(1)});
  for (int m = 0; m < 60; ++m) counters.Add(At(kMinute + m * 60), m % 2 == 0);
  counters.AdvanceTo(At(kMinute + 59 * 60));
  EXPECT_EQ(counters.Sum(0).requests, 5u);  // minutes 55..59
  EXPECT_EQ(counters.Sum(0).bad, 2u);       // 56 and 58
  EXPECT_EQ(counters.Sum(1).requests, 60u);
  EXPECT_EQ(counters.Sum(1).bad, 30u);
  EXPECT_EQ(counters.buckets(), 60u);
}

TEST(SpanCounters, buckets_leave_each_span_as_time_moves_on) {
  SpanCounters counters(seconds(60), {minutes(5), hours(1)});
  counters.Add(At(kMinute), true);
  counters.AdvanceTo(At(kMinute + 4 * 60 + 59));
  EXPECT_EQ(counters.Sum(0).bad, 1u);
  counters.AdvanceTo(At(kMinute + 5 * 60));
  EXPECT_EQ(counters.Sum(0).bad, 0u);
  EXPECT_EQ(counters.Sum(1).bad, 1u);
  counters.AdvanceTo(At(kMinute + 60 * 60));
  EXPECT_EQ(counters.Sum(1).requests, 0u);
}

TEST(SpanCounters, a_late_request_counts_only_in_the_spans_that_cover_its_time) {
  SpanCounters counters(seconds(60), {minutes(5), hours(1)});
  counters.AdvanceTo(At(kMinute + 30 * 60));
  counters.Add(At(kMinute + 10 * 60), true);  // 20 minutes late
  EXPECT_EQ(counters.Sum(0).requests, 0u);
  EXPECT_EQ(counters.Sum(1).requests, 1u);
  counters.Add(At(kMinute - 2 * 3600), true);  // before the ring: not counted
  EXPECT_EQ(counters.Sum(1).requests, 1u);
}

TEST(SpanCounters, a_gap_longer_than_the_ring_empties_it) {
  SpanCounters counters(seconds(60), {minutes(5), hours(1)});
  for (int i = 0; i < 100; ++i) counters.Add(At(kMinute + i), i % 3 == 0);
  counters.AdvanceTo(At(kMinute + 5 * 3600));
  EXPECT_EQ(counters.Sum(1).requests, 0u);
  EXPECT_EQ(counters.Sum(0).bad, 0u);
  counters.Add(At(kMinute + 5 * 3600 + 1), true);
  EXPECT_EQ(counters.Sum(0).bad, 1u);
  EXPECT_EQ(counters.Sum(1).bad, 1u);
}

TEST(SpanCounters, a_restart_keeps_the_counts_and_the_downtime_is_empty) {
  SpanCounters before(seconds(60), {minutes(5), hours(72)});
  for (int m = 0; m < 600; ++m) before.Add(At(kMinute + m * 60), m < 10);
  const SpanCounters::Snapshot saved = before.Export();
  EXPECT_EQ(saved.requests.size(), 72u * 60);

  SpanCounters after(seconds(60), {minutes(5), hours(72)});
  EXPECT_EQ(after.Import(saved), "");
  after.AdvanceTo(At(kMinute + 599 * 60));
  EXPECT_EQ(after.Sum(1).requests, 600u);
  EXPECT_EQ(after.Sum(1).bad, 10u);
  // Down for an hour: those minutes are empty, the old ones are still in the 3 days.
  after.AdvanceTo(At(kMinute + 660 * 60));
  EXPECT_EQ(after.Sum(0).requests, 0u);
  EXPECT_EQ(after.Sum(1).requests, 600u);
}

TEST(SpanCounters, a_snapshot_with_other_buckets_or_impossible_counts_is_refused) {
  SpanCounters counters(seconds(60), {hours(1)});
  SpanCounters::Snapshot other;
  other.bucket_seconds = 10;
  other.head = 100;
  other.requests = {1};
  other.bad = {0};
  EXPECT_NE(counters.Import(other), "");
  SpanCounters::Snapshot impossible;
  impossible.bucket_seconds = 60;
  impossible.head = 100;
  impossible.requests = {1};
  impossible.bad = {2};
  EXPECT_NE(counters.Import(impossible), "");
  EXPECT_EQ(counters.Sum(0).requests, 0u);
}

}  // namespace
}  // namespace poolwatch
