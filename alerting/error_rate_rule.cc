#include "alerting/error_rate_rule.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "alerting/evidence.h"
#include "alerting/rule_internal.h"

namespace poolwatch {
namespace {

using rule_internal::BaseNotification;
using rule_internal::DropPoolEntriesBefore;
using rule_internal::FindPool;
using rule_internal::IsRealPool;
using rule_internal::MinRequests;
using rule_internal::OrUnknown;
using rule_internal::PoolOfLabels;
using rule_internal::SameText;
using rule_internal::Upper;

// 2 → "2", 2.5 → "2.5": thresholds are written the way people configure them.
std::string FormatNumber(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", value);
  std::string out = buf;
  while (!out.empty() && out.back() == '0') out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string FormatPercent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", value);
  return buf;
}

}  // namespace

ErrorRateRule::ErrorRateRule(RuleConfig config) : Rule(std::move(config)) {
  if (config_.scope == ErrorScope::kClient) FindOrAddPool("");
}

int ErrorRateRule::FindOrAddPool(std::string_view pool) {
  if (const int found = FindPool(instances_, pool, last_pool_index_); found >= 0) return found;
  return AddPool(pool);
}

[[gnu::noinline]] int ErrorRateRule::AddPool(std::string_view pool) {
  if (instances_.size() >= kMaxPools) return -1;
  instances_.push_back(
      Instance{std::string(pool), SlidingWindow(config_.window_size, config_.max_age)});
  AlertCondition condition;
  if (!pool.empty()) condition.labels = {{"pool", std::string(pool)}};
  condition.threshold = config_.threshold_percent;
  condition.window_size = instances_.back().window.capacity();
  conditions_.push_back(std::move(condition));
  last_pool_index_ = instances_.size() - 1;
  return static_cast<int>(last_pool_index_);
}

void ErrorRateRule::Observe(const LogRecord& record, std::string_view pool) {
  if (!pool.empty() && !SameText(pool, serving_)) serving_.assign(pool);
  if (config_.scope == ErrorScope::kClient) {
    // Every request counts, including those nginx answered itself (a 502 with no upstream
    // live is exactly what the client saw).
    const bool error = record.status >= 500;
    instances_[0].window.Push(record.time, error);
    instances_[0].clear.Count(error);
    return;
  }
  for (const UpstreamAttempt& attempt : record.attempts) {
    if (!IsRealPool(attempt.pool)) continue;
    const int i = FindOrAddPool(attempt.pool);
    if (i < 0) continue;
    // No response at all (status 0: connect failure, timeout before headers) is an error too.
    Instance& instance = instances_[static_cast<size_t>(i)];
    const bool error = attempt.status >= 500 || attempt.status == 0;
    instance.window.Push(record.time, error);
    instance.clear.Count(error);
  }
}

Decision ErrorRateRule::Judge(const SlidingWindow& window) const {
  if (window.size() < MinRequests(config_)) return Decision::kTooFewRequests;
  if (window.ErrorPercent() <= config_.threshold_percent) return Decision::kBelowThreshold;
  // A full window is the seed's rule: more than threshold % of the last window_size requests.
  if (window.size() >= window.capacity()) return Decision::kFiring;
  return ShowsRateAbove(window.size(), window.errors(), config_.threshold_percent / 100,
                        config_.min_errors, config_.confidence_percent)
             ? Decision::kFiring
             : Decision::kNotSignificant;
}

void ErrorRateRule::Evaluate(TimePoint now) {
  last_evaluated_ = now;
  const double resolve = ResolvePercent();
  for (size_t i = 0; i < instances_.size(); ++i) {
    Instance& instance = instances_[i];
    SlidingWindow& window = instance.window;
    AlertCondition& c = conditions_[i];
    window.Expire(now);
    const bool was_active = c.active;
    c.episodes_started = 0;
    c.changed = false;
    c.value = window.ErrorPercent();
    c.threshold = config_.threshold_percent;
    c.window_fill = window.size();
    c.window_size = window.capacity();
    const Decision judged = Judge(window);
    c.breaching = judged == Decision::kFiring;
    if (!was_active) {
      c.active = c.breaching;
      c.reason = judged;
    } else if (c.value > resolve) {
      // Hysteresis: above the resolve threshold an incident goes on, even below the threshold.
      c.reason = Decision::kFiring;
    } else {
      instance.clear.Continue(now);
      c.active = !instance.clear.LongEnough(now, config_, window.max_age());
      c.reason = c.active ? Decision::kResolving : judged;
      if (!c.active) instance.cleared_at = now;
    }
    if (!c.active || c.reason == Decision::kFiring) instance.clear.Break();
    if (c.active != was_active) {
      c.since = now;
      if (c.active) c.episodes_started = 1;
    }
  }
}

std::vector<std::pair<std::string, std::string>> ErrorRateRule::Fields(size_t i) const {
  const Instance& instance = instances_[i];
  const AlertCondition& c = conditions_[i];
  std::vector<std::pair<std::string, std::string>> fields;
  if (!instance.pool.empty()) fields.emplace_back("Pool", instance.pool);
  fields.emplace_back("Error Rate", FormatPercent(c.value) + " (threshold: " +
                                        FormatNumber(config_.threshold_percent) + "%)");
  const std::string counts =
      std::to_string(instance.window.errors()) + "/" + std::to_string(instance.window.size());
  if (instance.pool.empty()) {
    fields.emplace_back("5xx Errors", counts + " requests");
  } else {
    fields.emplace_back("5xx Errors", counts + " attempts (5xx or no response)");
  }
  fields.emplace_back("Current Pool", OrUnknown(serving_));
  return fields;
}

Notification ErrorRateRule::Firing(size_t i, TimePoint now) const {
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kFiring);
  n.title = Upper(config_.name);
  n.summary = instances_[i].pool.empty()
                  ? "High error rate detected!"
                  : "High error rate detected on pool " + instances_[i].pool + "!";
  n.fields = Fields(i);
  n.action = "Check upstream logs and consider pool toggle";
  n.at = now;
  return n;
}

Notification ErrorRateRule::Resolved(size_t i, TimePoint now) const {
  const AlertCondition& c = conditions_[i];
  Notification n = BaseNotification(config_, c.labels, AlertStatus::kResolved);
  n.title = Upper(config_.name) + " RESOLVED";
  n.summary = c.reason == Decision::kTooFewRequests
                  ? "Error rate no longer judged: too few recent requests"
                  : "Error rate is back to normal";
  n.fields = Fields(i);
  const Instance& instance = instances_[i];
  if (instance.cleared_at == now) {
    n.fields.emplace_back("Clear for", FormatDuration(now - instance.clear.since()) + ", " +
                                           std::to_string(instance.clear.entries()) +
                                           " requests at or below " +
                                           FormatNumber(ResolvePercent()) + "%");
  }
  n.at = now;
  return n;
}

std::string ErrorRateRule::Detail(size_t i) const {
  const Instance& instance = instances_[i];
  const SlidingWindow& window = instance.window;
  std::string out = FormatPercent(window.ErrorPercent()) + " (" + std::to_string(window.errors()) +
                    "/" + std::to_string(window.size()) + ", threshold " +
                    FormatNumber(config_.threshold_percent) + "%, resolve " +
                    FormatNumber(ResolvePercent()) + "%, min " +
                    std::to_string(MinRequests(config_)) + " requests, " +
                    std::to_string(config_.min_errors) + " errors)";
  if (instance.clear.clearing()) out += "; " + instance.clear.Progress(last_evaluated_, config_);
  return out;
}

void ErrorRateRule::Reconfigure(const RuleConfig& config, std::string_view /*active_pool*/) {
  config_ = config;
  for (size_t i = 0; i < instances_.size(); ++i) {
    instances_[i].window.Reconfigure(config_.window_size, config_.max_age);
    conditions_[i].threshold = config_.threshold_percent;
    conditions_[i].window_size = instances_[i].window.capacity();
  }
}

void ErrorRateRule::RestoreActive(size_t i, TimePoint since) {
  if (MarkActive(i, since)) instances_[i].clear.Break();
}

void ErrorRateRule::ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) {
  if (config_.scope != ErrorScope::kUpstream) return;  // what clients saw is never inhibited
  DropPoolEntriesBefore(instances_, pool, ended_at);
}

int ErrorRateRule::FindOrAddAlert(const Labels& labels) {
  if (config_.scope == ErrorScope::kClient) return labels.empty() ? 0 : -1;
  const std::string_view pool = PoolOfLabels(labels);
  return pool.empty() ? -1 : FindOrAddPool(pool);
}

}  // namespace poolwatch
