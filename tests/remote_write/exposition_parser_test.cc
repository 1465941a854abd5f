#include "remote_write/exposition_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cmath>

#include "exporter/exposition.h"
#include "exporter/metrics.h"

namespace poolwatch {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

TEST(ParseTextExposition, ReadsNameLabelsAndValueAndSkipsComments) {
  const auto samples = ParseTextExposition(
      "# HELP a_total Things.\n# TYPE a_total counter\n"
      "a_total{pool=\"blue\",status=\"200\"} 12\n\nb 0.5\n");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].labels,
            (Labels{{"__name__", "a_total"}, {"pool", "blue"}, {"status", "200"}}));
  EXPECT_EQ(samples[0].value, 12);
  EXPECT_EQ(samples[1].labels, (Labels{{"__name__", "b"}}));
  EXPECT_EQ(samples[1].value, 0.5);
}

TEST(ParseTextExposition, UnescapesLabelValues) {
  const auto samples = ParseTextExposition("m{v=\"a\\\"b\\\\c\\nd,}{\"} 1\n");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels[1].second, "a\"b\\c\nd,}{");
}

TEST(ParseTextExposition, UnderstandsInfinitiesNaNAndIgnoresATimestamp) {
  const auto samples =
      ParseTextExposition("m{le=\"+Inf\"} +Inf\nn -Inf\no Nan\np NaN\nq 1.5e+06 1700000000000\n");
  ASSERT_EQ(samples.size(), 5u);
  EXPECT_TRUE(std::isinf(samples[0].value) && samples[0].value > 0);
  EXPECT_TRUE(std::isinf(samples[1].value) && samples[1].value < 0);
  EXPECT_TRUE(std::isnan(samples[2].value));
  EXPECT_TRUE(std::isnan(samples[3].value));
  EXPECT_EQ(samples[4].value, 1.5e6);
}

TEST(ParseTextExposition, SkipsAndCountsLinesItCannotRead) {
  size_t malformed = 0;
  const auto samples = ParseTextExposition(
      "good 1\n{x=\"y\"} 2\nm{x=\"open 3\nm{x=y} 4\nm notanumber\nm\n", &malformed);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(malformed, 5u);
}

// What poolwatch's own writer produces for a histogram comes back as the series Prometheus
// would scrape: one per bucket, _sum and _count, with the same values.
TEST(ParseTextExposition, ReadsBackEverySeriesOfPoolwatchsOwnWriter) {
  prometheus::Registry registry;
  auto& histogram =
      prometheus::BuildHistogram()
          .Name("d_seconds")
          .Help("Durations.")
          .Register(registry)
          .Add({{"pool", "gr\"een"}}, prometheus::Histogram::BucketBoundaries{0.1, 1});
  histogram.Observe(0.05);
  histogram.Observe(0.5);
  histogram.Observe(5);
  prometheus::BuildCounter().Name("c_total").Help("C.").Register(registry).Add({}).Increment(3);
  std::string text;
  AppendTextExposition(registry.Collect(), text);

  size_t malformed = 0;
  const auto samples = ParseTextExposition(text, &malformed);
  EXPECT_EQ(malformed, 0u);
  std::map<std::string, double> by_key;
  for (const auto& s : samples) {
    std::string key;
    for (const auto& [name, value] : s.labels) key += name + "=" + value + ";";
    by_key[key] = s.value;
  }
  EXPECT_EQ(by_key.size(), 6u) << text;
  EXPECT_EQ((by_key["__name__=d_seconds_bucket;pool=gr\"een;le=0.1;"]), 1);
  EXPECT_EQ((by_key["__name__=d_seconds_bucket;pool=gr\"een;le=1;"]), 2);
  EXPECT_EQ((by_key["__name__=d_seconds_bucket;pool=gr\"een;le=+Inf;"]), 3);
  EXPECT_EQ((by_key["__name__=d_seconds_sum;pool=gr\"een;"]), 5.55);
  EXPECT_EQ((by_key["__name__=d_seconds_count;pool=gr\"een;"]), 3);
  EXPECT_EQ((by_key["__name__=c_total;"]), 3);
}

// The request families with several source labels (path label, syslog tag and host), as the
// daemon serves them: every label comes back, values unescaped, on every sample.
TEST(ParseTextExposition, ReadsBackEverySourceLabelOfTheRequestSeries) {
  prometheus::Registry registry;
  MetricsOptions options;
  options.source_labels = {"site", "syslog_tag", "host"};
  options.request_duration_buckets = {0.1};
  ExporterMetrics metrics(registry, options);
  LogRecord record;
  record.status = 200;
  record.pool = "blue";
  record.release = "v1";
  record.request_time = 0.05;
  metrics.SetSource(std::vector<std::string>{"", "sh\"op", "web-1"});
  metrics.Record(record);
  metrics.SetSource(std::vector<std::string>{"api"});
  metrics.Record(record);
  std::string text;
  metrics.AppendSeriesExposition(text);

  size_t malformed = 0;
  const auto samples = ParseTextExposition(text, &malformed);
  EXPECT_EQ(malformed, 0u);
  // Two requests series, two histograms of 4 series each (one bucket, +Inf, _sum, _count).
  ASSERT_EQ(samples.size(), 10u) << text;
  std::map<std::string, double> by_key;
  for (const auto& s : samples) {
    std::map<std::string, std::string> labels(s.labels.begin(), s.labels.end());
    EXPECT_EQ(labels.size(), s.labels.size()) << "a label twice";
    EXPECT_EQ(labels.count("site") + labels.count("syslog_tag") + labels.count("host"), 3u)
        << labels["__name__"];
    by_key[labels["__name__"] + ";" + labels["site"] + ";" + labels["syslog_tag"] + ";" +
           labels["host"]] += s.value;
  }
  EXPECT_EQ((by_key["poolwatch_http_requests_total;none;sh\"op;web-1"]), 1);
  EXPECT_EQ((by_key["poolwatch_http_requests_total;api;none;none"]), 1);
  EXPECT_EQ((by_key["poolwatch_http_request_duration_seconds_count;api;none;none"]), 1);
}

}  // namespace
}  // namespace poolwatch
