// poolwatch pushing to a real Prometheus started with --web.enable-remote-write-receiver: the
// series arrive with the external labels and /metrics' values, and an outage of the receiver
// loses only what the bounded queue could not hold, counted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/log_record.h"
#include "tests/support/test_support.h"
#include "web/basic_auth.h"

namespace poolwatch::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr auto kDeadline = 30s;

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof(buffer), "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

// A Prometheus that only receives (no scrape jobs), on `port`, keeping its data in `dir`.
std::unique_ptr<Process> StartReceiver(const std::filesystem::path& dir, int port) {
  WriteFile(dir / "prometheus.yml", "global:\n  scrape_interval: 1m\n");
  return std::make_unique<Process>(
      std::vector<std::string>{FindProgram("prometheus"),
                               "--config.file=" + (dir / "prometheus.yml").string(),
                               "--storage.tsdb.path=" + (dir / "tsdb").string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port),
                               "--web.enable-remote-write-receiver"},
      dir / "prometheus.log");
}

// The single value of an instant query (at `time` when given), or nullopt while it has none.
std::optional<double> Query(int port, const std::string& query, const std::string& time = "") {
  HttpResponse r = HttpGet("http://127.0.0.1:" + std::to_string(port) + "/api/v1/query?query=" +
                           UrlEncode(query) + (time.empty() ? "" : "&time=" + time));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || j["status"] != "success" || j["data"]["result"].size() != 1) {
    return std::nullopt;
  }
  return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
}

// How many raw samples Prometheus holds for `selector` over `range` ending now (or at `time`):
// a range query returns them one by one. nullopt when the query fails.
std::optional<size_t> StoredSamples(int port, const std::string& selector, const std::string& range,
                                    const std::string& time = "") {
  HttpResponse r = HttpGet("http://127.0.0.1:" + std::to_string(port) + "/api/v1/query?query=" +
                           UrlEncode(selector + range) + (time.empty() ? "" : "&time=" + time));
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || j["status"] != "success") return std::nullopt;
  size_t n = 0;
  for (const auto& series : j["data"]["result"]) n += series["values"].size();
  return n;
}

std::string PoolwatchConfig(const std::filesystem::path& dir, int receiver_port,
                            const std::string& extra) {
  return "log:\n  path: " + (dir / "access.log").string() +
         "\n  start_at: beginning\ninstance: node-a\n"
         "remote_write:\n"
         // User info in the URL: a secret that must not show anywhere (Prometheus ignores it).
         "  - url: http://pusher:urlsecret99@127.0.0.1:" +
         std::to_string(receiver_port) + "/api/v1/write\n" + extra;
}

TEST(RemoteWrite, SeriesArriveWithTheExternalLabelsAndTheValuesOfMetrics) {
  if (FindProgram("prometheus").empty()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  const int receiver_port = FreePort();
  auto receiver = StartReceiver(dir.path(), receiver_port);

  std::string log;
  for (int i = 0; i < 37; ++i) log += DefaultFormatLine(i, 200, "blue") + "\n";
  for (int i = 0; i < 5; ++i) log += DefaultFormatLine(40 + i, 503, "blue") + "\n";
  WriteFile(dir / "access.log", log);
  WriteFile(dir / "poolwatch.yml",
            PoolwatchConfig(dir.path(), receiver_port,
                            "    interval: 200ms\n    external_labels: {region: eu-west}\n"
                            "    headers: {X-Api-Key: hdrsecret77}\n"));
  Process poolwatch({POOLWATCH_BINARY, "--config.file", (dir / "poolwatch.yml").string(),
                     "--web.listen-address", "127.0.0.1:0"},
                    dir / "poolwatch.out");
  const int port = WaitForListeningPort(poolwatch);
  ASSERT_NE(port, 0) << poolwatch.Output();
  const std::string metrics_url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  ASSERT_TRUE(WaitUntil(
      [&] { return MetricValue(HttpGet(metrics_url).body, "poolwatch_http_requests_total") == 42; },
      kDeadline));

  // Every series of the request counter, as Prometheus holds it, equals /metrics.
  const std::string metrics = HttpGet(metrics_url).body;
  for (const std::string status : {"200", "503"}) {
    const double expected = MetricValue(metrics, "poolwatch_http_requests_total",
                                        {{"pool", "blue"}, {"status", status}});
    ASSERT_GT(expected, 0);
    const std::string query =
        "sum(poolwatch_http_requests_total{job=\"poolwatch\","
        "instance=\"node-a\",region=\"eu-west\",pool=\"blue\",status=\"" +
        status + "\"})";
    EXPECT_TRUE(
        WaitUntil([&] { return Query(receiver_port, query) == expected; }, kDeadline, 250ms))
        << query << " never became " << expected << "\n"
        << receiver->Output();
  }
  // Histograms arrive as their series: buckets, sum and count.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Query(receiver_port,
                     "sum(poolwatch_http_request_duration_seconds_bucket{le=\"+Inf\","
                     "region=\"eu-west\"})") == 42 &&
               Query(receiver_port,
                     "sum(poolwatch_http_request_duration_seconds_count{region=\"eu-west\"})") ==
                   42 &&
               Query(receiver_port,
                     "count(poolwatch_http_request_duration_seconds_sum{region=\"eu-west\"})")
                   .has_value();
      },
      kDeadline, 250ms));
  // The writer's own metrics are pushed too, and say what was sent.
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto sent = Query(receiver_port, "sum(poolwatch_remote_write_samples_sent_total)");
        return sent && *sent > 0;
      },
      kDeadline, 250ms));

  // No secret in what poolwatch shows, nor in the series it pushed.
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::string everything =
      HttpGet(metrics_url).body + HttpGet(base + "/").body + HttpGet(base + "/api/v1/status").body +
      HttpGet("http://127.0.0.1:" + std::to_string(receiver_port) + "/api/v1/label/remote/values")
          .body;
  ASSERT_NE(everything.find("poolwatch_remote_write_samples_sent_total"), std::string::npos);
  ASSERT_EQ(poolwatch.Stop(), 0);
  everything += poolwatch.Output();
  for (const std::string secret : {"urlsecret99", "pusher", "hdrsecret77"}) {
    EXPECT_THAT(everything, Not(HasSubstr(secret)));
  }
}

// Counters of the writer in one scrape of /metrics.
struct WriterCounts {
  double taken = 0, sent = 0, dropped = 0, failed = 0, pending = 0;
  bool Balanced() const { return taken == sent + dropped + failed + pending; }
};
WriterCounts Counts(const std::string& metrics) {
  return {MetricValue(metrics, "poolwatch_remote_write_samples_total"),
          MetricValue(metrics, "poolwatch_remote_write_samples_sent_total"),
          MetricValue(metrics, "poolwatch_remote_write_samples_dropped_total"),
          MetricValue(metrics, "poolwatch_remote_write_samples_failed_total"),
          MetricValue(metrics, "poolwatch_remote_write_samples_pending")};
}

TEST(RemoteWrite, AnOutageLosesOnlyWhatTheQueueCannotHoldAndCountsIt) {
  if (FindProgram("prometheus").empty()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  const int receiver_port = FreePort();
  auto receiver = StartReceiver(dir.path(), receiver_port);
  WriteFile(dir / "access.log", "");
  constexpr int kCapacity = 1000;
  constexpr int kBatch = 200;
  WriteFile(dir / "poolwatch.yml",
            PoolwatchConfig(dir.path(), receiver_port,
                            "    interval: 100ms\n"
                            "    queue_config: {capacity: " +
                                std::to_string(kCapacity) +
                                ", max_samples_per_send: " + std::to_string(kBatch) +
                                ", min_backoff: 50ms, max_backoff: 200ms}\n"));
  Process poolwatch({POOLWATCH_BINARY, "--config.file", (dir / "poolwatch.yml").string(),
                     "--web.listen-address", "127.0.0.1:0"},
                    dir / "poolwatch.out");
  const int port = WaitForListeningPort(poolwatch);
  ASSERT_NE(port, 0) << poolwatch.Output();
  const std::string metrics_url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  auto scrape = [&] { return Counts(HttpGet(metrics_url).body); };
  ASSERT_TRUE(WaitUntil([&] { return scrape().sent > 0; }, kDeadline)) << poolwatch.Output();

  // The receiver goes away until the queue has overflowed for a while.
  receiver->Stop();
  const double down_at = std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  const WriterCounts before = scrape();
  ASSERT_TRUE(WaitUntil([&] { return scrape().dropped >= kCapacity; }, kDeadline))
      << poolwatch.Output();
  EXPECT_LE(scrape().pending, kCapacity + kBatch);
  receiver = StartReceiver(dir.path(), receiver_port);
  const double up_at = std::chrono::duration<double>(Clock::now().time_since_epoch()).count();

  // Back: the queue drains, and the counts add up.
  WriterCounts settled;
  ASSERT_TRUE(WaitUntil(
      [&] {
        settled = scrape();
        return settled.pending < kBatch && settled.sent > before.sent + kCapacity &&
               settled.Balanced();
      },
      kDeadline))
      << poolwatch.Output();
  EXPECT_EQ(settled.failed, 0);
  EXPECT_GT(settled.dropped, 0);

  // Prometheus holds exactly what poolwatch counted as sent: nothing lost beyond the dropped
  // samples, nothing twice. (Samples the receiver stored but whose answer poolwatch has not yet
  // counted are at most one batch.)
  const std::string selector = "{__name__=~\".+\",job=\"poolwatch\"}";
  const double sent_before = scrape().sent;
  const std::optional<size_t> stored = StoredSamples(receiver_port, selector, "[10m]");
  const double sent_after = scrape().sent;
  ASSERT_TRUE(stored.has_value()) << receiver->Output();
  EXPECT_GE(static_cast<double>(*stored), sent_before);
  EXPECT_LE(static_cast<double>(*stored), sent_after + kBatch);

  // What the queue held through the outage arrived: its samples are stamped while the receiver
  // was down.
  char window[64];
  std::snprintf(window, sizeof(window), "[%dms]", static_cast<int>((up_at - down_at) * 1000));
  char at[64];
  std::snprintf(at, sizeof(at), "%.3f", up_at);
  const std::optional<size_t> during = StoredSamples(receiver_port, selector, window, at);
  ASSERT_TRUE(during.has_value());
  EXPECT_GE(*during, static_cast<size_t>(kCapacity -
                                         kBatch));  // the queue's worth (one snapshot may be cut)
  EXPECT_THAT(poolwatch.Output(), HasSubstr("failed, retrying with backoff"));
  EXPECT_THAT(poolwatch.Output(), HasSubstr("recovered"));
  EXPECT_THAT(poolwatch.Output(), Not(HasSubstr("urlsecret99")));
}

// TLS with a CA file and server_name, and basic auth from a password file, against a Prometheus
// that requires both (its --web.config.file). The certificate names only receiver.test, so
// only the receiver with server_name gets through; a wrong password is refused with 401 and
// counted as failed, not retried.
TEST(RemoteWrite, TlsServerNameAndBasicAuthReachAGuardedReceiver) {
  if (FindProgram("prometheus").empty() || FindProgram("openssl").empty()) {
    GTEST_SKIP() << "needs prometheus and openssl";
  }
  TempDir dir;
  std::string out;
  ASSERT_EQ(
      RunCommand({FindProgram("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                  "2", "-subj", "/CN=receiver.test", "-addext", "subjectAltName=DNS:receiver.test",
                  "-keyout", (dir / "server.key").string(), "-out", (dir / "server.crt").string()},
                 &out),
      0)
      << out;
  WriteFile(dir / "web.yml",
            "tls_server_config:\n  cert_file: " + (dir / "server.crt").string() +
                "\n  key_file: " + (dir / "server.key").string() +
                "\nbasic_auth_users:\n  pusher: " + BasicAuth::Hash("pushpass42", 10) + "\n");
  WriteFile(dir / "prometheus.yml", "global:\n  scrape_interval: 1m\n");
  const int receiver_port = FreePort();
  Process receiver(
      {FindProgram("prometheus"), "--config.file=" + (dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir / "tsdb").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(receiver_port),
       "--web.config.file=" + (dir / "web.yml").string(), "--web.enable-remote-write-receiver"},
      dir / "prometheus.log");
  WriteFile(dir / "password", "pushpass42\n");
  WriteFile(dir / "wrong", "not-the-password\n");
  const std::string url = "https://127.0.0.1:" + std::to_string(receiver_port) + "/api/v1/write\n";
  const std::string tls = "    tls_config: {ca_file: " + (dir / "server.crt").string();
  WriteFile(dir / "access.log", "");
  WriteFile(dir / "poolwatch.yml",
            "log:\n  path: " + (dir / "access.log").string() +
                "\nremote_write:\n"
                "  - name: good\n    interval: 200ms\n    url: " +
                url + tls + ", server_name: receiver.test}\n" +
                "    basic_auth: {username: pusher, password_file: " + (dir / "password").string() +
                "}\n"
                "  - name: no_server_name\n    interval: 200ms\n    url: " +
                url + tls + "}\n" +
                "    basic_auth: {username: pusher, password_file: " + (dir / "password").string() +
                "}\n"
                "  - name: wrong_password\n    interval: 200ms\n    url: " +
                url + tls + ", server_name: receiver.test}\n" +
                "    basic_auth: {username: pusher, password_file: " + (dir / "wrong").string() +
                "}\n");
  Process poolwatch({POOLWATCH_BINARY, "--config.file", (dir / "poolwatch.yml").string(),
                     "--web.listen-address", "127.0.0.1:0"},
                    dir / "poolwatch.out");
  const int port = WaitForListeningPort(poolwatch);
  ASSERT_NE(port, 0) << poolwatch.Output();
  const std::string metrics_url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  auto metric = [&](const std::string& name, const std::string& remote) {
    return MetricValue(HttpGet(metrics_url).body, name, {{"remote", remote}});
  };
  EXPECT_TRUE(WaitUntil(
      [&] { return metric("poolwatch_remote_write_samples_sent_total", "good") > 0; }, kDeadline))
      << poolwatch.Output() << receiver.Output();
  EXPECT_TRUE(WaitUntil(
      [&] { return metric("poolwatch_remote_write_samples_failed_total", "wrong_password") > 0; },
      kDeadline))
      << poolwatch.Output();
  EXPECT_TRUE(WaitUntil(
      [&] { return metric("poolwatch_remote_write_retries_total", "no_server_name") > 0; },
      kDeadline))
      << poolwatch.Output();
  EXPECT_EQ(metric("poolwatch_remote_write_samples_failed_total", "good"), 0);
  EXPECT_EQ(metric("poolwatch_remote_write_samples_sent_total", "no_server_name"), 0);
  EXPECT_EQ(metric("poolwatch_remote_write_samples_sent_total", "wrong_password"), 0);
  EXPECT_THAT(poolwatch.Output(), HasSubstr("refused"));
  EXPECT_THAT(poolwatch.Output(), HasSubstr("HTTP 401"));
  ASSERT_EQ(poolwatch.Stop(), 0);
  EXPECT_THAT(poolwatch.Output(), Not(HasSubstr("pushpass42")));
  EXPECT_THAT(poolwatch.Output(), Not(HasSubstr("not-the-password")));
}

}  // namespace
}  // namespace poolwatch::testing
