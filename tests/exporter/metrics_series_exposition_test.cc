// ExporterMetrics::AppendSeriesExposition (what the daemon serves for the per-request
// families) against prometheus-cpp's view of the same families, and raw values that clean up to
// one label value sharing one series.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "exporter/exposition.h"
#include "exporter/metrics.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

using ::poolwatch::testing::SortedLines;

std::vector<std::string> Duplicates(const std::vector<std::string>& sorted) {
  std::vector<std::string> twice;
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i] == sorted[i - 1] && sorted[i].rfind('#', 0) != 0) twice.push_back(sorted[i]);
  }
  return twice;
}

class SeriesExposition : public ::testing::Test {
 protected:
  SeriesExposition() : metrics_(registry_, Options(), &series_registry_) {}

  static MetricsOptions Options() {
    MetricsOptions options;
    options.max_pools = 3;
    options.max_releases_per_pool = 3;
    options.max_upstreams = 4;
    options.release_eviction_after = std::chrono::minutes(10);
    options.request_duration_buckets = {0.01, 0.1, 1};
    return options;
  }

  void Request(std::string_view pool, std::string_view release, int status,
               std::string_view upstream, std::chrono::minutes at = {}) {
    LogRecord record;
    record.time = TimePoint(std::chrono::hours(500000)) + at;
    record.status = status;
    record.pool = pool;
    record.release = release;
    record.request_time = 0.004 * status;
    record.attempts.push_back({upstream, status, 0.003, pool});
    metrics_.Record(record);
  }

  // What the daemon serves for the four families, and what prometheus-cpp collects for them.
  std::string Served() {
    metrics_.Flush();
    std::string out;
    metrics_.AppendSeriesExposition(out);
    return out;
  }
  std::string Collected() {
    std::string out;
    AppendTextExposition(series_registry_.Collect(), out);
    return out;
  }

  prometheus::Registry registry_, series_registry_;
  ExporterMetrics metrics_;
};

TEST_F(SeriesExposition, ServesTheLinesPrometheusCppCollectsForTheSameSeries) {
  Request("gr\"een\\", "v\n1", 0, "grp");  // escaping, status 0 and nginx's group name
  for (int i = 0; i < 400; ++i) {
    // (appended: GCC 12 warns falsely about "v" + std::to_string(…), -Wrestrict)
    const std::string pool = std::string("pool-").append(std::to_string(i % 5));  // 2 too many
    const std::string release = std::string("v").append(std::to_string(i % 4));   // 1 too many
    const std::string upstream = std::string("10.0.0.").append(std::to_string(i % 7)).append(":80");
    Request(pool, release, i % 3 == 0 ? 502 : 200, upstream);
  }
  const std::string served = Served();
  EXPECT_THAT(served, HasSubstr("# TYPE poolwatch_http_requests_total counter\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_upstream_attempts_total{pool=\"other\",status=\"502\","
                                "upstream=\"other\"} "));
  EXPECT_THAT(served, HasSubstr("{pool=\"gr\\\"een\\\\\",release=\"v\\n1\",status=\"0\"} 1\n"));
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
  EXPECT_THAT(Duplicates(SortedLines(served)), IsEmpty());
}

TEST_F(SeriesExposition, NothingRecordedServesNothing) {
  EXPECT_EQ(Served(), "");
  EXPECT_EQ(Collected(), "");
}

TEST_F(SeriesExposition, RawValuesWithTheSameLabelShareOneSeries) {
  // "" and "none" are both release="none"; a pool and a release literally named "other" meet
  // the cap's "other"; two addresses cut at 128 bytes end alike.
  const std::string long_address(200, 'a');
  Request("blue", "", 200, long_address);
  Request("blue", "none", 200, long_address + "b");
  Request("blue", "other", 200, "10.0.0.1:80");
  Request("other", "v1", 200, "10.0.0.2:80");
  for (const char* pool : {"p1", "p2", "p3"}) Request(pool, "v1", 200, "10.0.0.3:80");
  for (const char* release : {"v1", "v2", "v3"}) Request("blue", release, 200, "10.0.0.1:80");
  const std::string served = Served();
  EXPECT_THAT(Duplicates(SortedLines(served)), IsEmpty()) << served;
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"none\","
                                "status=\"200\"} 2\n"));
  // The release named "other" took a slot; v2, beyond the cap, shares its series, which is
  // the cap's "other" from then on and holds no slot, so v3 gets one.
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"other\","
                                "status=\"200\"} 2\n"));
  // The pool named "other", then p2 and p3 beyond the cap of three pools.
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"other\",release=\"v1\","
                                "status=\"200\"} 3\n"));
}

TEST_F(SeriesExposition, AnEvictedReleaseLeavesBothViewsAndASharedOneLeavesNothingBehind) {
  Request("blue", "", 200, "10.0.0.1:80", std::chrono::minutes(0));
  Request("blue", "none", 200, "10.0.0.1:80", std::chrono::minutes(1));  // the same series
  Request("blue", "v2", 200, "10.0.0.1:80", std::chrono::minutes(2));
  Request("blue", "v3", 200, "10.0.0.1:80", std::chrono::minutes(3));
  // At the cap, "none" is idle longest: v4 takes its slot, and both raw values lose it. When
  // "none" comes back, v2 is idle longest and gives its slot up in turn.
  Request("blue", "v4", 200, "10.0.0.1:80", std::chrono::minutes(30));
  Request("blue", "none", 500, "10.0.0.1:80", std::chrono::minutes(31));
  const std::string served = Served();
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"v4\","
                                "status=\"200\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"none\","
                                "status=\"500\"} 1\n"));
  EXPECT_THAT(served, ::testing::Not(HasSubstr("release=\"none\",status=\"200\"")));
  EXPECT_THAT(served, ::testing::Not(HasSubstr("release=\"v2\"")));
}

}  // namespace
}  // namespace poolwatch
