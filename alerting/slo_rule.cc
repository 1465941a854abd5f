#include "alerting/slo_rule.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "alerting/evidence.h"
#include "alerting/rule_internal.h"

namespace poolwatch {
namespace {

using rule_internal::BaseNotification;
using rule_internal::IsRealPool;
using rule_internal::OrUnknown;
using rule_internal::Upper;
using rule_internal::WindowName;

std::string Fixed(double value, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

// Percent of an objective as written: 99.9 → "99.9%", 99.95 → "99.95%", 99 → "99%".
std::string ObjectiveText(double percent) {
  std::string out = Fixed(percent, 4);
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out + "%";
}

// 1234567 → "1,234,567": request counts are read at a glance.
std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string LatencyText(std::chrono::milliseconds threshold) {
  if (threshold.count() % 1000 == 0) return std::to_string(threshold.count() / 1000) + "s";
  return std::to_string(threshold.count()) + "ms";
}

}  // namespace

std::string FormatBurnRate(double rate) {
  if (rate < 1) return Fixed(rate, 2) + "x";
  if (rate < 100) return Fixed(rate, 1) + "x";
  return Fixed(rate, 0) + "x";
}

std::vector<BurnRateWindows> SloRule::PairsOf(const RuleConfig& config) {
  return config.burn_rates.empty() ? DefaultBurnRates() : config.burn_rates;
}

std::chrono::seconds SloRule::PeriodOf(const RuleConfig& config,
                                       const std::vector<BurnRateWindows>& pairs) {
  std::chrono::seconds period{0};
  for (const BurnRateWindows& pair : pairs) period = std::max(period, pair.long_window);
  return std::max(period, config.slo_period.value_or(period));
}

std::vector<std::chrono::seconds> SloRule::SpansOf(const std::vector<BurnRateWindows>& pairs,
                                                   std::chrono::seconds period, bool fine) {
  std::vector<std::chrono::seconds> spans;
  auto take = [&](std::chrono::seconds window) {
    if ((window <= kFineUpTo) != fine) return;
    if (std::find(spans.begin(), spans.end(), window) == spans.end()) spans.push_back(window);
  };
  for (const BurnRateWindows& pair : pairs) {
    take(pair.long_window);
    take(pair.short_window);
  }
  take(period);
  return spans;
}

SloRule::SloRule(RuleConfig config)
    : Rule(std::move(config)),
      pairs_(PairsOf(config_)),
      period_(PeriodOf(config_, pairs_)),
      fine_(kFineBucket, SpansOf(pairs_, period_, true)),
      coarse_(kCoarseBucket, SpansOf(pairs_, period_, false)) {
  BuildAlerts();
}

SloRule::WindowRef SloRule::RefOf(std::chrono::seconds window) const {
  const bool fine = window <= kFineUpTo;
  const std::vector<std::chrono::seconds> spans = SpansOf(pairs_, period_, fine);
  const auto it = std::find(spans.begin(), spans.end(), window);
  return WindowRef{fine, static_cast<size_t>(it - spans.begin())};
}

void SloRule::BuildAlerts() {
  long_refs_.clear();
  short_refs_.clear();
  for (const BurnRateWindows& pair : pairs_) {
    long_refs_.push_back(RefOf(pair.long_window));
    short_refs_.push_back(RefOf(pair.short_window));
  }
  period_ref_ = RefOf(period_);
  for (const bool page : {true, false}) {
    const bool wanted = std::any_of(pairs_.begin(), pairs_.end(),
                                    [page](const BurnRateWindows& p) { return p.page == page; });
    if (!wanted) continue;
    Labels labels = {{"urgency", page ? "page" : "ticket"}};
    if (!config_.pool.empty()) labels["pool"] = config_.pool;
    const bool present =
        std::any_of(conditions_.begin(), conditions_.end(),
                    [&labels](const AlertCondition& c) { return c.labels == labels; });
    if (present) continue;
    AlertCondition condition;
    condition.labels = std::move(labels);
    conditions_.push_back(std::move(condition));
    alerts_.push_back(Alert{page});
  }
}

bool SloRule::IsBad(double seconds, int status) const {
  if (config_.sli == SloIndicator::kLatency) {
    return seconds > std::chrono::duration<double>(config_.latency_threshold).count();
  }
  // Upstream scope: no response at all (status 0) failed the attempt too.
  return status >= 500 || (config_.scope == ErrorScope::kUpstream && status == 0);
}

void SloRule::Count(TimePoint at, bool bad) {
  if (!watching_) Watch(at);
  fine_.Add(at, bad);
  coarse_.Add(at, bad);
  // A bad request now and then is what the objective allows: the clear stretch counts requests
  // since the last evaluation that breached, not since the last bad one.
  for (Alert& alert : alerts_) alert.clear.Count(false);
}

void SloRule::Observe(const LogRecord& record) {
  const std::string_view serving = ServingPoolOf(record);
  if (!serving.empty() && serving != serving_) serving_.assign(serving);
  const bool latency = config_.sli == SloIndicator::kLatency;
  if (config_.scope == ErrorScope::kClient) {
    if (!config_.pool.empty() && serving != config_.pool) return;
    if (latency && record.request_time < 0) return;
    Count(record.time, IsBad(record.request_time, record.status));
    return;
  }
  for (const UpstreamAttempt& attempt : record.attempts) {
    if (!IsRealPool(attempt.pool)) continue;
    if (!config_.pool.empty() && attempt.pool != config_.pool) continue;
    if (latency && attempt.response_time < 0) continue;
    Count(record.time, IsBad(attempt.response_time, attempt.status));
  }
}

RequestCounts SloRule::CountsOf(const WindowRef& ref) const {
  return ref.fine ? fine_.Sum(ref.span) : coarse_.Sum(ref.span);
}

double SloRule::BurnOf(const RequestCounts& counts) const {
  if (counts.requests == 0) return 0;
  return static_cast<double>(counts.bad) / static_cast<double>(counts.requests) / Allowance();
}

RequestCounts SloRule::Counts(size_t pair, bool long_window) const {
  return CountsOf(long_window ? long_refs_[pair] : short_refs_[pair]);
}

double SloRule::BurnRate(size_t pair, bool long_window) const {
  return BurnOf(Counts(pair, long_window));
}

bool SloRule::Judged(size_t pair) const {
  return Counts(pair, true).requests >= std::max<size_t>(config_.min_requests, 1);
}

bool SloRule::Breaching(size_t pair) const {
  const double rate = pairs_[pair].burn_rate;
  if (!Judged(pair) || BurnRate(pair, true) <= rate || BurnRate(pair, false) <= rate) {
    return false;
  }
  if (now_ - watch_start_ >= pairs_[pair].long_window) return true;
  // A long window not yet watched in full (after a start without saved counts) holds only the
  // requests since then: one bad request among the first 150 is a burn rate of 6.7x. There a
  // share is taken only as significant evidence, as error_rate does in a part-filled window.
  const RequestCounts counts = Counts(pair, true);
  return ShowsRateAbove(counts.requests, counts.bad, rate * Allowance(), config_.min_errors,
                        config_.confidence_percent);
}

void SloRule::Watch(TimePoint at) {
  if (watching_ && at >= watch_start_) return;
  watching_ = true;
  watch_start_ = at;
}

double SloRule::BudgetLeft() const {
  const RequestCounts period = CountsOf(period_ref_);
  if (period.requests == 0) return 1;
  return 1 - BurnOf(period);
}

std::chrono::seconds SloRule::ShortestShortWindow(bool page) const {
  std::chrono::seconds shortest{0};
  for (const BurnRateWindows& pair : pairs_) {
    if (pair.page != page) continue;
    if (shortest.count() == 0 || pair.short_window < shortest) shortest = pair.short_window;
  }
  return shortest.count() == 0 ? std::chrono::seconds(300) : shortest;
}

Clock::duration SloRule::ResolveFor(bool page) const {
  if (config_.resolve_for) return *config_.resolve_for;
  return ShortestShortWindow(page);
}

bool SloRule::ClearLongEnough(const Alert& alert, TimePoint now) const {
  const Clock::duration clear_for = now - alert.clear.since();
  if (!alert.clear.clearing() || clear_for < ResolveFor(alert.page)) return false;
  // At traffic too low to bring the requests: twice the short window, replaced twice by then.
  return alert.clear.entries() >= config_.ResolveRequests() ||
         clear_for >= 2 * ShortestShortWindow(alert.page);
}

void SloRule::Evaluate(TimePoint now) {
  last_evaluated_ = now;
  now_ = now;
  if (!watching_) Watch(now);
  fine_.AdvanceTo(now);
  coarse_.AdvanceTo(now);
  // A ticket is about a slow burn: it waits while the page is on (alerts_ has it first) or the
  // burn is fast now (a page entry's short window above its rate), when the page decides.
  bool page_active = false;
  bool fast = false;
  for (size_t p = 0; p < pairs_.size(); ++p) {
    if (pairs_[p].page && BurnRate(p, false) > pairs_[p].burn_rate) fast = true;
  }
  for (size_t i = 0; i < alerts_.size(); ++i) {
    Alert& alert = alerts_[i];
    AlertCondition& c = conditions_[i];
    const bool was_active = c.active;
    c.episodes_started = 0;
    c.changed = false;
    bool judged = false;
    bool breaching = false;
    bool first = true;
    for (size_t p = 0; p < pairs_.size(); ++p) {
      if (pairs_[p].page != alert.page) continue;
      if (first) {
        // The status shows the first entry's long window against its rate.
        c.value = BurnRate(p, true);
        c.threshold = pairs_[p].burn_rate;
        c.window_fill = Counts(p, true).requests;
        c.window_size = 0;  // not a window of N requests
        first = false;
      }
      judged = judged || Judged(p);
      breaching = breaching || Breaching(p);
    }
    if (breaching && !alert.breaching) alert.breach_since = now;
    alert.breaching = breaching;
    const Decision judged_reason = breaching ? Decision::kFiring
                                   : judged  ? Decision::kBelowThreshold
                                             : Decision::kTooFewRequests;
    if (!was_active) {
      const bool held = !alert.page && (page_active || fast);
      c.active = breaching && !held && now - alert.breach_since >= config_.for_duration;
      c.breaching = c.active;
      if (c.active || !breaching) {
        c.reason = judged_reason;
      } else {
        c.reason = held ? Decision::kInhibited : Decision::kPending;
      }
    } else if (breaching) {
      c.breaching = true;
      c.reason = Decision::kFiring;
    } else {
      c.breaching = false;
      alert.clear.Continue(now);
      c.active = !ClearLongEnough(alert, now);
      c.reason = c.active ? Decision::kResolving : judged_reason;
      if (!c.active) alert.cleared_at = now;
    }
    if (!c.active || c.reason == Decision::kFiring) alert.clear.Break();
    if (c.active != was_active) {
      c.since = now;
      if (c.active) c.episodes_started = 1;
    }
    if (alert.page && c.active) page_active = true;
  }
}

std::string SloRule::Objective() const {
  std::string out = ObjectiveText(config_.objective_percent);
  const bool upstream = config_.scope == ErrorScope::kUpstream;
  if (config_.sli == SloIndicator::kLatency) {
    out += upstream ? " of upstream attempts" : " of requests";
    out += " within " + LatencyText(config_.latency_threshold);
  } else {
    out += upstream ? " availability of upstream attempts" : " availability (no 5xx)";
  }
  if (!config_.pool.empty()) out += " on pool " + config_.pool;
  return out + ", budget over " + WindowName(period_);
}

std::string SloRule::Counted() const {
  std::string out = config_.sli == SloIndicator::kLatency
                        ? "latency>" + std::to_string(config_.latency_threshold.count()) + "ms"
                        : "availability";
  out += config_.scope == ErrorScope::kUpstream ? " upstream" : " client";
  if (!config_.pool.empty()) out += " pool=" + config_.pool;
  return out;
}

std::string SloRule::BurnText(size_t i, bool firing_only) const {
  std::string out;
  for (size_t p = 0; p < pairs_.size(); ++p) {
    if (pairs_[p].page != alerts_[i].page) continue;
    if (firing_only && !Breaching(p)) continue;
    if (!out.empty()) out += "; ";
    out += WindowName(pairs_[p].long_window) + " " + FormatBurnRate(BurnRate(p, true)) + ", " +
           WindowName(pairs_[p].short_window) + " " + FormatBurnRate(BurnRate(p, false)) +
           (firing_only ? " (above " + FormatBurnRate(pairs_[p].burn_rate) + ")"
                        : " (" + FormatBurnRate(pairs_[p].burn_rate) + ": " +
                              (!Judged(p)     ? "too few requests"
                               : Breaching(p) ? "breaching"
                                              : "below") +
                              ")");
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SloRule::Fields(size_t i, bool firing) const {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("SLO", Objective());
  fields.emplace_back("Burn rate", BurnText(i, firing));
  // "At this rate": the fastest long window among the entries that fire (or, for a resolved
  // message, this urgency's first entry).
  double rate = 0;
  size_t shown = pairs_.size();
  for (size_t p = 0; p < pairs_.size(); ++p) {
    if (pairs_[p].page != alerts_[i].page) continue;
    if (shown == pairs_.size()) shown = p;
    if (firing && Breaching(p) && BurnRate(p, true) > rate) {
      rate = BurnRate(p, true);
      shown = p;
    }
  }
  if (shown < pairs_.size()) rate = BurnRate(shown, true);
  const double left = BudgetLeft();
  const RequestCounts period = CountsOf(period_ref_);
  const double allowed = static_cast<double>(period.requests) * Allowance();
  fields.emplace_back("Error budget left", Fixed(left * 100, 1) + "% of " + WindowName(period_) +
                                               " (" + Thousands(period.bad) + " bad of " +
                                               Thousands(static_cast<uint64_t>(allowed + 0.5)) +
                                               " allowed in " + Thousands(period.requests) +
                                               " requests)");
  if (left <= 0) {
    fields.emplace_back("Exhausted in", "already exhausted");
  } else if (rate > 0) {
    const auto seconds = static_cast<int64_t>(left * static_cast<double>(period_.count()) / rate);
    fields.emplace_back("Exhausted in", FormatDuration(std::chrono::seconds(seconds)) + " at " +
                                            FormatBurnRate(rate));
  }
  if (shown < pairs_.size()) {
    const RequestCounts counts = Counts(shown, true);
    fields.emplace_back("Requests", Thousands(counts.bad) + " bad of " +
                                        Thousands(counts.requests) + " in " +
                                        WindowName(pairs_[shown].long_window) + " (minimum " +
                                        std::to_string(config_.min_requests) + ")");
  }
  fields.emplace_back("Current Pool", OrUnknown(serving_));
  return fields;
}

Notification SloRule::Firing(size_t i, TimePoint now) const {
  const bool page = alerts_[i].page;
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kFiring);
  if (!page) n.severity = config_.ticket_severity;
  n.title = Upper(config_.name);
  n.summary = std::string(page ? "Error budget burning fast" : "Error budget burning") + " (" +
              (page ? "page" : "ticket") + "): " + Objective();
  n.fields = Fields(i, true);
  n.action = page ? "Act now: find what spends the budget (the newest release, one pool, a "
                    "dependency) and roll back or switch pools"
                  : "Not urgent: within working hours, find which release or dependency slowly "
                    "spends the budget and plan a fix";
  n.at = now;
  return n;
}

Notification SloRule::Resolved(size_t i, TimePoint now) const {
  const bool page = alerts_[i].page;
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kResolved);
  if (!page) n.severity = config_.ticket_severity;
  n.title = Upper(config_.name) + " RESOLVED";
  n.summary = std::string("Error budget burn back below the ") + (page ? "page" : "ticket") +
              " rates: " + Objective();
  n.fields = Fields(i, false);
  const Alert& alert = alerts_[i];
  if (alert.cleared_at == now) {
    n.fields.emplace_back("Clear for", FormatDuration(now - alert.clear.since()) + ", " +
                                           std::to_string(alert.clear.entries()) + " requests");
  }
  n.at = now;
  return n;
}

std::string SloRule::Detail(size_t i) const {
  std::string out = std::string(alerts_[i].page ? "page: " : "ticket: ") + BurnText(i, false) +
                    "; budget left " + Fixed(BudgetLeft() * 100, 1) + "% of " +
                    WindowName(period_) + "; min " + std::to_string(config_.min_requests) +
                    " requests";
  const Alert& alert = alerts_[i];
  if (alert.breaching && !conditions_[i].active && config_.for_duration.count() > 0) {
    out += "; breaching for " + FormatDuration(last_evaluated_ - alert.breach_since) + " of " +
           FormatDuration(config_.for_duration);
  }
  if (alert.clear.clearing()) {
    out += "; clear for " + FormatDuration(last_evaluated_ - alert.clear.since()) + " and " +
           std::to_string(alert.clear.entries()) + " requests (resolves after " +
           FormatDuration(ResolveFor(alert.page)) + " and " +
           std::to_string(config_.ResolveRequests()) + ")";
  }
  return out;
}

void SloRule::Reconfigure(const RuleConfig& config, std::string_view /*active_pool*/) {
  // The engine keeps a rule only while it counts the same requests (SameRule), so the counts
  // carry over; new windows take what the old rings hold where they overlap.
  const SpanCounters::Snapshot fine = fine_.Export();
  const SpanCounters::Snapshot coarse = coarse_.Export();
  config_ = config;
  pairs_ = PairsOf(config_);
  period_ = PeriodOf(config_, pairs_);
  fine_ = SpanCounters(kFineBucket, SpansOf(pairs_, period_, true));
  coarse_ = SpanCounters(kCoarseBucket, SpansOf(pairs_, period_, false));
  fine_.Import(fine);
  coarse_.Import(coarse);
  BuildAlerts();
}

void SloRule::RestoreActive(size_t i, TimePoint since) {
  if (MarkActive(i, since)) alerts_[i].clear.Break();
}

int SloRule::FindOrAddAlert(const Labels& labels) {
  for (size_t i = 0; i < conditions_.size(); ++i) {
    if (conditions_[i].labels == labels) return static_cast<int>(i);
  }
  return -1;
}

std::optional<RuleCounters> SloRule::ExportCounters() const {
  RuleCounters out;
  out.rule = config_.name;
  out.kind = config_.kind;
  out.counted = Counted();
  if (watching_) out.watched_since = watch_start_;
  out.rings = {fine_.Export(), coarse_.Export()};
  return out;
}

std::string SloRule::ImportCounters(const RuleCounters& counters) {
  if (counters.counted != Counted()) {
    return "saved counts of '" + counters.counted + "', this rule counts '" + Counted() + "'";
  }
  // Into copies first: a record that is half taken would be worse than none.
  SpanCounters fine = fine_;
  SpanCounters coarse = coarse_;
  for (const SpanCounters::Snapshot& ring : counters.rings) {
    SpanCounters* into = ring.bucket_seconds == kFineBucket.count()     ? &fine
                         : ring.bucket_seconds == kCoarseBucket.count() ? &coarse
                                                                        : nullptr;
    if (into == nullptr) {
      return "buckets of " + std::to_string(ring.bucket_seconds) + "s are not this rule's";
    }
    if (std::string problem = into->Import(ring); !problem.empty()) return problem;
  }
  fine_ = std::move(fine);
  coarse_ = std::move(coarse);
  // The windows hold what was watched before the restart (and the downtime, empty): as full
  // as they were then.
  if (counters.watched_since) Watch(*counters.watched_since);
  return "";
}

}  // namespace poolwatch
