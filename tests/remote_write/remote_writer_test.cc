#include "remote_write/remote_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <deque>
#include <thread>

#include "exporter/exposition.h"
#include "remote_write/remote_write.pb.h"
#include "remote_write/write_request.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

const TimePoint kT0 = TimePoint{} + std::chrono::seconds(1764140400);

// A receiver that answers from a script (then 200) and keeps every request.
struct FakeReceiver {
  std::deque<HttpResult> script;
  std::vector<HttpPostRequest> requests;

  HttpResult operator()(const HttpPostRequest& request) {
    requests.push_back(request);
    if (script.empty()) return HttpResult{200, "", "", ""};
    HttpResult next = script.front();
    script.pop_front();
    return next;
  }
};

struct Harness {
  prometheus::Registry registry;
  FakeReceiver receiver;
  std::vector<std::string> logs;
  std::string exposition = "m_total{pool=\"blue\"} 1\nn 2\nk 3\n";  // three samples

  std::unique_ptr<RemoteWriter> Make(RemoteWriteOptions options) {
    RemoteWriter::Deps deps;
    deps.exposition = [this](std::string& out) { out += exposition; };
    deps.send = [this](const HttpPostRequest& r) { return receiver(r); };
    deps.log = [this](std::string_view line) { logs.emplace_back(line); };
    deps.registry = &registry;
    deps.target_labels = {{"job", "poolwatch"}, {"instance", "node1"}};
    return std::make_unique<RemoteWriter>(std::move(options), std::move(deps));
  }
  std::string Metrics() {
    std::string text;
    AppendTextExposition(registry.Collect(), text);
    return text;
  }
  double Metric(const std::string& name, const std::string& extra = "") {
    const std::string text = Metrics();
    const std::string head = name + "{" + extra;
    size_t at = text.find("\n" + head);
    if (at == std::string::npos) return -1;
    size_t space = text.find(' ', text.find('}', at));
    return std::stod(text.substr(space + 1));
  }
};

RemoteWriteOptions Options() {
  RemoteWriteOptions options;
  options.url = "https://user:s3cretpass@metrics.example/api/v1/write?token=abcdef123456";
  options.name = "central";
  options.capacity = 100;
  options.max_samples_per_send = 2;
  options.min_backoff = 100ms;
  options.max_backoff = 1s;
  return options;
}

remote_write::WriteRequest Decode(const std::string& body) {
  std::string raw;
  EXPECT_TRUE(SnappyUncompress(body, raw));
  remote_write::WriteRequest request;
  EXPECT_TRUE(request.ParseFromString(raw));
  return request;
}

TEST(RemoteWriter, PostsProtobufWithSnappyAndTheProtocolsHeaders) {
  Harness h;
  RemoteWriteOptions options = Options();
  options.headers = {{"X-Scope-OrgID", "team-a"}};
  options.bearer_token = "tok";
  auto writer = h.Make(options);
  writer->Snapshot(kT0);
  EXPECT_EQ(writer->SendOnce(kT0, 2s, 0.5).outcome, RemoteWriter::SendStep::kSent);

  ASSERT_EQ(h.receiver.requests.size(), 1u);
  const HttpPostRequest& request = h.receiver.requests[0];
  EXPECT_EQ(request.url, options.url);
  EXPECT_EQ(request.content_type, "application/x-protobuf");
  EXPECT_THAT(request.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                   "Content-Encoding", "snappy")));
  EXPECT_THAT(request.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                   "X-Prometheus-Remote-Write-Version", "0.1.0")));
  EXPECT_THAT(request.headers,
              ::testing::Contains(std::pair<std::string, std::string>("X-Scope-OrgID", "team-a")));
  EXPECT_EQ(request.bearer_token, "tok");
  EXPECT_EQ(request.timeout, 2s);
  const auto decoded = Decode(request.body);
  ASSERT_EQ(decoded.timeseries_size(), 2);  // max_samples_per_send
  const auto& first = decoded.timeseries(0);
  ASSERT_EQ(first.labels_size(), 4);
  EXPECT_EQ(first.labels(0).name(), "__name__");
  EXPECT_EQ(first.labels(0).value(), "m_total");
  EXPECT_EQ(first.labels(1).name(), "instance");
  EXPECT_EQ(first.labels(2).name(), "job");
  EXPECT_EQ(first.labels(3).name(), "pool");
  EXPECT_EQ(first.samples(0).timestamp(), 1764140400000);
  EXPECT_EQ(first.samples(0).value(), 1);
}

TEST(RemoteWriter, SendsTheQueueInBatchesAndCountsWhatWasSent) {
  Harness h;
  auto writer = h.Make(Options());
  writer->Snapshot(kT0);
  writer->Snapshot(kT0 + 1s);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_total"), 6);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_pending"), 6);
  int posts = 0;
  while (writer->SendOnce(kT0 + 2s, 1s, 0.5).outcome == RemoteWriter::SendStep::kSent) ++posts;
  EXPECT_EQ(posts, 3);
  EXPECT_EQ(writer->SendOnce(kT0 + 2s, 1s, 0.5).outcome, RemoteWriter::SendStep::kIdle);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_sent_total"), 6);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_pending"), 0);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_last_success_timestamp_seconds"), 1764140402);
}

TEST(RemoteWriter, RetriesTheSameBodyOn5xxAnd429HonouringRetryAfter) {
  Harness h;
  h.receiver.script = {HttpResult{503, "busy", "", ""}, HttpResult{429, "", "7", ""},
                       HttpResult{0, "", "", "Connection refused"}};
  auto writer = h.Make(Options());
  writer->Snapshot(kT0);

  auto step = writer->SendOnce(kT0, 1s, 0.5);
  EXPECT_EQ(step.outcome, RemoteWriter::SendStep::kRetry);
  EXPECT_EQ(step.wait, 50ms);  // full jitter: half of min_backoff at the first retry
  step = writer->SendOnce(kT0, 1s, 0.5);
  EXPECT_EQ(step.outcome, RemoteWriter::SendStep::kRetry);
  EXPECT_EQ(step.wait, 7s);  // Retry-After
  step = writer->SendOnce(kT0, 1s, 0.999);
  EXPECT_EQ(step.outcome, RemoteWriter::SendStep::kRetry);
  EXPECT_EQ(step.wait, 399ms);  // third retry: up to 4 × min_backoff
  EXPECT_EQ(writer->SendOnce(kT0, 1s, 0.5).outcome, RemoteWriter::SendStep::kSent);

  ASSERT_EQ(h.receiver.requests.size(), 4u);
  for (const auto& r : h.receiver.requests) EXPECT_EQ(r.body, h.receiver.requests[0].body);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_retries_total"), 3);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_sent_total"), 2);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_failed_total"), 0);
  // One warning for the outage, one line for the recovery.
  ASSERT_EQ(h.logs.size(), 2u);
  EXPECT_THAT(h.logs[0], HasSubstr("HTTP 503: busy"));
  EXPECT_THAT(h.logs[1], HasSubstr("recovered"));
}

TEST(RemoteWriter, DropsABatchRefusedWith4xxCountsItAndLogsOnce) {
  Harness h;
  h.receiver.script = {HttpResult{400, "out of order sample", "", ""},
                       HttpResult{400, "out of order sample", "", ""}};
  auto writer = h.Make(Options());
  writer->Snapshot(kT0);
  EXPECT_EQ(writer->SendOnce(kT0, 1s, 0.5).outcome, RemoteWriter::SendStep::kRejected);
  EXPECT_EQ(writer->SendOnce(kT0, 1s, 0.5).outcome, RemoteWriter::SendStep::kRejected);
  EXPECT_EQ(writer->SendOnce(kT0, 1s, 0.5).outcome, RemoteWriter::SendStep::kIdle);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_failed_total"), 3);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_sent_total"), 0);
  ASSERT_EQ(h.logs.size(), 1u);
  EXPECT_THAT(h.logs[0], HasSubstr("HTTP 400: out of order sample"));
}

TEST(RemoteWriter, LogsEachKindOfFailureOnceUntilARequestSucceeds) {
  Harness h;
  h.receiver.script = {HttpResult{503, "", "", ""}, HttpResult{503, "", "", ""},
                       HttpResult{401, "", "", ""}, HttpResult{401, "", "", ""},
                       HttpResult{503, "", "", ""}};
  RemoteWriteOptions options = Options();
  options.max_samples_per_send = 1;
  auto writer = h.Make(options);
  writer->Snapshot(kT0);
  writer->Snapshot(kT0 + 1s);
  for (int i = 0; i < 6; ++i) writer->SendOnce(kT0 + 2s, 1s, 0.5);
  ASSERT_EQ(h.logs.size(), 4u) << ::testing::PrintToString(h.logs);
  EXPECT_THAT(h.logs[0], HasSubstr("HTTP 503"));
  EXPECT_THAT(h.logs[1], HasSubstr("HTTP 401"));
  EXPECT_THAT(h.logs[2], HasSubstr("HTTP 503"));
  EXPECT_THAT(h.logs[3], HasSubstr("recovered"));
}

TEST(RemoteWriter, AFullQueueDropsTheOldestSamplesAndCountsThem) {
  Harness h;
  RemoteWriteOptions options = Options();
  options.capacity = 5;
  auto writer = h.Make(options);
  writer->Snapshot(kT0);
  writer->Snapshot(kT0 + 1s);
  writer->Snapshot(kT0 + 2s);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_dropped_total", "reason=\"queue_full\""), 4);
  EXPECT_EQ(writer->pending(), 5u);
  // The newest survive: the first batch starts with the second snapshot's second sample.
  writer->SendOnce(kT0 + 3s, 1s, 0.5);
  const auto first = Decode(h.receiver.requests[0].body);
  EXPECT_EQ(first.timeseries(0).samples(0).timestamp(), 1764140401000);
  EXPECT_EQ(first.timeseries(0).samples(0).value(), 2);
}

TEST(RemoteWriter, NoSecretReachesTheLogsOrTheMetrics) {
  Harness h;
  RemoteWriteOptions options = Options();
  options.name.clear();
  options.basic_auth_password = "hunter2pass";
  // A receiver that echoes the URL and a transport error that names it.
  h.receiver.script = {HttpResult{0, "", "", "Could not resolve " + options.url},
                       HttpResult{200, "", "", ""},
                       HttpResult{401, "bad credentials for " + options.url, "", ""}};
  auto writer = h.Make(options);
  writer->Snapshot(kT0);
  writer->SendOnce(kT0, 1s, 0.5);
  writer->SendOnce(kT0, 1s, 0.5);
  writer->SendOnce(kT0, 1s, 0.5);
  std::string everything = h.Metrics();
  for (const auto& line : h.logs) everything += line + "\n";
  ASSERT_EQ(h.logs.size(), 3u);
  for (const std::string secret : {"s3cretpass", "abcdef123456", "hunter2pass", "user:"}) {
    EXPECT_THAT(everything, Not(HasSubstr(secret))) << everything;
  }
  EXPECT_THAT(everything, HasSubstr("remote=\"https://metrics.example/<redacted>\""));
}

TEST(RemoteWriter, StopSendsALastSnapshotWithinTheDeadline) {
  Harness h;
  RemoteWriteOptions options = Options();
  options.interval = std::chrono::hours(1);
  options.max_samples_per_send = 100;
  auto writer = h.Make(options);
  writer->Start();  // the first snapshot at once
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return h.Metric("poolwatch_remote_write_samples_sent_total") == 3; }, 10s));
  EXPECT_EQ(writer->Stop(5s), 0u);
  // The start's snapshot and the last one, both delivered.
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_sent_total"), 6);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_dropped_total", "reason=\"shutdown\""), 0);
}

// Snapshots keep their schedule while a request hangs: their samples wait in the queue.
TEST(RemoteWriter, AHangingReceiverDelaysNoSnapshot) {
  Harness h;
  std::mutex mutex;
  std::condition_variable released_cv;
  bool released = false;
  RemoteWriteOptions options = Options();
  options.interval = 20ms;
  options.max_samples_per_send = 1000;
  RemoteWriter::Deps deps;
  deps.exposition = [&h](std::string& out) { out += h.exposition; };
  deps.send = [&](const HttpPostRequest&) {
    std::unique_lock<std::mutex> lock(mutex);
    released_cv.wait(lock, [&] { return released; });
    return HttpResult{200, "", "", ""};
  };
  deps.registry = &h.registry;
  RemoteWriter writer(options, deps);
  writer.Start();
  // The first request hangs; meanwhile at least five more snapshots are queued.
  EXPECT_TRUE(testing::WaitUntil(
      [&] { return h.Metric("poolwatch_remote_write_samples_total") >= 18; }, 10s));
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_sent_total"), 0);
  {
    std::lock_guard<std::mutex> lock(mutex);
    released = true;
  }
  released_cv.notify_all();
  EXPECT_EQ(writer.Stop(5s), 0u);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_sent_total"),
            h.Metric("poolwatch_remote_write_samples_total"));
}

// A request that hangs when shutdown begins is told to end at the deadline (CurlHttpPoster
// polls `cancelled` from curl's progress callback).
TEST(RemoteWriter, StopEndsARequestStillUnderWayAtTheDeadline) {
  Harness h;
  std::atomic<bool> in_request{false};
  RemoteWriteOptions options = Options();
  options.interval = std::chrono::hours(1);
  options.max_samples_per_send = 1000;
  RemoteWriter::Deps deps;
  deps.exposition = [&h](std::string& out) { out += h.exposition; };
  deps.send = [&](const HttpPostRequest& request) {
    in_request = true;
    const auto give_up = std::chrono::steady_clock::now() + 20s;  // the test's own bound
    while (!request.cancelled() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);  // a hanging receiver, as curl polls it
    }
    return HttpResult{0, "", "", "Callback aborted"};
  };
  deps.registry = &h.registry;
  RemoteWriter writer(options, deps);
  writer.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return in_request.load(); }, 10s));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(writer.Stop(200ms), 6u);  // the hanging batch and the last snapshot
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_dropped_total", "reason=\"shutdown\""), 6);
}

TEST(RemoteWriter, StopGivesUpAtTheDeadlineAndCountsWhatIsLeft) {
  Harness h;
  for (int i = 0; i < 1000; ++i) h.receiver.script.push_back(HttpResult{503, "", "", ""});
  RemoteWriteOptions options = Options();
  options.interval = std::chrono::hours(1);
  options.min_backoff = 10ms;
  options.max_backoff = 20ms;
  auto writer = h.Make(options);
  writer->Start();
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return h.Metric("poolwatch_remote_write_retries_total") >= 1; }, 10s));
  const auto started = std::chrono::steady_clock::now();
  const size_t lost = writer->Stop(300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(lost, 6u);  // two snapshots of three samples, none delivered
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_dropped_total", "reason=\"shutdown\""), 6);
  EXPECT_EQ(h.Metric("poolwatch_remote_write_samples_pending"), 0);
}

}  // namespace
}  // namespace poolwatch
