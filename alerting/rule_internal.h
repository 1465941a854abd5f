#pragma once
// For the rule kinds' .cc files only: what two or more of them share. Not part of the alerting
// API; code outside alerting/ includes rules.h.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/rule.h"

namespace poolwatch::rule_internal {

// Inline: the upstream error_rate rule asks this for every attempt of every line.
inline bool IsRealPool(std::string_view pool) {
  return !pool.empty() && pool != kPoolNone && pool != kPoolUnknown && pool != "-";
}

// The rule name as a message title: "failover" → "FAILOVER".
std::string Upper(std::string_view name);

std::string OrUnknown(const std::string& s);

// The rules that keep one window per pool (error_rate, latency) share these.

// min_requests, at least one entry (an empty window has no value) and never more than the
// window holds: min_requests > window_size would mean a rule that can never fire, a silent miss.
inline size_t MinRequests(const RuleConfig& config) {
  return std::clamp<size_t>(config.min_requests, 1, std::max<size_t>(config.window_size, 1));
}

// The index of the instance (a struct with a `pool`) for `pool`, trying `last` first: consecutive
// attempts usually hit the same pool. -1 when there is none yet.
template <typename Instance>
int FindPool(const std::vector<Instance>& instances, std::string_view pool, size_t& last) {
  if (last < instances.size() && instances[last].pool == pool) return static_cast<int>(last);
  for (size_t i = 0; i < instances.size(); ++i) {
    if (instances[i].pool == pool) {
      last = i;
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The pool of a label set {pool=P} naming a real pool (restoring an alert after a restart); ""
// for any other label set.
std::string_view PoolOfLabels(const Labels& labels);

// The entries of `pool`'s window (an instance's `window` with DropBefore) stamped before `at`.
template <typename Instance>
void DropPoolEntriesBefore(std::vector<Instance>& instances, std::string_view pool, TimePoint at) {
  for (Instance& instance : instances) {
    if (instance.pool == pool) instance.window.DropBefore(at);
  }
}

// A window as the configuration writes it: "3d", "6h", "5m", "90s".
std::string WindowName(std::chrono::seconds window);

// A notification of `config`'s rule for the alert with `labels`, with what every rule kind fills
// in the same way; the kind adds title, summary, fields and time.
Notification BaseNotification(const RuleConfig& config, const Labels& labels, AlertStatus status);

}  // namespace poolwatch::rule_internal
