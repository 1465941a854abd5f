#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alerting/alerting_config.h"
#include "alerting/decision.h"
#include "alerting/notification.h"
#include "alerting/policy.h"
#include "alerting/release_windows.h"
#include "alerting/rules.h"
#include "core/log_record.h"

namespace poolwatch {

// One alert of one rule, for /api/v1/status, the self-metrics and `poolwatch status`.
struct RuleStatus {
  std::string name;
  RuleKind kind = RuleKind::kFailover;
  bool firing = false;  // the condition holds now (whether or not it was announced)
  double value = 0;     // error rate in percent; 1 or 0 for failover; latency in seconds
  double threshold = 0;
  size_t window_fill = 0;
  size_t window_size = 0;
  std::string serving_pool;
  std::string last_decision;  // DecisionName() of the last evaluation
  std::map<std::string, std::string> labels;
  TimePoint since{};       // start of the current firing / not-firing stretch
  bool announced = false;  // a firing message went out and its resolution has not
  int suppressed = 0;      // firings swallowed by cooldown, to be reported on the next message
};

struct EngineStatus {
  std::string active_pool;
  std::string serving_pool;  // "" before the first record with a pool
  TimePoint serving_since{};
  bool maintenance = false;  // in effect at the `now` passed to Status()
  std::optional<TimePoint> maintenance_until;
  // One entry per alert; a rule with no alert yet (upstream scope before any attempt) has one
  // entry with empty labels.
  std::vector<RuleStatus> rules;
};

struct DecisionRecord {
  std::string rule;
  Decision decision = Decision::kBelowThreshold;
  std::string detail;
  std::map<std::string, std::string> labels;
};

struct Evaluation {
  std::vector<Notification> notifications;  // in the order they should be delivered
  // The decisions that changed at this evaluation, and every one that sent or swallowed a
  // message. An unchanged "below_threshold" is not repeated every tick (Status() has the
  // current decision of every alert), so the decision counters count events, not ticks.
  std::vector<DecisionRecord> decisions;
};

// Everything the alerting has to remember across a restart: what was announced, cooldowns,
// suppressed counts, maintenance. Windows are not kept: they refill from the log.
struct AlertStateRecord {
  std::string rule;
  RuleKind kind = RuleKind::kFailover;
  std::map<std::string, std::string> labels;
  bool announced = false;
  std::optional<TimePoint> last_fired;
  int suppressed = 0;
};
struct EngineState {
  bool maintenance = false;
  std::optional<TimePoint> maintenance_until;
  std::vector<AlertStateRecord> alerts;
  // The windows that do not refill from the log in reasonable time (slo: days of counts), one
  // record per rule that keeps any (Rule::ExportCounters).
  std::vector<RuleCounters> counters;
};

// The one facade the daemon and replay use: records in, notifications and decisions out.
// Pure: time is passed in (wall clock live, log time in replay), no I/O, no threads.
// Not thread-safe: the caller serialises all calls (the daemon's run loop owns the engine).
class AlertEngine {
 public:
  explicit AlertEngine(AlertingConfig config);
  ~AlertEngine();
  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // Every parsed line. No allocation in the steady state; the record's views are not kept.
  void Observe(const LogRecord& record);
  // Each tick. Allocates nothing when no decision changed.
  Evaluation Evaluate(TimePoint now);
  // Runtime switch (API, SIGHUP). With `until`, maintenance ends by itself at the first
  // evaluation at or after it. Turning it off (or its expiry) lets the next evaluation announce
  // muted conditions that are still active.
  void SetMaintenance(bool on, std::optional<TimePoint> until = std::nullopt);
  bool MaintenanceActive(TimePoint now) const;
  // SIGHUP. Rules whose name and kind (and, for error_rate, scope) survive keep their windows,
  // episodes, cooldowns and announced alerts; others start fresh. Announced alerts of rules
  // that are gone get a resolved message at the next evaluation (no alert stays red forever).
  // Maintenance follows the new config only if the config's maintenance settings changed, so a
  // reload does not undo a maintenance window set through the API.
  void Reconfigure(AlertingConfig config);
  EngineStatus Status(TimePoint now) const;
  // The configuration as given (maintenance as configured; Status() has the runtime state).
  const AlertingConfig& config() const { return config_; }
  // Requests, 5xx and latency per pool and release over the last kReleaseWindowSpan, for the
  // rollout verdict (rollout_verdict.h); kept whatever the rules, and across reloads.
  static constexpr std::chrono::minutes kReleaseWindowSpan{15};
  const ReleaseWindows& release_windows() const { return release_windows_; }

  EngineState ExportState() const;
  // Restores announced alerts, cooldowns and suppressed counts for rules that exist by name and
  // kind; unknown rules are ignored. A restored firing alert is not resolved just because the
  // fresh windows are empty: the rule takes it as active (Rule::RestoreActive), so it resolves
  // only once clear for resolve_for and resolve_requests, like any other. Counters go to the
  // rule of the same name and kind; returns why any were ignored (one line each, for the log).
  std::vector<std::string> ImportState(const EngineState& state);

 private:
  struct Slot {
    std::unique_ptr<Rule> rule;
    NotificationPolicy policy;
    std::vector<AlertPolicyState> states;  // parallel to rule->conditions()
  };
  static Slot MakeSlot(const RuleConfig& config, std::string_view active_pool);
  bool FailoverFiringAwayFrom(const std::string& pool) const;
  void ForgetErrorsOfEndedFailovers();

  AlertingConfig config_;
  std::vector<Slot> slots_;
  bool maintenance_ = false;
  std::optional<TimePoint> maintenance_until_;
  std::string serving_;
  TimePoint serving_since_{};
  TimePoint last_now_{};
  std::vector<Notification> pending_;  // resolutions of rules removed by Reconfigure
  ReleaseWindows release_windows_{kReleaseWindowSpan, ReleaseWindows::Latency::kOn};
};

}  // namespace poolwatch
