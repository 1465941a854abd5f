// The source labels (log.path_label, log.syslog.labels): labels on the four per-request families
// naming the file or sender a line came from, capped like pools and releases (by combination),
// served the same by both expositions.
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
  explicit SourceLabel(std::vector<std::string> names = {"site"})
      : metrics_(registry_, Options(std::move(names))) {}

  static MetricsOptions Options(std::vector<std::string> names) {
    MetricsOptions options;
    options.source_labels = std::move(names);
    options.max_sources = 2;
    options.request_duration_buckets = {0.1, 1};
    return options;
  }
  void Request(std::string_view source, std::string_view pool, int status) {
    Request(std::vector<std::string>{std::string(source)}, pool, status);
  }
  void Request(const std::vector<std::string>& source, std::string_view pool, int status) {
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
  SourceLabelFirst() : SourceLabel({"host"}) {}
};
class SourceLabelLast : public SourceLabel {
 protected:
  SourceLabelLast() : SourceLabel({"vhost"}) {}
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
  metrics.SetSource(std::vector<std::string>{"shop"});
  LogRecord record;
  record.status = 200;
  record.pool = "blue";
  metrics.Record(record);
  metrics.SetSource(std::vector<std::string>{"api"});
  metrics.Record(record);
  std::string out;
  metrics.AppendSeriesExposition(out);
  EXPECT_THAT(out, HasSubstr("poolwatch_http_requests_total{pool=\"blue\",release=\"none\","
                             "status=\"200\"} 2\n"));
}

// Three labels, named to sort before, between and after the request metrics' own: the path
// label, then syslog's tag and host, as the daemon passes them.
class SourceLabels : public SourceLabel {
 protected:
  SourceLabels() : SourceLabel({"site", "syslog_tag", "host"}) {}
};

TEST_F(SourceLabels, EachCombinationIsCountedApartWithEveryLabelInItsSortedPlace) {
  Request({"shop", "", ""}, "blue", 200);        // a file's line: no syslog values
  Request({"", "nginx", "web-1"}, "blue", 200);  // a datagram: no path-label value
  Request({"", "nginx", "web-1"}, "blue", 500);
  Request({"", "nginx", "web-1"}, "blue", 500);
  const std::string served = Served();
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{host=\"none\",pool=\"blue\","
                                "release=\"v1\",site=\"shop\",status=\"200\","
                                "syslog_tag=\"none\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{host=\"web-1\",pool=\"blue\","
                                "release=\"v1\",site=\"none\",status=\"200\","
                                "syslog_tag=\"nginx\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{host=\"web-1\",pool=\"blue\","
                                "release=\"v1\",site=\"none\",status=\"500\","
                                "syslog_tag=\"nginx\"} 2\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_upstream_attempts_total{host=\"web-1\",pool=\"blue\","
                                "site=\"none\",status=\"500\",syslog_tag=\"nginx\","
                                "upstream=\"10.0.0.1:80\"} 2\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_request_duration_seconds_count{host=\"web-1\","
                                "pool=\"blue\",release=\"v1\",site=\"none\","
                                "syslog_tag=\"nginx\"} 3\n"));
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
}

TEST_F(SourceLabels, MissingValuesAreEmptyAndOnlyTheWholeCombinationTellsSourcesApart) {
  // The same values in another label are another source; fewer values than labels are "".
  Request({"a", "b", ""}, "blue", 200);
  Request({"a", "", "b"}, "blue", 200);
  Request(std::vector<std::string>{"a"}, "blue", 200);
  Request({"a", "", ""}, "blue", 200);  // the same as the line before: within max_sources = 2
  const std::string served = Served();
  EXPECT_THAT(served, HasSubstr("{host=\"none\",pool=\"blue\",release=\"v1\",site=\"a\","
                                "status=\"200\",syslog_tag=\"b\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("{host=\"b\",pool=\"blue\",release=\"v1\",site=\"a\","
                                "status=\"200\",syslog_tag=\"none\"} 1\n"));
  // The third combination is beyond the cap: "other" in every source label, twice.
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{host=\"other\",pool=\"blue\","
                                "release=\"v1\",site=\"other\",status=\"200\","
                                "syslog_tag=\"other\"} 2\n"));
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
}

TEST_F(SourceLabels, TheCapCountsCombinationsNotValuesAndKnownOnesKeepTheirSeries) {
  Request({"shop", "nginx", "web-1"}, "blue", 200);
  Request({"shop", "nginx", "web-2"}, "blue", 200);
  Request({"shop", "nginx", "web-3"}, "blue", 200);  // third combination: other
  Request({"shop", "nginx", "web-1"}, "blue", 200);  // known: its own series again
  Request({"shop", "nginx", "web-3"}, "blue", 200);  // still other
  const std::string served = Served();
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{host=\"web-1\",pool=\"blue\","
                                "release=\"v1\",site=\"shop\",status=\"200\","
                                "syslog_tag=\"nginx\"} 2\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{host=\"web-2\",pool=\"blue\","
                                "release=\"v1\",site=\"shop\",status=\"200\","
                                "syslog_tag=\"nginx\"} 1\n"));
  EXPECT_THAT(served, HasSubstr("poolwatch_http_requests_total{host=\"other\",pool=\"blue\","
                                "release=\"v1\",site=\"other\",status=\"200\","
                                "syslog_tag=\"other\"} 2\n"));
  EXPECT_THAT(served, Not(HasSubstr("web-3")));
}

TEST_F(SourceLabels, ValuesAreSanitizedAndEscapedAlikeByBothExpositions) {
  // A tag with a quote, a host with a backslash and a newline, a site with invalid UTF-8.
  Request({"caf\xC3", "ng\"x", "a\\b\nc"}, "blue", 200);
  const std::string served = Served();
  EXPECT_THAT(served,
              HasSubstr("{host=\"a\\\\b\\nc\",pool=\"blue\",release=\"v1\","
                        "site=\"caf\xEF\xBF\xBD\",status=\"200\",syslog_tag=\"ng\\\"x\"} 1\n"));
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
}

TEST_F(SourceLabels, ValuesThatCleanUpAlikeShareOneSeries) {
  // Two raw combinations, one exposed combination: one series, one slot of the cap.
  Request({"caf\xC3", "t", "h"}, "blue", 200);
  Request({"caf\xC4", "t", "h"}, "blue", 200);
  Request({"x", "t", "h"}, "blue", 200);  // the second slot
  const std::string served = Served();
  EXPECT_THAT(served, HasSubstr("site=\"caf\xEF\xBF\xBD\",status=\"200\",syslog_tag=\"t\"} 2\n"));
  EXPECT_THAT(served, HasSubstr("site=\"x\",status=\"200\",syslog_tag=\"t\"} 1\n"));
  EXPECT_THAT(served, Not(HasSubstr("other")));
  EXPECT_EQ(SortedLines(served), SortedLines(Collected()));
}

}  // namespace
}  // namespace poolwatch
