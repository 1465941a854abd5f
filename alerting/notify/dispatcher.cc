#include "alerting/notify/dispatcher.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <utility>

#include "alerting/notify/retry_policy.h"

namespace poolwatch {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string_view StatusName(AlertStatus status) {
  return status == AlertStatus::kFiring ? "firing" : "resolved";
}

std::string Seconds(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2fs", std::chrono::duration<double>(d).count());
  return buf;
}

// "failover{pool=blue} (firing)": enough to find the alert, never the payload.
std::string Describe(const Notification& n) {
  return n.Key() + " (" + std::string(StatusName(n.status)) + ")";
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  // From "Slack answered at once" to "retried through an hour-long outage".
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
  return buckets;
}

}  // namespace

LogSink StderrLogSink() {
  return [](std::string_view line) {
    std::string out(line);
    out += '\n';
    // One fwrite per line: stdio locks the stream, so lines from two threads never interleave.
    std::fwrite(out.data(), 1, out.size(), stderr);
  };
}

std::string_view ResultName(DeliveryRecord::Result result) {
  switch (result) {
    case DeliveryRecord::Result::kSent:
      return "sent";
    case DeliveryRecord::Result::kRetrying:
      return "retrying";
    case DeliveryRecord::Result::kFailed:
      return "failed";
    case DeliveryRecord::Result::kDropped:
      return "dropped";
    case DeliveryRecord::Result::kSuperseded:
      return "superseded";
    case DeliveryRecord::Result::kSkipped:
      return "skipped";
  }
  return "unknown";
}

Dispatcher::Dispatcher(std::vector<std::unique_ptr<Notifier>> notifiers, DispatcherOptions options)
    : options_(std::move(options)) {
  options_.capacity = std::max<size_t>(options_.capacity, 1);
  options_.max_attempts = std::max(options_.max_attempts, 1);
  log_ = options_.log ? options_.log : StderrLogSink();
  if (options_.clock != nullptr) {
    clock_ = options_.clock;
  } else {
    own_clock_ = std::make_unique<SystemDispatchClock>();
    clock_ = own_clock_.get();
  }
  random_ = options_.random;
  if (!random_) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
  prometheus::Registry* registry = options_.registry;
  if (registry == nullptr) {
    own_registry_ = std::make_unique<prometheus::Registry>();
    registry = own_registry_.get();
  }

  channels_.reserve(notifiers.size());
  for (auto& notifier : notifiers) {
    if (notifier == nullptr) continue;
    Channel channel;
    channel.name = std::string(notifier->Name());
    channel.kind = std::string(notifier->Kind());
    channel.mirrors_state = notifier->MirrorsState();
    channel.needs_every = notifier->NeedsEveryNotification();
    channel.min_interval = notifier->MinInterval();
    channel.notifier = std::move(notifier);
    channels_.push_back(std::move(channel));
  }
  CreateMetrics(*registry);

  if (options_.start_worker) {
    // A thread per notifier: an attempt blocks its thread for up to attempt_timeout, and a
    // Slack that hangs on every attempt must not make the console wait behind it.
    for (size_t i = 0; i < channels_.size(); ++i) {
      workers_.emplace_back([this, i] {
        std::unique_lock<std::mutex> lock(mu_);
        RunLoop(lock, static_cast<int>(i));
      });
    }
  }
}

Dispatcher::~Dispatcher() { Shutdown(milliseconds(0)); }

void Dispatcher::CreateMetrics(prometheus::Registry& registry) {
  auto& total =
      prometheus::BuildCounter()
          .Name("poolwatch_notifications_total")
          .Help(
              "Notification outcomes per notifier: delivered; retried (an attempt "
              "failed and will be retried); failed (rejected or given up); dropped "
              "(queue overflow or shutdown); superseded; skipped (the notifier had nothing to "
              "send for it)")
          .Register(registry);
  auto& latency = prometheus::BuildHistogram()
                      .Name("poolwatch_notification_delivery_seconds")
                      .Help("Time from enqueue to delivery, retries included")
                      .Register(registry);
  auto& queue = prometheus::BuildGauge()
                    .Name("poolwatch_notification_queue_length")
                    .Help("Notifications waiting for at least one notifier")
                    .Register(registry);
  auto& retries = prometheus::BuildCounter()
                      .Name("poolwatch_notification_retries_total")
                      .Help("Delivery attempts after the first, per notifier")
                      .Register(registry);
  auto& dropped = prometheus::BuildCounter()
                      .Name("poolwatch_notifications_dropped_total")
                      .Help("Notifications dropped undelivered, by reason (queue_full, shutdown)")
                      .Register(registry);

  queue_length_ = &queue.Add({});
  dropped_queue_full_ = &dropped.Add({{"reason", "queue_full"}});
  dropped_shutdown_ = &dropped.Add({{"reason", "shutdown"}});
  for (Channel& channel : channels_) {
    channel.delivered = &total.Add({{"notifier", channel.name}, {"result", "delivered"}});
    channel.retried = &total.Add({{"notifier", channel.name}, {"result", "retried"}});
    channel.failed = &total.Add({{"notifier", channel.name}, {"result", "failed"}});
    channel.dropped = &total.Add({{"notifier", channel.name}, {"result", "dropped"}});
    channel.superseded = &total.Add({{"notifier", channel.name}, {"result", "superseded"}});
    channel.skipped = &total.Add({{"notifier", channel.name}, {"result", "skipped"}});
    channel.retries = &retries.Add({{"notifier", channel.name}});
    channel.latency = &latency.Add({{"notifier", channel.name}}, LatencyBuckets());
  }
}

bool Dispatcher::RoutedTo(const Channel& channel, const Notification& notification) {
  if (notification.state_only && !channel.mirrors_state) return false;
  if (notification.incident_note && !channel.needs_every) return false;
  const auto& kinds = notification.notifiers;
  return kinds.empty() || std::find(kinds.begin(), kinds.end(), channel.kind) != kinds.end();
}

void Dispatcher::Enqueue(Notification notification) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) {
    dropped_shutdown_->Increment();
    for (Channel& channel : channels_) {
      if (!RoutedTo(channel, notification)) continue;
      channel.dropped->Increment();
      RecordLocked(channel, notification, DeliveryRecord::Result::kDropped, 0, 0,
                   "enqueued after shutdown");
    }
    pending_logs_.push_back("notify: dropped " + Describe(notification) +
                            ": enqueued after shutdown");
    FlushLogs(lock);
    return;
  }
  const bool routed = std::any_of(channels_.begin(), channels_.end(),
                                  [&](const Channel& c) { return RoutedTo(c, notification); });
  // Not an error: e.g. a cooldown-held transition with no Alertmanager configured.
  if (!routed) return;
  if (queue_.size() >= options_.capacity) DropOldestLocked("queue_full");

  auto entry = std::make_shared<Entry>();
  entry->notification = std::move(notification);
  entry->enqueued = clock_->Now();
  queue_.push_back(entry);
  std::string key;  // computed only when a notifier is failing
  for (Channel& channel : channels_) {
    if (!RoutedTo(channel, entry->notification)) continue;
    if (channel.consecutive_failures > 0 && !channel.pending.empty() && !channel.needs_every) {
      // The receiver is down: what waits for the same alert is old news once this arrives.
      if (key.empty()) key = entry->notification.Key();
      for (size_t i = channel.pending.size(); i-- > 0;) {
        if (i == 0 && channel.in_flight) continue;  // its failure is handled on completion
        if (channel.pending[i]->notification.Key() == key) {
          SupersedeLocked(channel, i, entry->notification);
        }
      }
    }
    channel.pending.push_back(entry);
    ++entry->remaining;
  }
  UpdateQueueGaugeLocked();
  cv_.notify_all();
  FlushLogs(lock);
}

std::optional<Dispatcher::SteadyTime> Dispatcher::RunDue() {
  // Two threads calling notifiers would break per-notifier ordering and the rate limit.
  if (options_.start_worker) return std::nullopt;
  std::unique_lock<std::mutex> lock(mu_);
  return RunDueLocked(lock, kAllChannels);
}

size_t Dispatcher::Shutdown(milliseconds timeout) {
  std::lock_guard<std::mutex> serialize(shutdown_mu_);
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) return abandoned_;
  draining_ = true;
  drain_deadline_ = clock_->Now() + timeout;
  cv_.notify_all();
  if (!workers_.empty()) {
    lock.unlock();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
    lock.lock();
  } else if (!options_.start_worker) {
    RunLoop(lock, kAllChannels);  // no worker: drain in the caller's thread, same loop
  }
  abandoned_ = AbandonAllLocked();
  stopped_ = true;
  FlushLogs(lock);
  return abandoned_;
}

size_t Dispatcher::QueueLength() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

std::vector<Notification> Dispatcher::ExportOutbox() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return abandoned_outbox_;
  std::vector<Notification> out;
  out.reserve(queue_.size());
  for (const auto& entry : queue_) out.push_back(entry->notification);
  return out;
}

void Dispatcher::ImportOutbox(std::vector<Notification> outbox) {
  for (Notification& n : outbox) Enqueue(std::move(n));
}

std::vector<DeliveryRecord> Dispatcher::RecentDeliveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {recent_.begin(), recent_.end()};
}

std::vector<std::string> Dispatcher::Destinations() const {
  // channels_ and the notifiers' destinations do not change after construction.
  std::vector<std::string> out;
  for (const Channel& channel : channels_) out.push_back(channel.notifier->Destination());
  return out;
}

void Dispatcher::RunLoop(std::unique_lock<std::mutex>& lock, int only) {
  while (true) {
    std::optional<SteadyTime> next = RunDueLocked(lock, only);
    // From here to the wait the lock is held, so an Enqueue() cannot slip in unseen.
    if (draining_) {
      const bool done = only == kAllChannels ? queue_.empty()
                                             : channels_[static_cast<size_t>(only)].pending.empty();
      if (done || clock_->Now() >= drain_deadline_) return;
      clock_->WaitUntil(next ? std::min(*next, drain_deadline_) : drain_deadline_, lock, cv_);
    } else {
      clock_->WaitUntil(next.value_or(SteadyTime::max()), lock, cv_);
    }
  }
}

std::optional<Dispatcher::SteadyTime> Dispatcher::RunDueLocked(std::unique_lock<std::mutex>& lock,
                                                               int only) {
  while (true) {
    FlushLogs(lock);
    SteadyTime now = clock_->Now();
    if (draining_ && now >= drain_deadline_) return std::nullopt;
    std::optional<SteadyTime> next;
    int index = PickDueChannel(now, &next, only);
    if (index < 0) return next;

    Channel& channel = channels_[static_cast<size_t>(index)];
    std::shared_ptr<Entry> entry = channel.pending.front();
    channel.in_flight = true;
    channel.last_attempt = now;
    ++channel.attempts;
    if (channel.attempts > 1) channel.retries->Increment();
    milliseconds timeout = options_.attempt_timeout;
    if (draining_) {
      // Shutdown is bounded: the last attempt may not outlive the deadline.
      timeout = std::min(timeout, duration_cast<milliseconds>(drain_deadline_ - now));
      timeout = std::max(timeout, milliseconds(1));
    }
    Notifier* notifier = channel.notifier.get();

    // Never hold the lock while talking to the network: Enqueue() must not wait for Slack.
    lock.unlock();
    DeliveryResult result;
    try {
      result = notifier->Send(entry->notification, timeout);
    } catch (const std::exception& e) {
      result.outcome = DeliveryResult::kPermanent;
      result.error = std::string("notifier failed: ") + e.what();
    } catch (...) {
      result.outcome = DeliveryResult::kPermanent;
      result.error = "notifier failed";
    }
    lock.lock();
    CompleteLocked(channel, entry, result, clock_->Now());
  }
}

int Dispatcher::PickDueChannel(SteadyTime now, std::optional<SteadyTime>* next, int only) {
  const size_t count = only == kAllChannels ? channels_.size() : 1;
  for (size_t k = 0; k < count; ++k) {
    // Start after the channel served last, so a busy channel cannot starve the others.
    size_t i =
        only == kAllChannels ? (next_channel_ + k) % channels_.size() : static_cast<size_t>(only);
    const Channel& channel = channels_[i];
    if (channel.pending.empty() || channel.in_flight) continue;
    SteadyTime ready = channel.retry_at;
    if (channel.last_attempt && channel.min_interval.count() > 0) {
      ready = std::max(ready, *channel.last_attempt + channel.min_interval);
    }
    if (ready <= now) {
      if (only == kAllChannels) next_channel_ = (i + 1) % count;
      return static_cast<int>(i);
    }
    if (!*next || ready < **next) *next = ready;
  }
  return -1;
}

void Dispatcher::CompleteLocked(Channel& channel, const std::shared_ptr<Entry>& entry,
                                const DeliveryResult& result, SteadyTime now) {
  channel.in_flight = false;
  const int attempt = channel.attempts;
  const Notification& n = entry->notification;

  // The channel's schedule first: it holds whichever notification is tried next.
  milliseconds delay{0};
  std::string why;
  if (result.outcome == DeliveryResult::kRetryable) {
    ++channel.consecutive_failures;
    if (result.retry_after.count() > 0) {
      // The receiver said when (Slack's 429): earlier would only be refused again.
      delay = std::min(result.retry_after, options_.max_retry_after);
      why = " as asked by Retry-After";
    } else {
      delay = FullJitterBackoff(channel.consecutive_failures, options_.backoff_base,
                                options_.backoff_cap, random_());
    }
    channel.retry_at = now + delay;
  } else {
    // Delivered or rejected: either way the receiver answered, so it is not down.
    channel.consecutive_failures = 0;
    channel.retry_at = SteadyTime{};
  }

  if (result.outcome == DeliveryResult::kDelivered) {
    channel.delivered->Increment();
    channel.latency->Observe(std::chrono::duration<double>(now - entry->enqueued).count());
    RecordLocked(channel, n, DeliveryRecord::Result::kSent, attempt, result.http_status, "");
    if (attempt > 1) {
      pending_logs_.push_back("notify: " + channel.name + ": delivered " + Describe(n) + " after " +
                              std::to_string(attempt) + " attempts, " +
                              Seconds(now - entry->enqueued) + " after it was queued");
    }
    FinishHeadLocked(channel);
    return;
  }

  if (result.outcome == DeliveryResult::kNothingToSend) {
    channel.skipped->Increment();
    RecordLocked(channel, n, DeliveryRecord::Result::kSkipped, attempt, 0, "");
    FinishHeadLocked(channel);
    return;
  }

  if (entry->dropped) {
    // Overflow took it while this attempt was running (already logged and counted once);
    // it is not retried.
    channel.dropped->Increment();
    RecordLocked(channel, n, DeliveryRecord::Result::kDropped, attempt, result.http_status,
                 result.error);
    FinishHeadLocked(channel);
    return;
  }

  if (result.outcome == DeliveryResult::kPermanent) {
    channel.failed->Increment();
    RecordLocked(channel, n, DeliveryRecord::Result::kFailed, attempt, result.http_status,
                 result.error);
    pending_logs_.push_back("notify: " + channel.name + ": " + Describe(n) +
                            " rejected, not retrying: " + result.error);
    FinishHeadLocked(channel);
    return;
  }

  channel.retried->Increment();
  RecordLocked(channel, n, DeliveryRecord::Result::kRetrying, attempt, result.http_status,
               result.error);
  const std::string key = n.Key();
  for (size_t i = 1; i < channel.pending.size() && !channel.needs_every; ++i) {
    if (channel.pending[i]->notification.Key() == key) {
      // Its resolution (or a new firing) is already waiting: send that instead.
      SupersedeLocked(channel, 0, channel.pending[i]->notification);
      return;
    }
  }
  const int every = options_.max_attempts;
  if (attempt <= every || attempt % every == 0) {
    std::string line = "notify: " + channel.name + ": attempt " + std::to_string(attempt) +
                       " for " + Describe(n) + " failed: " + result.error + "; retrying in " +
                       Seconds(delay) + why;
    if (attempt == every) {
      line += "; retried until delivered or superseded, logged only every " +
              std::to_string(every) + " attempts from now on";
    }
    pending_logs_.push_back(std::move(line));
  }
}

void Dispatcher::SupersedeLocked(Channel& channel, size_t index, const Notification& newer) {
  std::shared_ptr<Entry> old = channel.pending[index];
  const int attempts = index == 0 ? channel.attempts : 0;
  channel.superseded->Increment();
  RecordLocked(channel, old->notification, DeliveryRecord::Result::kSuperseded, attempts, 0,
               "superseded by " + Describe(newer));
  pending_logs_.push_back("notify: " + channel.name + ": " + Describe(old->notification) +
                          " not delivered after " + std::to_string(attempts) + " attempt" +
                          (attempts == 1 ? "" : "s") + ", superseded by " + Describe(newer));
  if (index == 0) {
    FinishHeadLocked(channel);  // keeps retry_at: the receiver is still down
    return;
  }
  channel.pending.erase(channel.pending.begin() + static_cast<std::ptrdiff_t>(index));
  if (!old->dropped && --old->remaining == 0) {
    auto it = std::find(queue_.begin(), queue_.end(), old);
    if (it != queue_.end()) queue_.erase(it);
    UpdateQueueGaugeLocked();
  }
}

void Dispatcher::FinishHeadLocked(Channel& channel) {
  std::shared_ptr<Entry> entry = channel.pending.front();
  channel.pending.pop_front();
  channel.attempts = 0;
  if (!entry->dropped && --entry->remaining == 0) {
    auto it = std::find(queue_.begin(), queue_.end(), entry);  // almost always the front
    if (it != queue_.end()) queue_.erase(it);
    UpdateQueueGaugeLocked();
  }
}

void Dispatcher::DropOldestLocked(std::string_view reason) {
  std::shared_ptr<Entry> victim = queue_.front();
  queue_.pop_front();
  victim->dropped = true;
  dropped_queue_full_->Increment();
  for (Channel& channel : channels_) {
    auto it = std::find(channel.pending.begin(), channel.pending.end(), victim);
    if (it == channel.pending.end()) continue;  // this notifier was done with it
    // An attempt in progress decides for itself (delivered, or dropped in CompleteLocked).
    if (channel.in_flight && it == channel.pending.begin()) continue;
    const bool was_head = it == channel.pending.begin();
    channel.dropped->Increment();
    RecordLocked(channel, victim->notification, DeliveryRecord::Result::kDropped,
                 was_head ? channel.attempts : 0, 0, std::string(reason));
    channel.pending.erase(it);
    if (was_head) channel.attempts = 0;  // retry_at stays: the receiver's backoff
  }
  UpdateQueueGaugeLocked();
  pending_logs_.push_back("notify: queue full (capacity " + std::to_string(options_.capacity) +
                          "): dropped the oldest notification " + Describe(victim->notification) +
                          ", queued " + Seconds(clock_->Now() - victim->enqueued) + " ago");
}

size_t Dispatcher::AbandonAllLocked() {
  const size_t abandoned = queue_.size();
  for (const auto& entry : queue_) {
    entry->dropped = true;
    dropped_shutdown_->Increment();
    abandoned_outbox_.push_back(entry->notification);
  }
  for (Channel& channel : channels_) {
    for (const auto& entry : channel.pending) {
      channel.dropped->Increment();
      RecordLocked(channel, entry->notification, DeliveryRecord::Result::kDropped,
                   entry == channel.pending.front() ? channel.attempts : 0, 0,
                   "shutdown deadline reached");
    }
    channel.pending.clear();
    channel.attempts = 0;
  }
  if (abandoned > 0) {
    pending_logs_.push_back("notify: shutdown: gave up on " + std::to_string(abandoned) +
                            " undelivered notification" + (abandoned == 1 ? "" : "s") +
                            ", the oldest " + Describe(queue_.front()->notification));
  }
  queue_.clear();
  UpdateQueueGaugeLocked();
  return abandoned;
}

void Dispatcher::RecordLocked(const Channel& channel, const Notification& notification,
                              DeliveryRecord::Result result, int attempt, long http_status,
                              std::string error) {
  DeliveryRecord record;
  record.at = clock_->WallNow();
  record.notifier = channel.name;
  record.rule = notification.rule;
  record.key = notification.Key();
  record.status = notification.status;
  record.result = result;
  record.attempt = attempt;
  record.http_status = http_status;
  record.error = std::move(error);
  recent_.push_back(std::move(record));
  while (recent_.size() > options_.recent_deliveries) recent_.pop_front();
}

void Dispatcher::UpdateQueueGaugeLocked() {
  queue_length_->Set(static_cast<double>(queue_.size()));
}

void Dispatcher::FlushLogs(std::unique_lock<std::mutex>& lock) {
  if (pending_logs_.empty()) return;
  std::vector<std::string> lines;
  lines.swap(pending_logs_);
  lock.unlock();
  for (const std::string& line : lines) log_(line);
  lock.lock();
}

}  // namespace poolwatch
