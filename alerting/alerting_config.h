#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

enum class RuleKind { kFailover, kErrorRate };

// Which statuses an error_rate rule judges: what the client got, or every
// upstream attempt of one pool (so a failing primary hidden by retries shows).
enum class ErrorScope { kClient, kUpstream };

struct RuleConfig {
  std::string name;  // unique; "failover" and "error_rate" for the seed's two rules
  RuleKind kind = RuleKind::kFailover;
  std::string severity = "critical";

  // failover: how long (log time) traffic must stay off the primary before firing.
  std::chrono::milliseconds for_duration{0};

  // error_rate
  ErrorScope scope = ErrorScope::kClient;
  double threshold_percent = 2.0;         // fires when rate > threshold
  double resolve_threshold_percent = -1;  // resolves when rate <= this; <0 means threshold / 2
  size_t window_size = 200;               // last N requests (or attempts, for upstream scope)
  std::chrono::seconds max_age{300};      // entries older than this leave the window
  size_t min_requests = 20;               // no judgement on fewer entries

  // notification policy
  std::chrono::seconds cooldown{300};
  std::chrono::seconds repeat_interval{0};  // 0: never re-send a still-firing alert
  bool send_resolved = true;
  // Muted while maintenance is on. Unset: failover rules yes, others no (the seed's behaviour).
  std::optional<bool> muted_in_maintenance;
  // The kinds of notifier that get this rule's alerts ("slack", "webhook", "console",
  // "alertmanager"); empty: every configured one. Rules without their own list get
  // notify.default_notifiers.
  std::vector<std::string> notify;

  bool MutedInMaintenance() const {
    return muted_in_maintenance.value_or(kind == RuleKind::kFailover);
  }
  double ResolveThreshold() const {
    return resolve_threshold_percent >= 0 ? resolve_threshold_percent : threshold_percent / 2;
  }
};

struct AlertingConfig {
  std::string active_pool = "blue";  // the expected primary (ACTIVE_POOL)
  bool maintenance = false;          // MAINTENANCE_MODE
  std::optional<TimePoint> maintenance_until;
  // While a failover away from pool P fires, the upstream-scope error_rate alert for P is
  // inhibited: one incident, one page.
  bool inhibit_error_rate_during_failover = true;
  std::vector<RuleConfig> rules;

  // The seed's two rules, built from its environment variables' defaults.
  static AlertingConfig SeedDefaults();
};

}  // namespace poolwatch
