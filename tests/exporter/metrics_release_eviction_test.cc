// The per-pool release cap gives the slot of a long-idle release to a new one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "exporter/metrics.h"

namespace poolwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ReleaseEviction : public ::testing::Test {
 protected:
  ReleaseEviction() : metrics_(registry_, Options()) {}

  static MetricsOptions Options() {
    MetricsOptions options;
    options.max_releases_per_pool = 2;
    options.release_eviction_after = std::chrono::minutes(10);
    return options;
  }

  void Request(std::string_view release, std::chrono::minutes at, int status = 200) {
    LogRecord record;
    record.time = TimePoint(std::chrono::hours(500000)) + at;
    record.status = status;
    record.pool = "blue";
    record.release = release;
    record.request_time = 0.01;
    metrics_.Record(record);
  }

  std::string Exposition() {
    metrics_.Flush();
    return prometheus::TextSerializer().Serialize(registry_.Collect());
  }

  prometheus::Registry registry_;
  ExporterMetrics metrics_;
};

TEST_F(ReleaseEviction, ANewReleaseIsOtherWhileTheOldOnesAreRecent) {
  Request("v1", std::chrono::minutes(0));
  Request("v2", std::chrono::minutes(1));
  Request("v3", std::chrono::minutes(5));
  const std::string text = Exposition();
  EXPECT_THAT(
      text, HasSubstr(R"(poolwatch_http_requests_total{pool="blue",release="v1",status="200"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(poolwatch_http_requests_total{pool="blue",release="other",status="200"} 1)"));
  EXPECT_THAT(text, Not(HasSubstr(R"(release="v3")")));
}

TEST_F(ReleaseEviction, TheLeastRecentlySeenIdleReleaseGivesUpItsSeries) {
  Request("v1", std::chrono::minutes(0));
  Request("v2", std::chrono::minutes(1));
  Request("v1", std::chrono::minutes(2), 500);  // v1 seen after v2: v2 is the least recent
  Request("v3", std::chrono::minutes(5));       // v2 idle 4 minutes: stays, v3 → other
  Request("v3", std::chrono::minutes(12));      // v2 idle 11 minutes: v3 takes its slot
  Request("v3", std::chrono::minutes(12));      // through the one-entry cache
  const std::string text = Exposition();
  EXPECT_THAT(text, Not(HasSubstr(R"(release="v2")")));
  EXPECT_THAT(
      text, HasSubstr(R"(poolwatch_http_requests_total{pool="blue",release="v3",status="200"} 2)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(poolwatch_http_request_duration_seconds_count{pool="blue",release="v3"} 2)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(poolwatch_http_requests_total{pool="blue",release="other",status="200"} 1)"));
  EXPECT_THAT(
      text, HasSubstr(R"(poolwatch_http_requests_total{pool="blue",release="v1",status="500"} 1)"));
  // v1 is at the cap's other slot and was seen at minute 2; a v4 at minute 13 takes it.
  Request("v4", std::chrono::minutes(13));
  const std::string later = Exposition();
  EXPECT_THAT(later, Not(HasSubstr(R"(release="v1")")));
  EXPECT_THAT(
      later,
      HasSubstr(R"(poolwatch_http_requests_total{pool="blue",release="v4",status="200"} 1)"));
  EXPECT_THAT(later, HasSubstr(R"(release="v3",status="200"} 2)"));
}

}  // namespace
}  // namespace poolwatch
