#pragma once

// In-memory stand-ins for the notify tests: a clock that only moves when told, an HTTP poster
// and a notifier that answer from a script, and a log sink that keeps the lines.

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "alerting/notification.h"
#include "alerting/notify/dispatch_clock.h"
#include "alerting/notify/dispatcher.h"
#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"

namespace poolwatch::testing {

using namespace std::chrono_literals;

// Moves only by Advance(); WaitUntil() jumps straight to the deadline, which is what "waiting"
// means for a worker-less dispatcher draining in Shutdown().
class FakeClock final : public DispatchClock {
 public:
  SteadyTime Now() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  TimePoint WallNow() override {
    std::lock_guard<std::mutex> lock(mu_);
    return kWallStart + std::chrono::duration_cast<Clock::duration>(now_ - kStart);
  }
  void WaitUntil(SteadyTime deadline, std::unique_lock<std::mutex>&,
                 std::condition_variable&) override {
    std::lock_guard<std::mutex> lock(mu_);
    waits_.push_back(deadline);
    if (deadline != SteadyTime::max() && deadline > now_) now_ = deadline;
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += std::chrono::duration_cast<SteadyTime::duration>(d);
  }
  void AdvanceTo(SteadyTime t) {
    std::lock_guard<std::mutex> lock(mu_);
    if (t > now_) now_ = t;
  }
  // Time since the fake's start, for readable assertions.
  std::chrono::milliseconds Elapsed() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Now() - kStart);
  }

  // Far from the epoch so that "no retry pending" (SteadyTime{}) is clearly in the past.
  static constexpr SteadyTime kStart = SteadyTime{} + std::chrono::hours(1000);
  static inline const TimePoint kWallStart = Clock::from_time_t(1761920625);  // 2025-10-31

 private:
  std::mutex mu_;
  SteadyTime now_ = kStart;
  std::vector<SteadyTime> waits_;
};

// Answers from `script` in order, then with `fallback`. Records every call.
class FakePoster final : public HttpPoster {
 public:
  struct Call {
    std::string url;
    std::string body;
    std::string content_type;
    std::chrono::milliseconds timeout;
    std::string bearer_token;  // PostWithBearer's; "" for Post
  };

  HttpResult Post(const std::string& url, const std::string& body, const std::string& content_type,
                  std::chrono::milliseconds timeout) override {
    return PostWithBearer(url, body, content_type, "", timeout);
  }
  HttpResult PostWithBearer(const std::string& url, const std::string& body,
                            const std::string& content_type, const std::string& bearer_token,
                            std::chrono::milliseconds timeout) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls.push_back({url, body, content_type, timeout, bearer_token});
    if (script.empty()) return fallback;
    HttpResult next = script.front();
    script.pop_front();
    return next;
  }

  static HttpResult Ok() { return {200, "ok", "", ""}; }
  static HttpResult Status(long status, std::string body, std::string retry_after = "") {
    return {status, std::move(body), std::move(retry_after), ""};
  }
  static HttpResult NetworkError(std::string error) { return {0, "", "", std::move(error)}; }

  std::deque<HttpResult> script;
  HttpResult fallback = Ok();
  std::vector<Call> calls;

 private:
  std::mutex mu_;
};

// A notifier that answers from a script and remembers what it was sent and when.
class FakeNotifier final : public Notifier {
 public:
  struct Attempt {
    std::string title;
    AlertStatus status;
    std::chrono::milliseconds at;  // FakeClock::Elapsed() at the attempt
    std::chrono::milliseconds timeout;
  };

  FakeNotifier(std::string name, FakeClock* clock,
               std::chrono::milliseconds min_interval = std::chrono::milliseconds(0))
      : name_(std::move(name)), clock_(clock), min_interval_(min_interval) {}

  std::string_view Name() const override { return name_; }
  std::string_view Kind() const override { return kind.empty() ? name_ : kind; }
  bool MirrorsState() const override { return mirrors_state; }
  std::string Destination() const override { return name_; }
  std::chrono::milliseconds MinInterval() const override { return min_interval_; }
  DeliveryResult Send(const Notification& n, std::chrono::milliseconds timeout) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      attempts.push_back({n.title, n.status, clock_ ? clock_->Elapsed() : 0ms, timeout});
    }
    if (on_send) on_send(n);
    std::lock_guard<std::mutex> lock(mu_);
    if (script.empty()) return fallback;
    DeliveryResult next = script.front();
    script.pop_front();
    return next;
  }

  static DeliveryResult Delivered() { return {}; }
  static DeliveryResult Retryable(std::string error, long status = 500,
                                  std::chrono::milliseconds retry_after = 0ms) {
    return {DeliveryResult::kRetryable, status, retry_after, std::move(error)};
  }
  static DeliveryResult Permanent(std::string error, long status = 400) {
    return {DeliveryResult::kPermanent, status, 0ms, std::move(error)};
  }

  std::vector<std::string> Titles() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& a : attempts) out.push_back(a.title);
    return out;
  }

  std::deque<DeliveryResult> script;
  DeliveryResult fallback = Delivered();
  std::vector<Attempt> attempts;
  std::function<void(const Notification&)> on_send;  // runs during Send, without the lock
  std::string kind;                                  // Kind(); "" : the name
  bool mirrors_state = false;                        // MirrorsState(), as an Alertmanager notifier
  bool needs_every = false;  // NeedsEveryNotification(), as the Slack app notifier
  bool NeedsEveryNotification() const override { return needs_every; }

 private:
  std::string name_;
  FakeClock* clock_;
  std::chrono::milliseconds min_interval_;
  std::mutex mu_;
};

// Keeps log lines; safe to call from several threads like the real sink.
class LogCapture {
 public:
  LogSink Sink() {
    return [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  std::string All() {
    std::string out;
    for (const auto& line : Lines()) out += line + "\n";
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

inline std::string Scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

// A failover alert as the rule engine would produce it; `title` tells tests' messages apart.
inline Notification MakeNotification(std::string title, AlertStatus status = AlertStatus::kFiring) {
  Notification n;
  n.rule = "failover";
  n.status = status;
  n.labels = {{"pool", "blue"}};
  n.title = std::move(title);
  n.summary = "Pool failover detected!";
  n.fields = {{"Previous", "blue"}, {"Current", "green"}, {"Release", "v1.0.0"}};
  n.action = "Check health of blue pool";
  n.at = FakeClock::kWallStart;
  return n;
}

// Runs a worker-less dispatcher until nothing is left, moving the fake clock to each next due
// time. Returns false if it did not settle within `max_steps` (a bug, not a slow test).
inline bool RunUntilIdle(Dispatcher& dispatcher, FakeClock& clock, int max_steps = 10000) {
  for (int i = 0; i < max_steps; ++i) {
    auto next = dispatcher.RunDue();
    if (!next) return true;
    clock.AdvanceTo(*next);
  }
  return false;
}

}  // namespace poolwatch::testing
