#pragma once
// For the rule kinds' .cc files only: what two or more of them share. Not part of the alerting
// API; code outside alerting/ includes rules.h.

#include <string>
#include <string_view>

#include "alerting/rule.h"

namespace poolwatch::rule_internal {

// Inline: the upstream error_rate rule asks this for every attempt of every line.
inline bool IsRealPool(std::string_view pool) {
  return !pool.empty() && pool != kPoolNone && pool != kPoolUnknown && pool != "-";
}

// The rule name as a message title: "failover" → "FAILOVER".
std::string Upper(std::string_view name);

std::string OrUnknown(const std::string& s);

// A notification of `config`'s rule for the alert with `labels`, with what every rule kind fills
// in the same way; the kind adds title, summary, fields and time.
Notification BaseNotification(const RuleConfig& config, const Labels& labels, AlertStatus status);

}  // namespace poolwatch::rule_internal
