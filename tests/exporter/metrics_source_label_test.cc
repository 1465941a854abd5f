// The source label (log.path_label): a label on the four per-request families naming the file
// a line came from, capped like pools and releases, served the same by both expositions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "exporter/exposition.h"
#include "exporter/metrics.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ::poolwatch::testing::SortedLines;

class SourceLabel : public ::testing::Test {
 protected:
  explicit SourceLabel(const std::string& name = "site") : metrics_(registry_, Options(name)) {}

  static MetricsOptions Options(const std::string& name) {
    MetricsOptions options;
    options.source_label = name;
    options.max_sources = 2;
    options.request_duration_buckets = {0.1, 1};
    return options;
  }
  void Request(std::string_view source, std::string_view pool, int status) {
    metrics_.SetSource(source);
    LogRecord record;
    record.time = TimePoint(std::chrono::hours(500000));
    record.status = status;
    record.pool = pool;
    record.release = "v1";
    record.request_time = 0.05;
    record.attempts.push_back({"10.0.0.1:80", status, 0.04, pool});
    metrics_.Record(record);
  }
  std::string Served() {
    metrics_.Flush();
    std::string out;
    metrics_.AppendSeriesExposition(out);
    return out;
  }
  std::string Collected() {
    std::string out;
    AppendTextExposition(registry_.Collect(), out);
    // Only the per-request families: the registry also holds the line and byte counters.
    std::string kept;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (line.find("poolwatch_http_") != std::string::npos ||
          line.find("poolwatch_upstream_") != std::string::npos) {
        kept += line + "\n";
      }
    }
    return kept;
  }

  prometheus::Registry registry_;
  ExporterMetrics metrics_;
};

TEST_F(SourceLabel, EachFilesRequestsAreCountedApartAndBeyondTheCapAsOther) {
  Request("shop", "blue", 200);
  Request("shop", "blue", 200);
  Request("api", "blue", 500);
  Request("blog", "blue", 200);  // a third site, beyond max_sources = 2
  Request("wiki", "green", 200);
  Request("shop", "blue", 502);  // back to a known one
  const std::string served = Served();
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"v1\","
                                "site=\"shop\",status=\"200\"} 2\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"v1\","
                                "site=\"shop\",status=\"502\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"v1\","
                                "site=\"api\",status=\"500\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"v1\","
                                "site=\"other\",status=\"200\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{pool=\"green\",release=\"v1\","
                                "site=\"other\",status=\"200\"} 1\n"));
  EXPECT_THAT(served, Not(HasSubstr("blog")));
  EXPECT_THAT(served, HasSubstr("poolwatch_upstream_attempts_total{pool=\"blue\",site=\"shop\","
                                "status=\"502\",upstream=\"10.0.0.1:80\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_upstream_response_duration_seconds_count{pool=\"blue\","
                                "site=\"shop\"} 3\n"));
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
}

// A name sorting before "pool" and one after "upstream": the label goes in its sorted place,
// as prometheus-cpp writes it.
class SourceLabelFirst : public SourceLabel {
 protected:
  SourceLabelFirst() : SourceLabel("host") {}
};
class SourceLabelLast : public SourceLabel {
 protected:
  SourceLabelLast() : SourceLabel("vhost") {}
};

TEST_F(SourceLabelFirst, SortsBeforeTheOtherLabels) {
  Request("web-1", "blue", 200);
  const std::string served = Served();
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{host=\"web-1\",pool=\"blue\","
                                "release=\"v1\",status=\"200\"} 1\n"));
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
}

TEST_F(SourceLabelLast, SortsAfterTheOtherLabels) {
  Request("shop", "blue", 200);
  const std::string served = Served();
  EXPECT_THAT(served, HasSubstr("poolwatch_upstream_attempts_total{pool=\"blue\",status=\"200\","
                                "upstream=\"10.0.0.1:80\",vhost=\"shop\"} 1\n"));
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
}

TEST(SourceLabelOff, SetSourceChangesNothingWithoutALabelName) {
  prometheus::Registry registry;
  ExporterMetrics metrics(registry, MetricsOptions{});
  metrics.SetSource("shop");
  LogRecord record;
  record.status = 200;
  record.pool = "blue";
  metrics.Record(record);
  metrics.SetSource("api");
  metrics.Record(record);
  std::string out;
  metrics.AppendSeriesExposition(out);
  EXPECT_THAT(out, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"none\","
                             "status=\"200\"} 2\n"));
}

}  // namespace
}  // namespace poolwatch
