#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

enum class RuleKind {
  kFailover,
  kErrorRate,
  kTraffic,
  kLatency,
  kReleaseRegression,
  kSlo,
};
inline constexpr RuleKind kAllRuleKinds[] = {
    RuleKind::kFailover, RuleKind::kErrorRate,         RuleKind::kTraffic,
    RuleKind::kLatency,  RuleKind::kReleaseRegression, RuleKind::kSlo,
};
// The kind as the YAML `kind:` key, the state file and the status JSON spell it.
std::string_view RuleKindName(RuleKind kind);

// What a release_regression rule compares a release with: the other releases of its pool, or
// (a canary split across pools) the other pools' requests of other releases.
enum class RegressionBaseline { kOtherReleases, kOtherPools };

// Which requests an error_rate or latency rule judges: what the client got, or every
// upstream attempt of one pool (so a failing primary hidden by retries shows).
enum class ErrorScope { kClient, kUpstream };

// slo: what makes a request bad. Availability: a 5xx (upstream scope: an attempt with a 5xx or
// no response); latency: slower than `latency_threshold`.
enum class SloIndicator { kAvailability, kLatency };

// slo: one multi-window burn-rate condition (the SRE workbook's): the error budget burns faster
// than `burn_rate` times the objective's allowance over both `long_window` and `short_window`.
// The long window says it is significant, the short one that it is still happening.
struct BurnRateWindows {
  std::chrono::seconds long_window{3600};
  std::chrono::seconds short_window{300};
  double burn_rate = 14.4;
  bool page = true;  // false: a ticket (lower severity)
  bool operator==(const BurnRateWindows&) const = default;
};
// The workbook's defaults: page at 14.4x over 1h and 5m or 6x over 6h and 30m (2 % and 5 % of a
// 30-day budget), ticket at 1x over 3d and 6h.
std::vector<BurnRateWindows> DefaultBurnRates();

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
  size_t min_requests = 5;                // no judgement on fewer entries
  // A window holding fewer than window_size entries (just after start, or kept short by max_age
  // at low traffic) fires only on evidence: at least min_errors errors, and errors that a service
  // failing at no more than the threshold's rate would produce with a chance below
  // 1 - confidence_percent / 100 (a one-sided binomial test). A full window keeps the seed's rule.
  size_t min_errors = 3;
  double confidence_percent = 99.9;

  // traffic: fires when fewer than min_requests requests (the config reader's default for this
  // kind is 1) were logged in the last `window`; with `pool`, only requests that pool served.
  std::chrono::seconds window{300};
  std::string pool;

  // latency (scope, window_size, max_age, min_requests and confidence as above): fires when the
  // nearest-rank `quantile` of the window's durations is above `latency_threshold` (required),
  // with at least `min_slow` entries above it; a part-filled window also needs their share to be
  // significantly above 1 - quantile at `confidence`. Resolves at or below
  // latency_resolve_threshold (unset: 90 % of the threshold).
  double quantile = 0.99;
  std::chrono::milliseconds latency_threshold{0};
  std::optional<std::chrono::milliseconds> latency_resolve_threshold;
  size_t min_slow = 3;

  // release_regression (window, min_requests — the reader's default for this kind is 100, on
  // each side — and confidence as above): a release's 5xx share above max(baseline +
  // min_increase_points, baseline × min_ratio), significantly (see release_comparison.h).
  double min_increase_points = 1;
  double min_ratio = 2;
  RegressionBaseline compare = RegressionBaseline::kOtherReleases;
  // slo (scope, pool, min_requests, latency_threshold and `for` as above): `objective_percent`
  // of the requests are good; alerts per `burn_rates` (empty: DefaultBurnRates()), judged only
  // on at least min_requests requests in the long window (the config reader's default for this
  // kind is 100). The page alert has `severity`, the ticket `ticket_severity`.
  double objective_percent = 99.9;
  SloIndicator sli = SloIndicator::kAvailability;
  std::vector<BurnRateWindows> burn_rates;
  std::string ticket_severity = "warning";
  // The error budget's period ("budget left", "exhausted in"); unset: the longest long window
  // (3d by default), so no counts are kept beyond the windows' own.
  std::optional<std::chrono::seconds> slo_period;

  // Resolution (both kinds): the condition must stay clear for `resolve_for` and over
  // `resolve_requests` requests before a firing alert resolves; any relapse restarts the count.
  // Unset: the kind's default (ResolveFor(), ResolveRequests()).
  std::optional<std::chrono::milliseconds> resolve_for;
  std::optional<size_t> resolve_requests;

  // notification policy
  std::chrono::seconds cooldown{300};
  std::chrono::seconds repeat_interval{0};  // 0: never re-send a still-firing alert
  bool send_resolved = true;
  // Muted while maintenance is on. Unset: failover and traffic rules yes, others no.
  std::optional<bool> muted_in_maintenance;
  // The kinds of notifier that get this rule's alerts ("slack", "webhook", "console",
  // "alertmanager"); empty: every configured one. Rules without their own list get
  // notify.default_notifiers.
  std::vector<std::string> notify;

  // Failover and traffic rules are muted in maintenance: a planned switch moves traffic off
  // the primary, and draining or restarting nginx stops it for a while.
  bool MutedInMaintenance() const {
    return muted_in_maintenance.value_or(kind == RuleKind::kFailover || kind == RuleKind::kTraffic);
  }
  // error_rate and latency: a minute; failover: half a minute, longer than nginx's usual
  // fail_timeout, so a primary that comes back for a few seconds between failures stays one
  // incident; traffic: a minute of requests arriving again, see TrafficRule.
  std::chrono::milliseconds ResolveFor() const {
    return resolve_for.value_or(kind == RuleKind::kFailover ? std::chrono::seconds(30)
                                                            : std::chrono::seconds(60));
  }
  // error_rate and latency: two whole windows of new requests (README has the false-resolution
  // odds this gives; for latency, the slow entries must have left the window before the count
  // starts); failover: ten requests served by the primary; traffic: twice min_requests, so one
  // stray request after an outage does not resolve it.
  size_t ResolveRequests() const {
    if (!resolve_requests && kind == RuleKind::kTraffic) return 2 * min_requests;
    // release_regression: twice min_requests of the release's own requests.
    if (!resolve_requests && kind == RuleKind::kReleaseRegression) return 2 * min_requests;
    // slo: the volume its guard asks for, of clear requests.
    if (!resolve_requests && kind == RuleKind::kSlo) return min_requests;
    return resolve_requests.value_or(kind == RuleKind::kFailover ? 10 : 2 * window_size);
  }
  double ResolveThreshold() const {
    return resolve_threshold_percent >= 0 ? resolve_threshold_percent : threshold_percent / 2;
  }

  // The source labels (LineSource::values) the rule evaluates per distinct combination of, in
  // the order written; empty: across all lines. The config reader sets `value_index`, where the
  // label's value is in LineSource::values (SourceLabelNames(config)).
  struct GroupLabel {
    std::string name;
    size_t value_index = 0;
    bool operator==(const GroupLabel&) const = default;
  };
  std::vector<GroupLabel> group_by;
};

struct AlertingConfig {
  std::string active_pool = "blue";  // the expected primary (ACTIVE_POOL)
  bool maintenance = false;          // MAINTENANCE_MODE
  std::optional<TimePoint> maintenance_until;
  // While a failover away from pool P fires, the upstream-scope error_rate (and latency) alerts
  // for P are inhibited: one incident, one page.
  bool inhibit_error_rate_during_failover = true;
  std::vector<RuleConfig> rules;

  // The seed's two rules, built from its environment variables' defaults.
  static AlertingConfig SeedDefaults();
};

}  // namespace poolwatch
