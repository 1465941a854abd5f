#include "exporter/exposition.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace poolwatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string Serialized(const std::vector<MetricFamily>& families) {
  std::string out;
  AppendTextExposition(families, out);
  return out;
}

ClientMetric Metric(std::vector<ClientMetric::Label> labels) {
  ClientMetric metric;
  metric.label = std::move(labels);
  return metric;
}

TEST(TextExposition, WritesWhatPrometheusCppWritesForEveryMetricKind) {
  prometheus::Registry registry;
  auto& requests =
      prometheus::BuildCounter().Name("requests_total").Help("Requests.").Register(registry);
  requests.Add({{"pool", "blue"}, {"status", "200"}}).Increment(12345);
  requests.Add({{"pool", "gr\"een\\\n}"}, {"status", "500"}}).Increment(0.5);
  requests.Add({});
  auto& levels = prometheus::BuildGauge().Name("level").Help("A level.").Register(registry);
  levels.Add({{"kind", "third"}}).Set(0.1 + 0.2);
  levels.Add({{"kind", "big"}}).Set(123456789012345678.0);
  levels.Add({{"kind", "huge"}}).Set(1e21);
  levels.Add({{"kind", "tiny"}}).Set(1e-7);
  levels.Add({{"kind", "negative"}}).Set(-42.25);
  levels.Add({{"kind", "negative_zero"}}).Set(-0.0);
  levels.Add({{"kind", "nan"}}).Set(std::numeric_limits<double>::quiet_NaN());
  levels.Add({{"kind", "inf"}}).Set(-std::numeric_limits<double>::infinity());
  levels.Add({{"kind", "time"}}).Set(1764140000.123);
  levels.Add({{"kind", "fifteen_digits"}}).Set(999999999999999.0);
  levels.Add({{"kind", "sixteen_digits"}}).Set(9999999999999998.0);
  auto& durations =
      prometheus::BuildHistogram().Name("duration_seconds").Help("Durations.").Register(registry);
  for (const char* pool : {"blue", "green"}) {
    auto& h = durations.Add({{"pool", pool}}, prometheus::Histogram::BucketBoundaries{
                                                  0.005, 0.01, 0.025, 0.1, 1, 2.5, 10});
    for (double v : {0.001, 0.02, 0.3, 7.0, 11.0}) h.Observe(v);
  }
  auto& latencies = prometheus::BuildSummary().Name("latency").Help("Latency.").Register(registry);
  auto& summary =
      latencies.Add({{"pool", "blue"}}, prometheus::Summary::Quantiles{{0.5, 0.05}, {0.99, 0.001}});
  for (double v : {1.0, 2.0, 3.0}) summary.Observe(v);

  const std::vector<MetricFamily> families = registry.Collect();
  EXPECT_EQ(Serialized(families), prometheus::TextSerializer().Serialize(families));
}

TEST(TextExposition, FormatsNumbersAsPrometheusCppDoesOverAWideRange) {
  MetricFamily family{"value", "", MetricType::Untyped, {}};
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> exponent(-12, 22);
  for (int i = 0; i < 2000; ++i) {
    ClientMetric metric;
    const double magnitude = std::pow(10.0, exponent(random));
    metric.untyped.value = (i % 2 == 0 ? 1 : -1) * (i % 3 == 0 ? std::round(magnitude) : magnitude);
    family.metric.push_back(metric);
  }
  EXPECT_EQ(Serialized({family}), prometheus::TextSerializer().Serialize({family}));
}

TEST(TextExposition, WritesTimestampsUntypedFamiliesAndHistogramsWithoutAnInfBucket) {
  MetricFamily untyped{"stamped", "", MetricType::Untyped, {Metric({{"a", "b"}})}};
  untyped.metric[0].untyped.value = 3;
  untyped.metric[0].timestamp_ms = 1764140000123;
  MetricFamily histogram{"hand_made", "Built by hand.", MetricType::Histogram, {Metric({})}};
  histogram.metric[0].histogram.sample_count = 4;
  histogram.metric[0].histogram.sample_sum = 2.5;
  histogram.metric[0].histogram.bucket = {{1, 0.5}, {3, 1}};
  const std::vector<MetricFamily> families = {untyped, histogram};
  EXPECT_EQ(Serialized(families),
            "# TYPE stamped untyped\n"
            "stamped{a=\"b\"} 3 1764140000123\n"
            "# HELP hand_made Built by hand.\n"
            "# TYPE hand_made histogram\n"
            "hand_made_count 4\n"
            "hand_made_sum 2.5\n"
            "hand_made_bucket{le=\"0.5\"} 1\n"
            "hand_made_bucket{le=\"1\"} 3\n"
            "hand_made_bucket{le=\"+Inf\"} 4\n");
}

TEST(TextExposition, EscapesBackslashAndLineFeedInHelpSoTheCommentStaysOneLine) {
  const MetricFamily family{"odd", "a \\ b\nc \"d\"", MetricType::Gauge, {Metric({})}};
  EXPECT_EQ(Serialized({family}),
            "# HELP odd a \\\\ b\\nc \"d\"\n"
            "# TYPE odd gauge\n"
            "odd 0\n");
}

TEST(TextExposition, AppendsToWhatTheBufferAlreadyHolds) {
  const MetricFamily family{"up", "", MetricType::Gauge, {Metric({})}};
  std::string out = "# before\n";
  AppendTextExposition({family}, out);
  EXPECT_EQ(out, "# before\n# TYPE up gauge\nup 0\n");
}

}  // namespace
}  // namespace poolwatch
