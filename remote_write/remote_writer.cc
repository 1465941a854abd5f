#include "remote_write/remote_writer.h"

#include <algorithm>

#include "alerting/notify/redact.h"
#include "alerting/notify/retry_policy.h"
#include "remote_write/exposition_parser.h"
#include "remote_write/write_request.h"

namespace poolwatch {
namespace {

int64_t UnixMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string RemoteWriter::DefaultRemoteName(std::string_view url) { return RedactUrl(url); }

RemoteWriter::RemoteWriter(RemoteWriteOptions options, Deps deps)
    : options_(std::move(options)),
      deps_(std::move(deps)),
      remote_(options_.name.empty() ? DefaultRemoteName(options_.url) : options_.name),
      reader_(options_.external_labels, deps_.target_labels),
      queue_(options_.capacity) {
  if (deps_.registry != nullptr) {
    prometheus::Registry& r = *deps_.registry;
    const prometheus::Labels remote{{"remote", remote_}};
    samples_total_ = &prometheus::BuildCounter()
                          .Name("poolwatch_remote_write_samples_total")
                          .Help("Samples of /metrics taken into the remote-write queue.")
                          .Register(r)
                          .Add(remote);
    sent_ = &prometheus::BuildCounter()
                 .Name("poolwatch_remote_write_samples_sent_total")
                 .Help("Samples the remote-write receiver accepted (2xx).")
                 .Register(r)
                 .Add(remote);
    failed_ = &prometheus::BuildCounter()
                   .Name("poolwatch_remote_write_samples_failed_total")
                   .Help(
                       "Samples the remote-write receiver refused with a status other than "
                       "429 and 5xx; not retried.")
                   .Register(r)
                   .Add(remote);
    auto& dropped = prometheus::BuildCounter()
                        .Name("poolwatch_remote_write_samples_dropped_total")
                        .Help(
                            "Samples never sent: reason=queue_full, the oldest made room in "
                            "the bounded queue; reason=shutdown, still queued at the end of "
                            "the shutdown deadline.")
                        .Register(r);
    dropped_queue_full_ = &dropped.Add({{"remote", remote_}, {"reason", "queue_full"}});
    dropped_shutdown_ = &dropped.Add({{"remote", remote_}, {"reason", "shutdown"}});
    retries_total_ = &prometheus::BuildCounter()
                          .Name("poolwatch_remote_write_retries_total")
                          .Help(
                              "Remote-write requests sent again after a 5xx, a 429 or a "
                              "network error.")
                          .Register(r)
                          .Add(remote);
    pending_gauge_ = &prometheus::BuildGauge()
                          .Name("poolwatch_remote_write_samples_pending")
                          .Help("Samples queued or in flight to the remote-write receiver.")
                          .Register(r)
                          .Add(remote);
    last_success_ = &prometheus::BuildGauge()
                         .Name("poolwatch_remote_write_last_success_timestamp_seconds")
                         .Help(
                             "Unix time of the last request the remote-write receiver "
                             "accepted; 0 before the first.")
                         .Register(r)
                         .Add(remote);
  }
}

RemoteWriter::~RemoteWriter() { Stop(std::chrono::milliseconds(0)); }

size_t RemoteWriter::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size() + in_flight_;
}

void RemoteWriter::PublishPending() {
  if (pending_gauge_ != nullptr) pending_gauge_->Set(static_cast<double>(pending()));
}

void RemoteWriter::Snapshot(TimePoint now) {
  exposition_.clear();
  deps_.exposition(exposition_);
  std::vector<QueuedSample> samples = reader_.Read(exposition_, UnixMillis(now));
  if (samples_total_ != nullptr) samples_total_->Increment(static_cast<double>(samples.size()));
  size_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    dropped = queue_.Push(std::move(samples));
  }
  wake_.notify_all();
  if (dropped > 0 && dropped_queue_full_ != nullptr) {
    dropped_queue_full_->Increment(static_cast<double>(dropped));
  }
  PublishPending();
}

RemoteWriter::SendStep RemoteWriter::SendOnce(TimePoint now, std::chrono::milliseconds timeout,
                                              double unit_random) {
  SendStep step;
  if (batch_.empty()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch_ = queue_.Take(options_.max_samples_per_send);
      in_flight_ = batch_.size();
    }
    if (batch_.empty()) return step;
    body_ = encoder_.Encode(batch_);
    retries_ = 0;
  }
  step.samples = batch_.size();

  HttpPostRequest request;
  request.url = options_.url;
  request.body = body_;
  request.content_type = "application/x-protobuf";
  request.headers = options_.headers;
  request.headers.emplace_back("Content-Encoding", "snappy");
  request.headers.emplace_back("X-Prometheus-Remote-Write-Version", "0.1.0");
  request.basic_auth_username = options_.basic_auth_username;
  request.basic_auth_password = options_.basic_auth_password;
  request.bearer_token = options_.bearer_token;
  request.tls = options_.tls;
  request.timeout = timeout;
  // Stop()'s deadline also ends a request that was under way when shutdown began.
  request.cancelled = [this] {
    const int64_t deadline = cancel_at_ticks_.load(std::memory_order_relaxed);
    return deadline != 0 && std::chrono::steady_clock::now().time_since_epoch().count() >= deadline;
  };
  const DeliveryResult result = ClassifyHttpResult(deps_.send(request));
  // The receiver's body and curl's message may echo the URL; neither may reach the log.
  auto error = [&] { return ScrubSecret(result.error, options_.url); };

  switch (result.outcome) {
    case DeliveryResult::kDelivered:
    case DeliveryResult::kNothingToSend:  // not an HTTP classification; never here
      step.outcome = SendStep::kSent;
      if (sent_ != nullptr) sent_->Increment(static_cast<double>(batch_.size()));
      if (last_success_ != nullptr) {
        last_success_->Set(std::chrono::duration<double>(now.time_since_epoch()).count());
      }
      if (logged_ != SendStep::kIdle && deps_.log) {
        deps_.log("remote write to " + remote_ + " recovered");
      }
      logged_ = SendStep::kIdle;
      break;
    case DeliveryResult::kRetryable:
      step.outcome = SendStep::kRetry;
      ++retries_;
      if (retries_total_ != nullptr) retries_total_->Increment();
      step.wait = result.retry_after.count() > 0
                      ? result.retry_after
                      : FullJitterBackoff(retries_, options_.min_backoff, options_.max_backoff,
                                          unit_random);
      if (logged_ != SendStep::kRetry && deps_.log) {
        deps_.log("remote write to " + remote_ + " failed, retrying with backoff: " + error());
      }
      logged_ = SendStep::kRetry;
      PublishPending();
      return step;
    case DeliveryResult::kPermanent:
      step.outcome = SendStep::kRejected;
      if (failed_ != nullptr) failed_->Increment(static_cast<double>(batch_.size()));
      if (logged_ != SendStep::kRejected && deps_.log) {
        deps_.log("remote write to " + remote_ + " refused " + std::to_string(batch_.size()) +
                  " samples, dropped without retry: " + error());
      }
      logged_ = SendStep::kRejected;
      break;
  }
  batch_.clear();
  body_.clear();
  retries_ = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_flight_ = 0;
  }
  PublishPending();
  return step;
}

void RemoteWriter::Start() {
  if (send_thread_.joinable()) return;
  snapshot_thread_ = std::thread([this] { SnapshotLoop(); });
  send_thread_ = std::thread([this] { SendLoop(); });
}

size_t RemoteWriter::Stop(std::chrono::milliseconds deadline) {
  if (!send_thread_.joinable()) return 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    stop_by_ = std::chrono::steady_clock::now() + deadline;
    cancel_at_ticks_ = std::max<int64_t>(1, stop_by_.time_since_epoch().count());
  }
  wake_.notify_all();
  snapshot_thread_.join();
  send_thread_.join();
  return abandoned_;
}

void RemoteWriter::SnapshotLoop() {
  auto next = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next) {
      lock.unlock();
      Snapshot(Clock::now());
      lock.lock();
      next += options_.interval;
      if (next <= now) next = now + options_.interval;  // fell behind: no burst of snapshots
      continue;
    }
    wake_.wait_until(lock, next, [this] { return stopping_; });
  }
  lock.unlock();
  // The last values before shutdown, so the receiver sees the final counts.
  Snapshot(Clock::now());
  lock.lock();
  snapshots_done_ = true;
  lock.unlock();
  wake_.notify_all();
}

void RemoteWriter::SendLoop() {
  using Steady = std::chrono::steady_clock;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Steady::time_point retry_at{};
  bool saw_stop = false;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    const Steady::time_point now = Steady::now();
    if (stopping_ && !saw_stop) {
      saw_stop = true;
      retry_at = {};  // a backoff longer than the deadline would only lose the batch
    }
    const bool have = queue_.size() + in_flight_ > 0;
    if (snapshots_done_ && (!have || now >= stop_by_)) break;
    if (have && now >= retry_at) {
      auto timeout = options_.remote_timeout;
      if (stopping_) {
        timeout = std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(stop_by_ - now));
        timeout = std::max(timeout, std::chrono::milliseconds(1));
      }
      lock.unlock();
      const SendStep step = SendOnce(Clock::now(), timeout, unit(random_));
      lock.lock();
      if (step.outcome == SendStep::kRetry) retry_at = Steady::now() + step.wait;
      continue;
    }
    Steady::time_point wake_at = have ? retry_at : Steady::time_point::max();
    if (stopping_) wake_at = std::min(wake_at, stop_by_);
    if (wake_at == Steady::time_point::max() || wake_at <= now) {
      // Nothing to send, or the deadline passed before the last snapshot was queued: a
      // snapshot or Stop() wakes us.
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, wake_at);
    }
  }
  abandoned_ = queue_.Clear() + in_flight_;
  in_flight_ = 0;
  lock.unlock();
  batch_.clear();
  if (abandoned_ > 0 && dropped_shutdown_ != nullptr) {
    dropped_shutdown_->Increment(static_cast<double>(abandoned_));
  }
  PublishPending();
}

}  // namespace poolwatch
