#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alerting/notify/http_poster.h"
#include "core/log_record.h"
#include "remote_write/remote_write_options.h"
#include "remote_write/sample_queue.h"
#include "remote_write/write_request.h"

namespace poolwatch {

// Pushes what /metrics shows to one remote-write receiver. Every `interval` its thread
// snapshots the exposition into a SampleQueue (bounded: the oldest samples are dropped and
// counted), and sends the queue in batches of max_samples_per_send: 2xx → sent; 5xx, 429 and
// network errors → the same batch again after a full-jitter backoff or the receiver's
// Retry-After (ClassifyHttpResult and FullJitterBackoff, the notifiers' policy); any other
// status → the batch is dropped as failed (a malformed request does not get better). Failures
// are logged once per outage, and the recovery once. No secret of the options reaches a log
// line, a metric or an error: the `remote` label is `name`, or the URL without user info,
// path or query.
//
// Snapshot() and SendOnce() are the thread's steps, public so tests drive them without the
// thread and with time passed in; a RemoteWriter is then used by one thread only.
class RemoteWriter {
 public:
  struct Deps {
    // Appends what /metrics serves (HttpServer::AppendMetricsText). Called on the writer's
    // thread while scrapes run: it must be thread-safe, as a scrape is.
    std::function<void(std::string& out)> exposition;
    // The POST (CurlHttpPoster::Send in the daemon, a fake in tests).
    std::function<HttpResult(const HttpPostRequest&)> send;
    std::function<void(std::string_view)> log;         // warnings and recoveries; may be empty
    prometheus::Registry* registry = nullptr;          // self-metrics; may be null
    std::map<std::string, std::string> target_labels;  // job, instance
  };
  // What one SendOnce() did.
  struct SendStep {
    enum Outcome { kIdle, kSent, kRetry, kRejected } outcome = kIdle;
    size_t samples = 0;                 // in the batch
    std::chrono::milliseconds wait{0};  // kRetry: before the next attempt
  };

  RemoteWriter(RemoteWriteOptions options, Deps deps);
  ~RemoteWriter();  // Stop(0) if still running
  RemoteWriter(const RemoteWriter&) = delete;
  RemoteWriter& operator=(const RemoteWriter&) = delete;

  // Starts the thread; its first snapshot is taken at once.
  void Start();
  // Ends the thread after one last snapshot and as much sending as fits in `deadline`
  // (retries included); what is still queued then is dropped and counted. Returns that count.
  size_t Stop(std::chrono::milliseconds deadline);

  // Takes the exposition into the queue with `now` as the samples' time.
  void Snapshot(TimePoint now);
  // Sends one batch: the one being retried, else the next from the queue. `timeout` bounds the
  // POST; `unit_random` in [0, 1) draws the backoff.
  SendStep SendOnce(TimePoint now, std::chrono::milliseconds timeout, double unit_random);

  size_t pending() const { return queue_.size() + batch_.size(); }
  const std::string& remote() const { return remote_; }
  static std::string DefaultRemoteName(std::string_view url);  // the URL, nothing secret

 private:
  void Run();
  void PublishPending();

  RemoteWriteOptions options_;
  Deps deps_;
  std::string remote_;
  SnapshotReader reader_;
  SampleQueue queue_;
  std::vector<QueuedSample> batch_;  // taken from the queue, not yet delivered
  WriteRequestEncoder encoder_;
  std::string body_;        // batch_ encoded
  int retries_ = 0;         // of batch_
  bool failing_ = false;    // logged a failure; the next success logs the recovery
  std::string exposition_;  // reused between snapshots
  std::mt19937_64 random_{std::random_device{}()};

  prometheus::Counter* samples_total_ = nullptr;
  prometheus::Counter* sent_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Counter* dropped_queue_full_ = nullptr;
  prometheus::Counter* dropped_shutdown_ = nullptr;
  prometheus::Counter* retries_total_ = nullptr;
  prometheus::Gauge* pending_gauge_ = nullptr;
  prometheus::Gauge* last_success_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                            // mutex_
  std::chrono::steady_clock::time_point stop_by_{};  // mutex_
  size_t abandoned_ = 0;                             // set by the thread before it ends
  std::thread thread_;
};

}  // namespace poolwatch
