#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alerting/notification.h"
#include "alerting/notify/dispatch_clock.h"
#include "alerting/notify/notifier.h"

namespace poolwatch {

// Where the dispatcher's log lines go: one line per call, no trailing newline. It may be
// called from the worker and from Enqueue() callers at the same time.
using LogSink = std::function<void(std::string_view line)>;
// Writes each line to stderr with a newline, in one write so threads do not interleave.
LogSink StderrLogSink();

// One line of delivery history for a status page.
struct DeliveryRecord {
  enum class Result { kSent, kRetrying, kFailed, kDropped, kSuperseded, kSkipped };
  TimePoint at{};        // wall-clock time of the outcome
  std::string notifier;  // Notifier::Name()
  std::string rule;
  std::string key;  // Notification::Key()
  AlertStatus status = AlertStatus::kFiring;
  Result result = Result::kSent;
  int attempt = 0;       // 1 for the first try; 0 for a notification dropped before any
  long http_status = 0;  // 0 when no HTTP response
  std::string error;     // redacted reason; "" when sent
};
std::string_view ResultName(DeliveryRecord::Result result);  // "sent", "retrying", …

struct DispatcherOptions {
  size_t capacity = 1000;  // notifications waiting; when full the oldest is dropped
  // Retryable failures are retried until delivered; the first max_attempts failed attempts
  // of a notification are logged one by one, later ones every max_attempts-th only, so a
  // long outage does not flood the log.
  int max_attempts = 8;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{60000};
  // A receiver's Retry-After is obeyed up to this; a bogus "86400" must not stall a channel.
  std::chrono::milliseconds max_retry_after{300000};
  std::chrono::milliseconds attempt_timeout{10000};  // one HTTP attempt, connect included
  size_t recent_deliveries = 50;                     // history kept for RecentDeliveries()

  // Self-metrics go here; null: a private registry (the metrics still exist, unexported).
  prometheus::Registry* registry = nullptr;
  LogSink log;                     // empty: StderrLogSink()
  DispatchClock* clock = nullptr;  // null: the system clocks; must outlive the dispatcher
  std::function<double()> random;  // draws from [0, 1) for jitter; empty: a seeded PRNG
  // false: no threads are started and the owner calls RunDue() (deterministic tests, tools).
  bool start_worker = true;
};

// Delivers notifications with one worker thread per notifier, so parsing and scraping never
// wait for Slack, and a hanging Slack never holds up the console, the webhook or Alertmanager.
//
// - Enqueue() never blocks on delivery: it takes a short lock, appends to a bounded queue and
//   returns. When the queue is full the oldest waiting notification is dropped, counted in
//   poolwatch_notifications_dropped_total{reason="queue_full"} and logged.
// - Each notification goes to each notifier it is routed to: those whose Kind() its
//   `notifiers` list names (all when the list is empty), and of those only the ones that
//   MirrorsState() when it is `state_only`, and of those only the ones that
//   NeedsEveryNotification() when it is an `incident_note`. Per notifier, notifications are
//   delivered in enqueue order: a head that is being retried holds back the later ones for that
//   notifier (a "resolved" must never overtake its "firing"), while other notifiers carry on.
// - Per notifier, attempts are spaced by at least Notifier::MinInterval().
// - A receiver outage delays alerts but never drops them silently: a retryable failure
//   (network error, 5xx, 429) is retried until delivered, after Retry-After when the receiver
//   sent one, otherwise after FullJitterBackoff(that notifier's failures in a row, base, cap).
//   It ends otherwise only when the queue drops it for space or at shutdown (both counted),
//   or when superseded: a newer notification for the same alert key (its resolution, or a new
//   firing after a resolution) replaces an older one that failed, or that waits while its
//   notifier is failing, so after an outage people get each alert's latest state in order,
//   not a backlog (except for a notifier that NeedsEveryNotification(), such as the Slack app,
//   whose every notification is a thread reply: it gets them all, in order). A permanent failure
//   (other 4xx) is not retried and is logged with the receiver's error body (Slack's
//   "invalid_payload" …).
// - Shutdown(timeout) keeps delivering until the queue is empty or the timeout passes, then
//   counts and logs what is left.
//
// Self-metrics: poolwatch_notifications_total{notifier,result} (result: delivered — reached
// the receiver; retried — an attempt failed and will be retried; failed — rejected by the
// receiver or the notifier; dropped — never delivered because of overflow or shutdown;
// superseded — replaced by a newer notification for the same alert before it got through;
// skipped — the notifier had nothing to send for it, DeliveryResult::kNothingToSend),
// poolwatch_notification_delivery_seconds{notifier} (enqueue → delivered),
// poolwatch_notification_queue_length, poolwatch_notification_retries_total{notifier}
// (attempts after the first), poolwatch_notifications_dropped_total{reason} (queue_full,
// shutdown; once per notification, whatever the number of notifiers).
//
// Thread-safe: Enqueue, QueueLength, ExportOutbox, RecentDeliveries and Shutdown may be called
// from any thread. Each notifier is called from one thread at a time (its worker, or RunDue's
// caller), and never while the dispatcher's lock is held.
class Dispatcher {
 public:
  using SteadyTime = DispatchClock::SteadyTime;

  Dispatcher(std::vector<std::unique_ptr<Notifier>> notifiers, DispatcherOptions options = {});
  // Shutdown(0): whatever is still queued is counted as dropped.
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Enqueue(Notification notification);

  // Without a worker (start_worker = false): makes every attempt that is due at the clock's
  // Now() — calling the notifiers in this thread — and returns when the next one will be due,
  // or nullopt when nothing is waiting. With a worker it does nothing and returns nullopt.
  std::optional<SteadyTime> RunDue();

  // Keeps delivering for at most `timeout`, then stops the workers and counts the undelivered
  // as dropped{reason="shutdown"}. Attempts started while draining get only the time left;
  // one already on the wire when Shutdown() is called may overrun by up to attempt_timeout,
  // so the worst case is timeout + attempt_timeout. Returns how many notifications were
  // abandoned. Idempotent; later Enqueue() calls are dropped and counted.
  size_t Shutdown(std::chrono::milliseconds timeout);

  size_t QueueLength() const;  // notifications not yet finished by every notifier
  // Those notifications, oldest first (after Shutdown(), the ones it abandoned), as a value
  // for the state file: a crash must not lose them. ImportOutbox() enqueues them again after
  // a restart.
  std::vector<Notification> ExportOutbox() const;
  void ImportOutbox(std::vector<Notification> outbox);
  std::vector<DeliveryRecord> RecentDeliveries() const;  // oldest first
  // Destination() of each notifier, in order, for start-up logs and the status page.
  std::vector<std::string> Destinations() const;

 private:
  struct Entry {
    Notification notification;
    SteadyTime enqueued{};
    int remaining = 0;     // notifiers that have not finished with it
    bool dropped = false;  // overflow or shutdown took it while one notifier was sending it
  };
  struct Channel {
    std::unique_ptr<Notifier> notifier;
    std::string name;
    std::string kind;            // Notifier::Kind(), what Notification::notifiers names
    bool mirrors_state = false;  // Notifier::MirrorsState()
    bool needs_every = false;    // Notifier::NeedsEveryNotification(): never supersede
    std::chrono::milliseconds min_interval{0};
    std::deque<std::shared_ptr<Entry>> pending;  // front = the one being tried
    int attempts = 0;                            // attempts made on pending.front()
    // Retryable failures in a row, whatever the notification: the backoff follows the
    // receiver's health, so superseding a stuck head does not restart it at the base.
    int consecutive_failures = 0;
    SteadyTime retry_at{};                   // no attempt before this (backoff, Retry-After)
    std::optional<SteadyTime> last_attempt;  // for min_interval
    bool in_flight = false;
    prometheus::Counter* delivered = nullptr;
    prometheus::Counter* retried = nullptr;
    prometheus::Counter* failed = nullptr;
    prometheus::Counter* dropped = nullptr;
    prometheus::Counter* superseded = nullptr;
    prometheus::Counter* skipped = nullptr;
    prometheus::Counter* retries = nullptr;
    prometheus::Histogram* latency = nullptr;
  };

  void CreateMetrics(prometheus::Registry& registry);
  static bool RoutedTo(const Channel& channel, const Notification& notification);
  // The loop shared by the workers and a worker-less Shutdown(): runs due attempts, waits for
  // the next one or for new work; while draining, returns once empty or past the deadline.
  // `only` is the channel a worker serves; kAllChannels serves every channel in turn.
  static constexpr int kAllChannels = -1;
  void RunLoop(std::unique_lock<std::mutex>& lock, int only);
  std::optional<SteadyTime> RunDueLocked(std::unique_lock<std::mutex>& lock, int only);
  // Index of a channel (`only`, or any) whose head may be tried at `now`, or -1; `next` gets
  // the earliest time one will be.
  int PickDueChannel(SteadyTime now, std::optional<SteadyTime>* next, int only);
  void CompleteLocked(Channel& channel, const std::shared_ptr<Entry>& entry,
                      const DeliveryResult& result, SteadyTime now);
  void FinishHeadLocked(Channel& channel);
  // Removes channel.pending[index] (never an attempt in progress): `newer`, a later
  // notification for the same alert, replaces it.
  void SupersedeLocked(Channel& channel, size_t index, const Notification& newer);
  void DropOldestLocked(std::string_view reason);
  size_t AbandonAllLocked();
  void RecordLocked(const Channel& channel, const Notification& notification,
                    DeliveryRecord::Result result, int attempt, long http_status,
                    std::string error);
  void UpdateQueueGaugeLocked();
  // Log lines are collected under the lock and written after it is released, so a slow
  // stderr never holds up Enqueue().
  void FlushLogs(std::unique_lock<std::mutex>& lock);

  DispatcherOptions options_;
  LogSink log_;
  std::unique_ptr<SystemDispatchClock> own_clock_;
  DispatchClock* clock_;
  std::unique_ptr<prometheus::Registry> own_registry_;
  std::function<double()> random_;

  prometheus::Gauge* queue_length_ = nullptr;
  prometheus::Counter* dropped_queue_full_ = nullptr;
  prometheus::Counter* dropped_shutdown_ = nullptr;

  std::mutex shutdown_mu_;  // serializes Shutdown() calls; taken before mu_
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Channel> channels_;
  std::deque<std::shared_ptr<Entry>> queue_;  // unfinished, oldest first
  size_t next_channel_ = 0;                   // round-robin start among due channels
  std::deque<DeliveryRecord> recent_;
  std::vector<std::string> pending_logs_;
  bool draining_ = false;
  SteadyTime drain_deadline_{};
  bool stopped_ = false;
  size_t abandoned_ = 0;
  std::vector<Notification> abandoned_outbox_;  // what Shutdown() gave up on, for ExportOutbox
  std::vector<std::thread> workers_;            // one per channel
};

}  // namespace poolwatch
