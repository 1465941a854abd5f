#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alerting/clear_stretch.h"
#include "alerting/rule.h"
#include "alerting/span_counters.h"

namespace poolwatch {

// slo: an objective (`objective_percent` of requests are good) watched by multi-window,
// multi-burn-rate alerts as in the SRE workbook. The burn rate of a window is its bad share
// divided by the share the objective allows (1 - objective): 1x spends the budget exactly over
// the budget period, 14.4x spends 2 % of a 30-day budget in an hour.
//
// What is bad: availability, client scope: a response with a 5xx; upstream scope: an attempt
// with a 5xx or no response (nginx may have hidden it by retrying). Latency: a request
// ($request_time; upstream: each attempt's $upstream_response_time) slower than the threshold.
// Without `pool`, every request (attempt) counts: an SLO is about the service as clients see
// it, nginx's own answers included; with `pool`, only those the pool served (its attempts). One
// rule is one SLI: to watch each pool on its own, write a rule per pool.
//
// Alerts: {urgency="page"} (the rule's severity) and {urgency="ticket"} (`ticket_severity`),
// plus {pool} with `pool`; a kind of alert exists only if some burn_rates entry has it. An alert
// breaches when any of its entries has both windows above the entry's burn rate, the long one
// holding at least min_requests requests (the volume guard: a handful of requests says nothing
// about a 99.9 % objective). A long window not yet watched in full (a start without saved
// counts) also needs its bad share to be significant evidence of a burn above the rate
// (ShowsRateAbove with min_errors and confidence), or a first bad request would page. The ticket
// is for slow burns: it does not begin while the page is active or the burn is fast (a page
// entry's short window above its rate), reason "inhibited": one incident, one message, and no
// ticket ahead of the page while windows not yet full make 3 days look short. A budget still
// burning above 1x once the page resolves opens it then. With `for`, the breach must hold that
// long first.
//
// Resolution: the workbook resets when the short window drops below the rate; here, like the
// other kinds, the alert must stay clear (no entry breaching) for a while: resolve_for (by
// default the urgency's shortest short window: 5m for the page, 6h for the ticket) and
// ResolveRequests() (min_requests) requests, or twice the shortest short window at traffic too
// low to bring them. Never while a long and its short window both still burn above a rate.
//
// The budget period is `period`, by default the longest long window (3 days): "budget left" is
// the share of its allowance of bad requests (1 - objective of its requests) not yet spent, and
// "exhausted in" how long what is left lasts at the firing long window's burn rate. With the
// default period a ticket (1x over 3 days) always finds the budget spent; a longer period (the
// workbook's rates assume 30 days) makes both figures meaningful for tickets, at 43,200
// one-minute buckets (340 KB) for 30 days.
//
// Memory: windows up to an hour count in 10 s buckets (the 5 m window then moves in 10 s
// steps), longer ones in one-minute buckets, each ring as long as its longest window (3 days:
// 4,320 buckets); Observe() is a few additions, Evaluate() reads running sums. The counts
// survive a restart (ExportCounters); the downtime counts as no traffic.
class SloRule : public Rule {
 public:
  static constexpr std::chrono::seconds kFineBucket{10};
  static constexpr std::chrono::seconds kCoarseBucket{60};
  // Windows up to this long count in kFineBucket buckets.
  static constexpr std::chrono::seconds kFineUpTo{3600};

  explicit SloRule(RuleConfig config);

  void Observe(const LogRecord& record) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  void RestoreActive(size_t i, TimePoint since) override;
  std::optional<RuleCounters> ExportCounters() const override;
  std::string ImportCounters(const RuleCounters& counters) override;
  std::string_view serving_pool() const override { return serving_; }

  // The burn-rate entries judged (the configured ones, or the workbook's).
  const std::vector<BurnRateWindows>& burn_rates() const { return pairs_; }
  // At the last Evaluate(): the counts and burn rate of entry `pair`'s long or short window.
  RequestCounts Counts(size_t pair, bool long_window) const;
  double BurnRate(size_t pair, bool long_window) const;
  // The share of the budget period's allowance not yet spent (below 0 when overspent); 1 with
  // no request in the period.
  double BudgetLeft() const;
  // What the counts count, e.g. "availability client pool=blue" (the state file's key).
  std::string Counted() const;

 private:
  // A window: which ring (fine or coarse) and which of its spans.
  struct WindowRef {
    bool fine = true;
    size_t span = 0;
  };
  struct Alert {
    bool page = true;
    bool breaching = false;  // the firing test held at the last evaluation
    TimePoint breach_since{};
    ClearStretch clear{};
    TimePoint cleared_at{};
  };

  static std::vector<BurnRateWindows> PairsOf(const RuleConfig& config);
  static std::chrono::seconds PeriodOf(const RuleConfig& config,
                                       const std::vector<BurnRateWindows>& pairs);
  static std::vector<std::chrono::seconds> SpansOf(const std::vector<BurnRateWindows>& pairs,
                                                   std::chrono::seconds period, bool fine);
  WindowRef RefOf(std::chrono::seconds window) const;
  RequestCounts CountsOf(const WindowRef& ref) const;
  double BurnOf(const RequestCounts& counts) const;
  double Allowance() const { return 1 - config_.objective_percent / 100; }
  void BuildAlerts();
  bool IsBad(double seconds, int status) const;
  void Count(TimePoint at, bool bad);
  // Whether entry `pair` breaches now, and whether it could be judged (volume guard).
  bool Judged(size_t pair) const;
  bool Breaching(size_t pair) const;
  std::chrono::seconds ShortestShortWindow(bool page) const;
  // resolve_for, or by default the urgency's shortest short window (5m for the page, 6h for
  // the ticket): the workbook's reset, held for a whole short window so that a burn rate
  // hovering at the rate is one incident, not one each time it crosses.
  Clock::duration ResolveFor(bool page) const;
  bool ClearLongEnough(const Alert& alert, TimePoint now) const;
  // The rule has watched requests since `at` at the latest.
  void Watch(TimePoint at);
  // "99.9% availability" / "99% of requests within 300ms", with scope and pool.
  std::string Objective() const;
  std::string BurnText(size_t i, bool firing_only) const;
  std::vector<std::pair<std::string, std::string>> Fields(size_t i, bool firing) const;

  std::vector<BurnRateWindows> pairs_;
  std::chrono::seconds period_;  // the error budget's
  SpanCounters fine_;
  SpanCounters coarse_;
  std::vector<WindowRef> long_refs_, short_refs_;  // parallel to pairs_
  WindowRef period_ref_;
  std::vector<Alert> alerts_;  // parallel to conditions_
  std::string serving_;
  TimePoint last_evaluated_{};
  TimePoint now_{};  // of the last Evaluate(): what Breaching() judges at
  bool watching_ = false;
  TimePoint watch_start_{};  // the first request or evaluation, or the saved counts' start
};

// A burn rate as people read it: "16.2x", "0.41x", "1000x".
std::string FormatBurnRate(double rate);

}  // namespace poolwatch
