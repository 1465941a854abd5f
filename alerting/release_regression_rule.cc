#include "alerting/release_regression_rule.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "alerting/rule_internal.h"

namespace poolwatch {
namespace {

using rule_internal::BaseNotification;
using rule_internal::IsRealPool;
using rule_internal::OrUnknown;
using rule_internal::Upper;
using rule_internal::WindowName;

Decision DecisionOf(RegressionFinding finding) {
  switch (finding) {
    case RegressionFinding::kTooFewRequests:
      return Decision::kTooFewRequests;
    case RegressionFinding::kNotWorse:
      return Decision::kBelowThreshold;
    case RegressionFinding::kNotSignificant:
      return Decision::kNotSignificant;
    case RegressionFinding::kWorse:
      return Decision::kFiring;
  }
  return Decision::kBelowThreshold;
}

// 2 → "2", 1.5 → "1.5".
std::string FormatRatio(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", value);
  return buf;
}

double Percent(uint64_t errors, uint64_t requests) {
  return requests == 0 ? 0 : 100.0 * static_cast<double>(errors) / static_cast<double>(requests);
}

}  // namespace

std::string FormatCount(uint64_t count) {
  std::string digits = std::to_string(count);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatShare(double percent) {
  char buf[32];
  // One decimal is what people compare at; a share under 0.1 % keeps two, so it is not "0.0 %".
  std::snprintf(buf, sizeof(buf), percent > 0 && percent < 0.1 ? "%.2f %%" : "%.1f %%", percent);
  return buf;
}

ReleaseRegressionRule::ReleaseRegressionRule(RuleConfig config)
    : Rule(std::move(config)), windows_(config_.window, ReleaseWindows::Latency::kOff) {
  instances_.reserve(kMaxAlerts);
  conditions_.reserve(kMaxAlerts);
  counts_.reserve(ReleaseWindows::kMaxPools * ReleaseWindows::kMaxReleasesPerPool);
  order_.reserve(ReleaseWindows::kMaxPools * ReleaseWindows::kMaxReleasesPerPool);
}

void ReleaseRegressionRule::Observe(const LogRecord& record) {
  if (!started_) {
    started_ = true;
    watch_start_ = record.time;
  }
  std::string_view pool = record.pool;
  if (serving_.empty() || pool != serving_) {
    pool = ServingPoolOf(record);
    if (!pool.empty() && pool != serving_) serving_.assign(pool);
  }
  windows_.Observe(record);
}

ReleaseRegressionRule::Baseline ReleaseRegressionRule::BaselineOf(
    const ReleaseWindows& windows, std::string_view pool, std::string_view release,
    RegressionBaseline compare, TimePoint now, Clock::duration window) {
  Baseline out;
  uint64_t largest = 0;
  for (const ReleaseWindows::Pool& p : windows.pools()) {
    const bool same_pool = p.name == pool;
    if (same_pool != (compare == RegressionBaseline::kOtherReleases)) continue;
    for (const ReleaseWindows::Slot& s : p.releases) {
      if (!s.in_use || s.release == release) continue;
      ReleaseSummary part;
      windows.AddTo(s, now, window, part);
      if (part.requests == 0) continue;
      out.summary.Add(part);
      ++out.releases;
      if (part.requests > largest) {
        largest = part.requests;
        out.largest = s.release;
        out.largest_pool = p.name;
      }
    }
  }
  return out;
}

int ReleaseRegressionRule::FindAlert(std::string_view pool, std::string_view release) const {
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (instances_[i].pool == pool && instances_[i].release == release) return static_cast<int>(i);
  }
  return -1;
}

int ReleaseRegressionRule::AddAlert(std::string_view pool, std::string_view release) {
  if (instances_.size() >= kMaxAlerts) return -1;
  Instance instance;
  instance.pool.assign(pool);
  instance.release.assign(release);
  instances_.push_back(std::move(instance));
  AlertCondition condition;
  condition.labels = {{"pool", std::string(pool)}, {"release", std::string(release)}};
  condition.since = last_evaluated_;
  conditions_.push_back(std::move(condition));
  return static_cast<int>(instances_.size() - 1);
}

void ReleaseRegressionRule::Evaluate(TimePoint now) {
  if (!started_) {
    started_ = true;
    watch_start_ = now;
  }
  last_evaluated_ = now;
  unalerted_ = 0;
  for (size_t i = 0; i < conditions_.size(); ++i) {
    conditions_[i].episodes_started = 0;
    conditions_[i].changed = false;
    instances_[i].seen = false;
  }
  // Each release's counts once, then every baseline from totals: an evaluation costs
  // O(n log n) in the releases that served, not O(n²), even at 20 pools × 20 releases.
  counts_.clear();
  const std::vector<ReleaseWindows::Pool>& pools = windows_.pools();
  Totals all;
  for (size_t p = 0; p < pools.size(); ++p) {
    pool_totals_[p] = Totals{};
    for (const ReleaseWindows::Slot& slot : pools[p].releases) {
      if (!slot.in_use) continue;
      const ReleaseWindows::Counts counts = windows_.CountIn(slot, now, config_.window);
      if (counts.requests == 0) continue;
      counts_.push_back(SlotCounts{p, &slot, counts, Totals{}});
      pool_totals_[p].Add(counts);
      all.Add(counts);
    }
  }
  const bool by_pools = config_.compare == RegressionBaseline::kOtherPools;
  order_.clear();
  for (uint32_t k = 0; k < counts_.size(); ++k) order_.push_back(k);
  if (by_pools) {
    // The same release's requests in every pool: group by name.
    std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
      return counts_[a].slot->release < counts_[b].slot->release;
    });
    for (size_t g = 0; g < order_.size();) {
      size_t end = g;
      Totals same;
      while (end < order_.size() &&
             counts_[order_[end]].slot->release == counts_[order_[g]].slot->release) {
        same.Add(counts_[order_[end]].counts);
        ++end;
      }
      for (size_t k = g; k < end; ++k) counts_[order_[k]].same_release = same;
      g = end;
    }
  }
  // Largest first, for the baseline's largest release.
  std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
    return counts_[a].counts.requests > counts_[b].counts.requests;
  });
  const RegressionSettings settings = RegressionSettings::Of(config_);
  for (const SlotCounts& release : counts_) {
    const ReleaseWindows::Pool& pool = pools[release.pool];
    int i = FindAlert(pool.name, release.slot->release);
    if (i < 0 && release.counts.requests < settings.min_requests) continue;
    Side baseline;
    Totals side;
    if (by_pools) {
      // Every other pool, less their requests of this same release.
      side = all;
      side.Subtract(pool_totals_[release.pool]);
      Totals same_elsewhere = release.same_release;
      same_elsewhere.Subtract(Totals{release.counts.requests, release.counts.errors, 1});
      side.Subtract(same_elsewhere);
    } else {
      side = pool_totals_[release.pool];
      side.Subtract(Totals{release.counts.requests, release.counts.errors, 1});
    }
    baseline.requests = side.requests;
    baseline.errors = side.errors;
    baseline.releases = side.releases;
    for (uint32_t k : order_) {
      const SlotCounts& other = counts_[k];
      if ((other.pool == release.pool) == by_pools) continue;
      if (other.slot->release == release.slot->release) continue;
      baseline.largest = other.slot->release;
      baseline.largest_pool = pools[other.pool].name;
      break;
    }
    // A firing alert goes on while above the bound, significant or not: no exact test for it.
    const bool active = i >= 0 && conditions_[static_cast<size_t>(i)].active;
    const RegressionJudgement judgement =
        CompareWithBaseline(release.counts.requests, release.counts.errors, baseline.requests,
                            baseline.errors, settings, /*test_significance=*/!active);
    if (i < 0) {
      if (judgement.finding != RegressionFinding::kWorse) continue;
      i = AddAlert(pool.name, release.slot->release);
      if (i < 0) {
        ++unalerted_;
        continue;
      }
    }
    Judge(static_cast<size_t>(i), release.counts, baseline, judgement, release.slot->observed, now);
  }
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (!instances_[i].seen) NotServing(i, now);
  }
}

void ReleaseRegressionRule::Judge(size_t i, const ReleaseWindows::Counts& release,
                                  const Side& baseline, const RegressionJudgement& judgement,
                                  uint64_t observed, TimePoint now) {
  Instance& instance = instances_[i];
  AlertCondition& c = conditions_[i];
  instance.seen = true;
  instance.requests = release.requests;
  instance.errors = release.errors;
  instance.baseline_requests = baseline.requests;
  instance.baseline_errors = baseline.errors;
  instance.baseline_release.assign(baseline.largest);
  instance.baseline_pool.assign(baseline.largest_pool);
  instance.baseline_releases = baseline.releases;
  instance.bound_percent = judgement.bound_percent;
  c.value = Percent(release.errors, release.requests);
  c.threshold = judgement.bound_percent;
  c.window_fill = static_cast<size_t>(release.requests);
  c.window_size = static_cast<size_t>(config_.min_requests);

  const bool worse = judgement.finding == RegressionFinding::kWorse;
  const bool was_active = c.active;
  // While active: above the bound (the exact test is not run then).
  c.breaching = was_active ? judgement.finding == RegressionFinding::kWorse ||
                                 judgement.finding == RegressionFinding::kNotSignificant
                           : worse;
  if (!was_active) {
    if (!worse) {
      instance.breaching = false;
      c.reason = DecisionOf(judgement.finding);
    } else {
      if (!instance.breaching) {
        instance.breaching = true;
        instance.breach_since = now;
      }
      if (now - instance.breach_since >= config_.for_duration) {
        c.active = true;
        c.reason = Decision::kFiring;
        instance.clearing = false;
        instance.stopped = false;
      } else {
        c.reason = Decision::kPending;
      }
    }
  } else if (judgement.finding == RegressionFinding::kWorse ||
             judgement.finding == RegressionFinding::kNotSignificant) {
    // Still above the bound: an incident goes on while chance alone could explain the excess.
    instance.clearing = false;
    c.reason = Decision::kFiring;
  } else {
    if (!instance.clearing) {
      instance.clearing = true;
      instance.clear_since = now;
      instance.observed_at_clear = observed;
    }
    instance.clear_requests = observed - instance.observed_at_clear;
    const Clock::duration clear_for = now - instance.clear_since;
    const bool long_enough =
        clear_for >= config_.ResolveFor() &&
        (instance.clear_requests >= config_.ResolveRequests() || clear_for >= 2 * config_.window);
    if (long_enough) {
      c.active = false;
      instance.clearing = false;
      instance.breaching = false;
      instance.cleared_at = now;
      c.reason = DecisionOf(judgement.finding);
    } else {
      c.reason = Decision::kResolving;
    }
  }
  if (c.active != was_active) {
    c.since = now;
    if (c.active) c.episodes_started = 1;
  }
}

void ReleaseRegressionRule::NotServing(size_t i, TimePoint now) {
  Instance& instance = instances_[i];
  AlertCondition& c = conditions_[i];
  // The figures of the last judgement stay for the resolved message.
  instance.breaching = false;
  c.value = 0;
  c.window_fill = 0;
  c.breaching = false;
  // Fresh windows (a restart, a new window) have not seen the release yet: not evidence that it
  // stopped serving.
  if (c.active && now - watch_start_ < config_.window) {
    c.reason = Decision::kFiring;
    return;
  }
  c.reason = Decision::kTooFewRequests;
  if (!c.active) return;
  c.active = false;
  c.since = now;
  instance.clearing = false;
  instance.stopped = true;
  instance.cleared_at = now;
}

std::string ReleaseRegressionRule::Comparison(size_t i) const {
  const Instance& instance = instances_[i];
  std::string out = instance.release + ": " +
                    FormatShare(Percent(instance.errors, instance.requests)) + " of " +
                    FormatCount(instance.requests) + " requests vs ";
  if (instance.baseline_release.empty()) return out + "no baseline";
  out += instance.baseline_release;
  if (config_.compare == RegressionBaseline::kOtherPools) out += " on " + instance.baseline_pool;
  out += ": " + FormatShare(Percent(instance.baseline_errors, instance.baseline_requests)) +
         " of " + FormatCount(instance.baseline_requests);
  if (instance.baseline_releases > 1) {
    out += " (with " + std::to_string(instance.baseline_releases - 1) + " other release" +
           (instance.baseline_releases > 2 ? "s" : "") + ")";
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ReleaseRegressionRule::Fields(size_t i) const {
  const Instance& instance = instances_[i];
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("Pool", instance.pool);
  fields.emplace_back("Release", instance.release);
  fields.emplace_back("5xx", Comparison(i));
  fields.emplace_back("Bound", "above " + FormatShare(instance.bound_percent) + " (baseline + " +
                                   FormatRatio(config_.min_increase_points) + " point" +
                                   (config_.min_increase_points == 1 ? "" : "s") + ", at least " +
                                   FormatRatio(config_.min_ratio) + "× baseline)");
  fields.emplace_back("Window", WindowName(config_.window));
  fields.emplace_back("Current Pool", OrUnknown(serving_));
  return fields;
}

Notification ReleaseRegressionRule::Firing(size_t i, TimePoint now) const {
  const Instance& instance = instances_[i];
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kFiring);
  n.title = Upper(config_.name);
  n.summary = Comparison(i);
  n.fields = Fields(i);
  n.action = "Stop the rollout of " + instance.release + " on pool " + instance.pool +
             " and roll back to " + OrUnknown(instance.baseline_release) +
             "; then read the new release's errors";
  n.at = now;
  return n;
}

Notification ReleaseRegressionRule::Resolved(size_t i, TimePoint now) const {
  const Instance& instance = instances_[i];
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kResolved);
  n.title = Upper(config_.name) + " RESOLVED";
  if (instance.stopped) {
    n.summary = instance.release + " stopped serving on pool " + instance.pool +
                " (no request in " + WindowName(config_.window) + ")";
  } else {
    n.summary =
        instance.release + " on pool " + instance.pool + " is no longer worse: " + Comparison(i);
  }
  n.fields = Fields(i);
  if (instance.cleared_at == now && !instance.stopped) {
    n.fields.emplace_back("Clear for", FormatDuration(now - instance.clear_since) + ", " +
                                           FormatCount(instance.clear_requests) + " requests");
  }
  n.at = now;
  return n;
}

std::string ReleaseRegressionRule::Detail(size_t i) const {
  const Instance& instance = instances_[i];
  std::string out = Comparison(i) + " (bound " + FormatShare(instance.bound_percent) + ", min " +
                    std::to_string(config_.min_requests) + " requests a side, window " +
                    WindowName(config_.window) + ")";
  if (instance.clearing) {
    out += "; no longer worse for " + FormatDuration(last_evaluated_ - instance.clear_since) +
           " and " + std::to_string(instance.clear_requests) + " requests (resolves after " +
           FormatDuration(config_.ResolveFor()) + " and " +
           std::to_string(config_.ResolveRequests()) + ")";
  }
  if (unalerted_ > 0) {
    out += "; " + std::to_string(unalerted_) + " more regressions beyond " +
           std::to_string(kMaxAlerts) + " alerts";
  }
  return out;
}

void ReleaseRegressionRule::Reconfigure(const RuleConfig& config,
                                        std::string_view /*active_pool*/) {
  const std::chrono::seconds old_window = config_.window;
  config_ = config;
  // The ring's bucket width follows the window: a new window starts counting afresh, and is
  // watched whole before a release is taken as gone.
  if (config_.window != old_window) {
    windows_ = ReleaseWindows(config_.window, ReleaseWindows::Latency::kOff);
    watch_start_ = last_evaluated_;
  }
}

void ReleaseRegressionRule::RestoreActive(size_t i, TimePoint since) {
  if (MarkActive(i, since)) {
    instances_[i].clearing = false;
    instances_[i].stopped = false;
  }
}

int ReleaseRegressionRule::FindOrAddAlert(const Labels& labels) {
  auto pool = labels.find("pool");
  auto release = labels.find("release");
  if (labels.size() != 2 || pool == labels.end() || release == labels.end() ||
      !IsRealPool(pool->second) || release->second.empty()) {
    return -1;
  }
  const int found = FindAlert(pool->second, release->second);
  return found >= 0 ? found : AddAlert(pool->second, release->second);
}

}  // namespace poolwatch
