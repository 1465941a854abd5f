#include "alerting/release_windows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Request;
using std::chrono::minutes;
using std::chrono::seconds;

ReleaseSummary SummaryOf(const ReleaseWindows& w, std::string_view pool, std::string_view release,
                         double now, Clock::duration window) {
  ReleaseSummary out;
  if (const ReleaseWindows::Slot* s = w.Find(pool, release)) w.AddTo(*s, At(now), window, out);
  return out;
}

TEST(ReleaseWindows, counts_requests_and_5xx_per_pool_and_release) {
  ReleaseWindows w(minutes(5), ReleaseWindows::Latency::kOff);
  for (int i = 0; i < 100; ++i) w.Observe(Request(i, "blue", i % 10 == 0 ? 502 : 200, {}, "v1"));
  for (int i = 0; i < 50; ++i) w.Observe(Request(i, "blue", 200, {}, "v2"));
  for (int i = 0; i < 30; ++i) w.Observe(Request(i, "green", 500, {}, "v2"));
  const ReleaseSummary v1 = SummaryOf(w, "blue", "v1", 100, minutes(5));
  EXPECT_EQ(v1.requests, 100u);
  EXPECT_EQ(v1.errors, 10u);
  EXPECT_DOUBLE_EQ(v1.ErrorPercent(), 10);
  EXPECT_EQ(SummaryOf(w, "blue", "v2", 100, minutes(5)).requests, 50u);
  EXPECT_EQ(SummaryOf(w, "green", "v2", 100, minutes(5)).errors, 30u);
  EXPECT_EQ(w.Find("green", "v1"), nullptr);
}

TEST(ReleaseWindows, requests_without_a_release_or_a_pool_are_not_counted) {
  ReleaseWindows w(minutes(5), ReleaseWindows::Latency::kOff);
  w.Observe(Request(1, "blue", 200, {}, ""));
  LogRecord nginx_itself = Request(1, "none", 502, {}, "v1");
  nginx_itself.attempts.clear();
  w.Observe(nginx_itself);
  EXPECT_TRUE(w.pools().empty());
}

TEST(ReleaseWindows, requests_leave_the_window_with_time) {
  // 60 s span: one-second buckets.
  ReleaseWindows w(seconds(60), ReleaseWindows::Latency::kOff);
  EXPECT_EQ(w.bucket(), seconds(1));
  for (int i = 0; i < 60; ++i) w.Observe(Request(i, "blue", 200, {}, "v1"));
  EXPECT_EQ(SummaryOf(w, "blue", "v1", 59, seconds(60)).requests, 60u);
  EXPECT_EQ(SummaryOf(w, "blue", "v1", 59, seconds(10)).requests, 10u);
  EXPECT_EQ(SummaryOf(w, "blue", "v1", 89, seconds(60)).requests, 30u);
  EXPECT_EQ(SummaryOf(w, "blue", "v1", 200, seconds(60)).requests, 0u);
}

TEST(ReleaseWindows, a_long_span_counts_in_wider_buckets_to_one_bucket) {
  ReleaseWindows w(minutes(5), ReleaseWindows::Latency::kOff);
  EXPECT_EQ(w.bucket(), seconds(5));
  EXPECT_EQ(w.span(), minutes(5));
  for (int i = 0; i < 600; ++i) w.Observe(Request(i, "blue", 200, {}, "v1"));
  const uint64_t n = SummaryOf(w, "blue", "v1", 599, minutes(5)).requests;
  EXPECT_GE(n, 295u);
  EXPECT_LE(n, 300u);
}

TEST(ReleaseWindows, a_line_older_than_the_ring_is_dropped_not_counted_as_new) {
  ReleaseWindows w(seconds(60), ReleaseWindows::Latency::kOff);
  w.Observe(Request(100, "blue", 200, {}, "v1"));
  w.Observe(Request(100 - 61, "blue", 500, {}, "v1"));  // the same ring slot, 61 s earlier
  const ReleaseSummary s = SummaryOf(w, "blue", "v1", 100, seconds(60));
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(w.dropped(), 1u);
}

// r0, r1, …: formatted, since GCC 12 warns falsely (-Wrestrict) on "r" + std::to_string(i).
std::vector<std::string> Names(char prefix, size_t n) {
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    char buf[24];  // a prefix, up to 20 digits and the NUL (-Wformat-truncation)
    std::snprintf(buf, sizeof(buf), "%c%zu", prefix, i);
    names.emplace_back(buf);
  }
  return names;
}

TEST(ReleaseWindows, releases_beyond_the_cap_fold_into_other_until_a_slot_frees) {
  ReleaseWindows w(seconds(60), ReleaseWindows::Latency::kOff);
  const std::vector<std::string> releases = Names('r', ReleaseWindows::kMaxReleasesPerPool);
  for (size_t r = 0; r < ReleaseWindows::kMaxReleasesPerPool; ++r) {
    w.Observe(Request(0, "blue", 200, {}, releases[r]));
  }
  // The LogRecord's view must outlive Observe only: a local string is fine.
  const std::string extra = "extra";
  w.Observe(Request(1, "blue", 500, {}, extra));
  EXPECT_EQ(w.Find("blue", "extra"), nullptr);
  const ReleaseWindows::Pool* pool = w.FindPool("blue");
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->releases.size(), ReleaseWindows::kMaxReleasesPerPool);
  ReleaseSummary other;
  w.AddTo(pool->other, At(1), seconds(60), other);
  EXPECT_EQ(other.requests, 1u);
  EXPECT_EQ(other.errors, 1u);
  // r1..r19 keep serving; r0 goes quiet for more than the span and frees its slot.
  for (size_t r = 1; r < ReleaseWindows::kMaxReleasesPerPool; ++r) {
    w.Observe(Request(100, "blue", 200, {}, releases[r]));
  }
  w.Observe(Request(100, "blue", 200, {}, extra));
  EXPECT_NE(w.Find("blue", "extra"), nullptr);
  EXPECT_EQ(w.Find("blue", "r0"), nullptr);
  EXPECT_EQ(SummaryOf(w, "blue", "extra", 100, seconds(60)).requests, 1u);
}

TEST(ReleaseWindows, pools_are_capped) {
  ReleaseWindows w(seconds(60), ReleaseWindows::Latency::kOff);
  const std::vector<std::string> names = Names('p', ReleaseWindows::kMaxPools + 3);
  for (const std::string& name : names) w.Observe(Request(0, name, 200, {}, "v1"));
  EXPECT_EQ(w.pools().size(), ReleaseWindows::kMaxPools);
  EXPECT_EQ(w.dropped(), 3u);
}

TEST(ReleaseWindows, first_seen_is_when_a_release_started_serving_in_the_pool) {
  ReleaseWindows w(minutes(5), ReleaseWindows::Latency::kOff);
  w.Observe(Request(10, "green", 200, {}, "v1"));
  w.Observe(Request(20, "green", 200, {}, "v2"));
  w.Observe(Request(30, "green", 200, {}, "v1"));
  EXPECT_EQ(w.Find("green", "v1")->first_seen, At(10));
  EXPECT_EQ(w.Find("green", "v2")->first_seen, At(20));
  EXPECT_EQ(w.Find("green", "v1")->last_seen, At(30));
}

TEST(ReleaseSummary, latency_quantiles_are_within_the_documented_relative_error) {
  ReleaseWindows w(minutes(5), ReleaseWindows::Latency::kOn);
  // 1000 requests from 2 ms to 2 s, evenly spread in log scale.
  std::vector<double> times;
  for (int i = 0; i < 1000; ++i) {
    LogRecord r = Request(i * 0.1, "blue", 200, {}, "v1");
    r.request_time = 0.002 * std::pow(1000.0, i / 999.0);
    times.push_back(r.request_time);
    w.Observe(r);
  }
  const ReleaseSummary s = SummaryOf(w, "blue", "v1", 100, minutes(5));
  EXPECT_EQ(s.timed, 1000u);
  for (double q : {0.5, 0.9, 0.99}) {
    const double exact = times[static_cast<size_t>(std::ceil(q * 1000)) - 1];
    EXPECT_NEAR(s.LatencyQuantile(q) / exact, 1, 0.123) << q;
  }
}

TEST(ReleaseSummary, a_request_without_a_time_counts_but_has_no_latency) {
  ReleaseWindows w(minutes(5), ReleaseWindows::Latency::kOn);
  LogRecord r = Request(1, "blue", 200, {}, "v1");
  r.request_time = -1;
  w.Observe(r);
  const ReleaseSummary s = SummaryOf(w, "blue", "v1", 1, minutes(5));
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.timed, 0u);
  EXPECT_LT(s.LatencyQuantile(0.5), 0);
}

TEST(ReleaseSummary, bins_cover_sub_millisecond_and_very_slow_requests) {
  EXPECT_EQ(ReleaseSummary::LatencyBin(0.0002), 0u);
  EXPECT_EQ(ReleaseSummary::LatencyBin(0.001), 1u);
  EXPECT_EQ(ReleaseSummary::LatencyBin(1000), ReleaseSummary::kLatencyBins - 1);
  EXPECT_LT(ReleaseSummary::LatencyBin(0.010), ReleaseSummary::LatencyBin(0.0127));
}

}  // namespace
}  // namespace poolwatch
