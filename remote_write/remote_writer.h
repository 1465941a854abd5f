#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
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

// Pushes what /metrics shows to one remote-write receiver. Every `interval` one thread
// snapshots the exposition into a SampleQueue (bounded: the oldest samples are dropped and
// counted); another sends the queue in batches of max_samples_per_send, so a slow or hanging
// receiver delays no snapshot (its samples wait in the queue instead): 2xx → sent; 5xx, 429 and
// network errors → the same batch again after a full-jitter backoff or the receiver's
// Retry-After (ClassifyHttpResult and FullJitterBackoff, the notifiers' policy); any other
// status → the batch is dropped as failed (a malformed request does not get better). Each kind
// of failure (retried, refused) is logged once until a request succeeds, and the recovery once. No
// secret of the options reaches a log line, a metric or an error: the `remote` label is `name`, or
// the URL without user info, path or query.
//
// Snapshot() and SendOnce() are the threads' steps, public so tests drive them without the
// threads and with time passed in. The queue between them is guarded by a mutex; everything
// else belongs to one of the two.
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

  // Starts the threads; the first snapshot is taken at once.
  void Start();
  // Ends the threads after one last snapshot and as much sending as fits in `deadline`
  // (retries included); what is still queued then is dropped and counted. Returns that count.
  // A request still under way at the deadline is ended (within about a second).
  size_t Stop(std::chrono::milliseconds deadline);

  // Takes the exposition into the queue with `now` as the samples' time.
  void Snapshot(TimePoint now);
  // Sends one batch: the one being retried, else the next from the queue. `timeout` bounds the
  // POST; `unit_random` in [0, 1) draws the backoff.
  SendStep SendOnce(TimePoint now, std::chrono::milliseconds timeout, double unit_random);

  size_t pending() const;  // queued or in flight
  const std::string& remote() const { return remote_; }
  static std::string DefaultRemoteName(std::string_view url);  // the URL, nothing secret

 private:
  void SnapshotLoop();
  void SendLoop();
  void PublishPending();

  RemoteWriteOptions options_;
  Deps deps_;
  std::string remote_;
  SnapshotReader reader_;   // the snapshot thread's
  std::string exposition_;  // the snapshot thread's, reused between snapshots
  // The sender's: the batch taken from the queue and not yet delivered, and its state.
  std::vector<QueuedSample> batch_;
  WriteRequestEncoder encoder_;
  std::string body_;  // batch_ encoded
  int retries_ = 0;   // of batch_
  // The kind of failure last logged (kRetry or kRejected; kIdle: none since the last success):
  // each kind is logged once until a request succeeds, which is logged then.
  SendStep::Outcome logged_ = SendStep::kIdle;
  std::mt19937_64 random_{std::random_device{}()};

  prometheus::Counter* samples_total_ = nullptr;
  prometheus::Counter* sent_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Counter* dropped_queue_full_ = nullptr;
  prometheus::Counter* dropped_shutdown_ = nullptr;
  prometheus::Counter* retries_total_ = nullptr;
  prometheus::Gauge* pending_gauge_ = nullptr;
  prometheus::Gauge* last_success_ = nullptr;

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // a snapshot was queued, or stopping began or advanced
  SampleQueue queue_;             // mutex_
  size_t in_flight_ = 0;          // mutex_: batch_.size(), for pending()
  bool stopping_ = false;         // mutex_
  bool snapshots_done_ = false;   // mutex_: the last snapshot is queued
  std::chrono::steady_clock::time_point stop_by_{};  // mutex_
  // stop_by_ in steady_clock ticks once stopping, for a request under way; 0 before.
  std::atomic<int64_t> cancel_at_ticks_{0};
  size_t abandoned_ = 0;  // set by the sender before it ends
  std::thread snapshot_thread_, send_thread_;
};

}  // namespace poolwatch
