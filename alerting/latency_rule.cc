#include "alerting/latency_rule.h"

#include <algorithm>
#include <chrono>
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

// "%.<decimals>f" without trailing zeros: 1.50 → "1.5", 5.00 → "5".
std::string Trimmed(double value, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  std::string out = buf;
  if (out.find('.') == std::string::npos) return out;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

double Seconds(std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::string FormatLatency(double seconds) {
  // nginx logs milliseconds: below a second, whole ones say it all.
  if (seconds < 0.9995) return Trimmed(seconds * 1000, 0) + "ms";
  return Trimmed(seconds, 2) + "s";
}

LatencyRule::LatencyRule(RuleConfig config) : Rule(std::move(config)) {}

double LatencyRule::ThresholdSeconds() const { return Seconds(config_.latency_threshold); }

double LatencyRule::ResolveSeconds() const {
  const double threshold = ThresholdSeconds();
  if (!config_.latency_resolve_threshold) return 0.9 * threshold;
  return std::min(Seconds(*config_.latency_resolve_threshold), threshold);
}

int LatencyRule::FindOrAddPool(std::string_view pool) {
  if (const int found = FindPool(instances_, pool, last_pool_index_); found >= 0) return found;
  return AddPool(pool);
}

[[gnu::noinline]] int LatencyRule::AddPool(std::string_view pool) {
  if (instances_.size() >= kMaxPools) return -1;
  instances_.push_back(Instance{
      std::string(pool), QuantileWindow(config_.window_size, config_.max_age, ThresholdSeconds())});
  AlertCondition condition;
  condition.labels = {{"pool", std::string(pool)}};
  condition.threshold = ThresholdSeconds();
  condition.window_size = instances_.back().window.capacity();
  conditions_.push_back(std::move(condition));
  last_pool_index_ = instances_.size() - 1;
  return static_cast<int>(last_pool_index_);
}

uint16_t LatencyRule::AddressTag(std::string_view address) {
  if (address.empty()) return 0;
  if (last_address_tag_ != 0 && SameText(addresses_[last_address_tag_ - 1], address)) {
    return last_address_tag_;
  }
  for (size_t i = 0; i < addresses_.size(); ++i) {
    if (SameText(addresses_[i], address)) {
      last_address_tag_ = static_cast<uint16_t>(i + 1);
      return last_address_tag_;
    }
  }
  return AddAddress(address);
}

[[gnu::noinline]] uint16_t LatencyRule::AddAddress(std::string_view address) {
  if (addresses_.size() >= kMaxAddresses) return 0;
  addresses_.emplace_back(address);
  last_address_tag_ = static_cast<uint16_t>(addresses_.size());
  return last_address_tag_;
}

void LatencyRule::Push(std::string_view pool, TimePoint at, double seconds,
                       std::string_view address) {
  const int i = FindOrAddPool(pool);
  if (i < 0) return;
  Instance& instance = instances_[static_cast<size_t>(i)];
  instance.window.Push(at, seconds, AddressTag(address));
  instance.clear.Count(seconds > ThresholdSeconds());
}

void LatencyRule::Observe(const LogRecord& record, std::string_view pool) {
  if (!pool.empty() && !SameText(pool, serving_)) serving_.assign(pool);
  if (config_.scope == ErrorScope::kClient) {
    // Requests nginx answered itself have no pool to blame (and take no time).
    if (pool.empty() || record.request_time < 0) return;
    // Where the time went: the slowest attempt (a timed-out primary before the backup answered).
    std::string_view address = record.attempts.empty() ? "" : record.attempts.back().address;
    double slowest = -1;
    for (const UpstreamAttempt& attempt : record.attempts) {
      if (attempt.response_time > slowest) {
        slowest = attempt.response_time;
        address = attempt.address;
      }
    }
    Push(pool, record.time, record.request_time, address);
    return;
  }
  for (const UpstreamAttempt& attempt : record.attempts) {
    // "-": no time to judge (nginx could not even start the attempt).
    if (!IsRealPool(attempt.pool) || attempt.response_time < 0) continue;
    Push(attempt.pool, record.time, attempt.response_time, attempt.address);
  }
}

Decision LatencyRule::Judge(const QuantileWindow& window) const {
  const size_t n = window.size();
  if (n < MinRequests(config_)) return Decision::kTooFewRequests;
  // The quantile (the rank-th smallest) is above the threshold exactly when more than n - rank
  // entries are: counted as they come, so no quantile is needed to judge.
  const size_t slow = window.above_mark();
  if (slow <= n - QuantileWindow::NearestRank(config_.quantile, n)) {
    return Decision::kBelowThreshold;
  }
  if (slow < config_.min_slow) return Decision::kNotSignificant;
  // A full window is the definition: its quantile is above the threshold.
  if (window.size() >= window.capacity()) return Decision::kFiring;
  // The quantile is above the threshold exactly when more than 1 - quantile of the entries are
  // slow: so a thin window fires when that share is significantly above 1 - quantile.
  return ShowsRateAbove(window.size(), slow, 1 - config_.quantile, config_.min_slow,
                        config_.confidence_percent)
             ? Decision::kFiring
             : Decision::kNotSignificant;
}

void LatencyRule::Evaluate(TimePoint now) {
  last_evaluated_ = now;
  const double resolve = ResolveSeconds();
  for (size_t i = 0; i < instances_.size(); ++i) {
    Instance& instance = instances_[i];
    QuantileWindow& window = instance.window;
    AlertCondition& c = conditions_[i];
    window.Expire(now);
    const bool was_active = c.active;
    c.episodes_started = 0;
    c.changed = false;
    c.value = window.Quantile(config_.quantile);
    c.threshold = ThresholdSeconds();
    c.window_fill = window.size();
    c.window_size = window.capacity();
    const Decision judged = Judge(window);
    const bool breaching = judged == Decision::kFiring;
    if (breaching && !instance.breaching) instance.breach_since = now;
    instance.breaching = breaching;
    if (!was_active) {
      c.active = breaching && now - instance.breach_since >= config_.for_duration;
      c.breaching = c.active;
      c.reason = breaching && !c.active ? Decision::kPending : judged;
    } else if (c.value > resolve) {
      // Hysteresis: above the resolve threshold the incident goes on, even below the threshold.
      c.breaching = breaching;
      c.reason = Decision::kFiring;
    } else {
      c.breaching = false;
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

std::string LatencyRule::QuantileName() const {
  // Appended rather than "p" + …: GCC 12 at -O3 warns (-Wrestrict) about its own inlined
  // operator+ on a literal and a temporary.
  std::string name = "p";
  name += Trimmed(config_.quantile * 100, 4);
  return name;
}

std::vector<std::pair<std::string, std::string>> LatencyRule::Fields(size_t i) const {
  const Instance& instance = instances_[i];
  const QuantileWindow& window = instance.window;
  const AlertCondition& c = conditions_[i];
  const std::string threshold = FormatLatency(ThresholdSeconds());
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("Pool", instance.pool);
  fields.emplace_back(QuantileName(), FormatLatency(c.value) + " (threshold: " + threshold + ")");
  const char* what = config_.scope == ErrorScope::kClient ? " requests" : " attempts";
  fields.emplace_back("Window", std::to_string(window.size()) + what + ", " +
                                    std::to_string(window.above_mark()) + " above " + threshold);
  if (const std::optional<QuantileWindow::Entry> slowest = window.Slowest()) {
    std::string text = FormatLatency(slowest->seconds);
    if (slowest->tag != 0) text += " from " + addresses_[slowest->tag - 1];
    fields.emplace_back("Slowest", text);
  }
  fields.emplace_back("Current Pool", OrUnknown(serving_));
  return fields;
}

Notification LatencyRule::Firing(size_t i, TimePoint now) const {
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kFiring);
  n.title = Upper(config_.name);
  n.summary = QuantileName() + " latency above " + FormatLatency(ThresholdSeconds()) + " on pool " +
              instances_[i].pool;
  n.fields = Fields(i);
  n.action =
      "Check the slowest upstream, its database, GC pauses and saturation; consider switching "
      "pools";
  n.at = now;
  return n;
}

Notification LatencyRule::Resolved(size_t i, TimePoint now) const {
  const AlertCondition& c = conditions_[i];
  const Instance& instance = instances_[i];
  Notification n = BaseNotification(config_, c.labels, AlertStatus::kResolved);
  n.title = Upper(config_.name) + " RESOLVED";
  n.summary = c.reason == Decision::kTooFewRequests
                  ? QuantileName() + " latency on pool " + instance.pool +
                        " no longer judged: too few recent requests"
                  : QuantileName() + " latency is back to normal on pool " + instance.pool;
  n.fields = Fields(i);
  if (instance.cleared_at == now) {
    n.fields.emplace_back("Clear for", FormatDuration(now - instance.clear.since()) + ", " +
                                           std::to_string(instance.clear.entries()) +
                                           " requests at or below " +
                                           FormatLatency(ResolveSeconds()));
  }
  n.at = now;
  return n;
}

std::string LatencyRule::Detail(size_t i) const {
  const Instance& instance = instances_[i];
  const QuantileWindow& window = instance.window;
  std::string out = QuantileName() + " " + FormatLatency(window.Quantile(config_.quantile)) + " (" +
                    std::to_string(window.above_mark()) + " of " + std::to_string(window.size()) +
                    " above " + FormatLatency(ThresholdSeconds()) + ", resolve " +
                    FormatLatency(ResolveSeconds()) + ", min " +
                    std::to_string(MinRequests(config_)) + " requests, " +
                    std::to_string(config_.min_slow) + " slow)";
  if (instance.breaching && !conditions_[i].active &&
      config_.for_duration > Clock::duration::zero()) {
    out += "; above for " + FormatDuration(last_evaluated_ - instance.breach_since) + " of " +
           FormatDuration(config_.for_duration);
  }
  if (instance.clear.clearing()) out += "; " + instance.clear.Progress(last_evaluated_, config_);
  return out;
}

void LatencyRule::Reconfigure(const RuleConfig& config, std::string_view /*active_pool*/) {
  config_ = config;
  for (size_t i = 0; i < instances_.size(); ++i) {
    instances_[i].window.Reconfigure(config_.window_size, config_.max_age);
    instances_[i].window.SetMark(ThresholdSeconds());
    conditions_[i].threshold = ThresholdSeconds();
    conditions_[i].window_size = instances_[i].window.capacity();
  }
}

void LatencyRule::RestoreActive(size_t i, TimePoint since) {
  if (MarkActive(i, since)) instances_[i].clear.Break();
}

void LatencyRule::ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) {
  if (config_.scope != ErrorScope::kUpstream) return;  // what clients waited is never inhibited
  DropPoolEntriesBefore(instances_, pool, ended_at);
}

int LatencyRule::FindOrAddAlert(const Labels& labels) {
  const std::string_view pool = PoolOfLabels(labels);
  return pool.empty() ? -1 : FindOrAddPool(pool);
}

}  // namespace poolwatch
