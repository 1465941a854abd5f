// The HTTP server in this process on a free loopback port (the suite's one server start):
// /metrics with and without gzip, and the two probes of Prometheus's kind.
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "tests/support/test_support.h"
#include "web/http_server.h"

namespace poolwatch::testing {
namespace {

// A collectable with one fixed family, standing in for the process metrics.
class FixedCollectable : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family{
        "extra_value", "Added by hand.", prometheus::MetricType::Gauge, {}};
    family.metric.emplace_back().gauge.value = 42;
    return {family};
  }
};

TEST(MetricsEndpoint, GzipAndPlainScrapesCarryTheSameExpositionAndProbesAnswer) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& requests = prometheus::BuildCounter()
                       .Name("poolwatch_http_requests_total")
                       .Help("Requests.")
                       .Register(*registry);
  auto& durations = prometheus::BuildHistogram()
                        .Name("poolwatch_http_request_duration_seconds")
                        .Help("Durations.")
                        .Register(*registry);
  for (int pool = 0; pool < 20; ++pool) {
    for (int release = 0; release < 20; ++release) {
      // (appended: GCC 12 warns falsely about "v" + std::to_string(…), -Wrestrict)
      const std::string p = std::string("pool-").append(std::to_string(pool));
      const std::string r = std::string("v").append(std::to_string(release));
      requests.Add({{"pool", p}, {"release", r}, {"status", "200"}}).Increment(pool * release);
      durations.Add({{"pool", p}, {"release", r}}, prometheus::Histogram::BucketBoundaries{0.1, 1})
          .Observe(0.01 * release);
    }
  }
  HttpServer::Options options;
  options.listen_addresses = {"127.0.0.1:0"};
  HttpServer server(options, registry);
  server.AddExposition(
      [](std::string& out) { out += "# TYPE extra_value gauge\nextra_value 42\n"; });
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  // Healthy as soon as it answers; ready only once told.
  EXPECT_EQ(HttpGet(base + "/-/healthy").status, 200);
  EXPECT_EQ(HttpGet(base + "/healthz").status, 200);
  EXPECT_EQ(HttpGet(base + "/-/ready").status, 503);
  server.SetReady(true);
  EXPECT_EQ(HttpGet(base + "/-/ready").status, 200);
  EXPECT_EQ(HttpGet(base + "/-/healthy").status, 200);
  EXPECT_EQ(HttpPost(base + "/-/healthy").status, 404) << "only GET and HEAD";

  const HttpResponse plain = HttpGet(base + "/metrics");
  ASSERT_EQ(plain.status, 200) << plain.error;
  EXPECT_EQ(plain.headers.count("content-encoding"), 0u);
  EXPECT_EQ(plain.headers.at("vary"), "Accept-Encoding");
  EXPECT_EQ(plain.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(plain.body.find("poolwatch_http_requests_total{pool=\"pool-19\",release=\"v19\","
                            "status=\"200\"} 361\n"),
            std::string::npos);
  EXPECT_NE(plain.body.find("\nextra_value 42\n"), std::string::npos)
      << "what is added is served after the registry";

  const HttpResponse zipped = HttpGetWithHeaders(base + "/metrics", {"Accept-Encoding: gzip"});
  ASSERT_EQ(zipped.status, 200) << zipped.error;
  EXPECT_EQ(zipped.headers.at("content-encoding"), "gzip");
  EXPECT_EQ(zipped.headers.at("vary"), "Accept-Encoding");
  EXPECT_EQ(zipped.headers.at("content-length"), std::to_string(zipped.body.size()));
  EXPECT_LT(zipped.body.size(), plain.body.size() / 5);
  std::string unzipped;
  ASSERT_TRUE(Gunzip(zipped.body, &unzipped)) << "not one complete gzip member";
  EXPECT_EQ(unzipped, plain.body);

  // As Prometheus and browsers send it, and refusals.
  const auto encoding = [&](const std::string& accept_encoding) {
    const HttpResponse r =
        HttpGetWithHeaders(base + "/metrics", {"Accept-Encoding: " + accept_encoding});
    EXPECT_EQ(r.status, 200) << accept_encoding << ": " << r.error;
    auto it = r.headers.find("content-encoding");
    return it == r.headers.end() ? std::string("identity") : it->second;
  };
  EXPECT_EQ(encoding("gzip, deflate, br"), "gzip");
  EXPECT_EQ(encoding("*"), "gzip");
  EXPECT_EQ(encoding("gzip;q=0"), "identity");
  EXPECT_EQ(encoding("*;q=0, identity"), "identity");
  EXPECT_EQ(encoding("br"), "identity");
}

}  // namespace
}  // namespace poolwatch::testing
