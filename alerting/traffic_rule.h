#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "alerting/count_window.h"
#include "alerting/rule.h"

namespace poolwatch {

// traffic: fewer than min_requests requests were logged in the last `window` — traffic stopped
// arriving (nginx down, DNS or a load balancer sending clients elsewhere, a log no longer
// written). With `pool`, only the requests that pool served count (ServingPoolOf), so "the
// primary gets nothing" pages even while nginx answers the rest itself. One alert, labelled {}
// or {pool}.
//
// Silence has no line to trigger on: the rule judges at Evaluate(), which the daemon runs on its
// ticks and replay at every second of a gap in the log, up to the last line (replay invents
// nothing after it). It judges only once it has watched a whole window (since its first
// evaluation or record, or since a SIGHUP lengthened the window beyond what it had kept):
// neither a start nor a reload pages about requests it has not seen.
//
// Resolution: the window holds min_requests again, and has held them for ResolveFor() (60 s)
// while ResolveRequests() (2 × min_requests) requests arrived, counting those that brought the
// window back. Both defaults are there so that one stray request after an outage (a client's
// retry, a probe during a restart) does not announce "traffic is back": with min_requests 1 it
// takes a second request, and a minute. Any evaluation with too few requests in the window
// again makes the alert breach again and restarts the count.
//
// Memory: a CountWindow (per-second buckets), whatever the traffic; Observe() is an increment.
class TrafficRule : public Rule {
 public:
  explicit TrafficRule(RuleConfig config);

  using Rule::Observe;
  void Observe(const LogRecord& record, std::string_view serving_pool) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  void RestoreActive(size_t i, TimePoint since) override;
  std::string_view serving_pool() const override { return serving_; }

  const CountWindow& window() const { return window_; }

 private:
  struct Episode {
    TimePoint active_since{};  // the evaluation that found the window short
    bool restored = false;     // taken over from before a restart: its start is not known
    // The window held no request at all: since the last request before that (or since the rule
    // began watching, if it had seen none), until `back_at`, the first request after it.
    bool silent = false;
    TimePoint quiet_since{};
    bool back = false;
    TimePoint back_at{};
    // Filled when it resolves.
    TimePoint clear_since{};
    TimePoint resolved_at{};
    uint64_t back_requests = 0;
  };

  void Start(TimePoint at);
  bool WatchedAWindow(TimePoint now) const { return now - watch_start_ >= config_.window; }
  uint64_t BackRequests() const { return count_at_clear_ + observed_ - observed_at_clear_; }
  std::string Requests(uint64_t count) const;
  std::string LastRequest(TimePoint now) const;

  CountWindow window_;
  bool started_ = false;
  TimePoint watch_start_{};
  uint64_t observed_ = 0;  // requests counted since construction
  bool seen_request_ = false;
  TimePoint last_request_{};
  std::string serving_;

  bool pending_ = false;  // too few requests, not yet for `for`
  TimePoint pending_since_{};
  bool active_ = false;
  bool clearing_ = false;  // active, and the window holds enough again since clear_since_
  TimePoint clear_since_{};
  uint64_t count_at_clear_ = 0;
  uint64_t observed_at_clear_ = 0;
  int episodes_started_ = 0;  // since the last Evaluate
  TimePoint last_evaluated_{};
  Episode current_;
  Episode last_ended_;
  bool has_ended_ = false;
};

}  // namespace poolwatch
