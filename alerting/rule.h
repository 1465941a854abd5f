#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alerting_config.h"
#include "alerting/decision.h"
#include "alerting/notification.h"
#include "alerting/span_counters.h"
#include "core/log_record.h"

namespace poolwatch {

using Labels = std::map<std::string, std::string>;

// The pool a record tells us is serving clients: the pool that answered (a request nginx
// retried on the backup counts as served by the backup). Falls back to the last upstream
// attempt's pool when the response carried no pool header. Empty when the record says nothing
// about pools: nginx answered itself ("none"), "-", or an address not yet mapped ("unknown").
std::string_view ServingPoolOf(const LogRecord& record);

// One alert of a rule (the rule name plus one label set) as the rule sees it at the last
// Evaluate(). Labels are set once when the alert is created, so evaluating allocates nothing.
struct AlertCondition {
  Labels labels;
  // The alert is on: it began (past `for`, above the threshold) and has not yet been clear for
  // resolve_for and resolve_requests.
  bool active = false;
  // The firing test holds at this evaluation. An active alert that is not breaching is
  // resolving: a firing held back by the cooldown is not sent for it.
  bool breaching = false;
  // kFiring when breaching, kResolving when active but clear; otherwise why not active:
  // kBelowThreshold, kTooFewRequests, kNotSignificant or kPending.
  Decision reason = Decision::kTooFewRequests;
  // Episodes (inactive → active) that began since the previous Evaluate(). With !active and a
  // non-zero count, an episode began and ended between two evaluations: the rule latched it so
  // the policy can still announce it (fire, then resolve) instead of losing it.
  int episodes_started = 0;
  // The alert moved within its episode (traffic went from one backup pool to another): worth a
  // new firing message for the same alert.
  bool changed = false;
  TimePoint since{};  // when the current active (or inactive) stretch began
  double value = 0;   // error rate in percent; 1 or 0 for failover; latency: seconds
  double threshold = 0;
  size_t window_fill = 0;
  size_t window_size = 0;
};

// `to` takes every field of `from` but its labels (GroupedRule: an inner rule's condition under
// labels that hold the group's too; copying them would allocate at every evaluation). Keep in
// step with AlertCondition.
inline void CopyAllButLabels(const AlertCondition& from, AlertCondition& to) {
  to.active = from.active;
  to.breaching = from.breaching;
  to.reason = from.reason;
  to.episodes_started = from.episodes_started;
  to.changed = from.changed;
  to.since = from.since;
  to.value = from.value;
  to.threshold = from.threshold;
  to.window_fill = from.window_fill;
  to.window_size = from.window_size;
}

// The window counts a rule keeps across a restart (the state file), for the kinds whose windows
// are too long to refill from the log (slo: days). `counted` says what the counts count (the
// indicator, scope, pool and threshold), so counts of another indicator are never taken.
struct RuleCounters {
  std::string rule;
  RuleKind kind = RuleKind::kFailover;
  std::string counted;
  // Since when the rule had been watching: its windows are only full after that.
  std::optional<TimePoint> watched_since;
  std::vector<SpanCounters::Snapshot> rings;
  // A grouped rule's (group_by) counts are one record per group: the group's labels, e.g.
  // {site=shop}; empty for a rule without group_by.
  Labels group;
};

// A rule turns log records into alert conditions. Pure: no I/O, no clock (time is passed in),
// not thread-safe (the engine serialises calls). Observe() runs for every log line and does not
// allocate in the steady state; Evaluate() runs on every tick and allocates nothing either.
// Message text is built only when the policy decides to send something.
class Rule {
 public:
  explicit Rule(RuleConfig config) : config_(std::move(config)) {}
  virtual ~Rule() = default;
  Rule(const Rule&) = delete;
  Rule& operator=(const Rule&) = delete;

  const RuleConfig& config() const { return config_; }

  // `serving_pool` is ServingPoolOf(record): the engine works it out once a line for all its
  // rules, instead of each rule again.
  virtual void Observe(const LogRecord& record, std::string_view serving_pool) = 0;
  // For callers holding a single rule (tests, benchmarks).
  void Observe(const LogRecord& record) { Observe(record, ServingPoolOf(record)); }
  // Brings conditions() up to date for `now` and hands over what happened since the previous
  // call (episodes_started, changed).
  virtual void Evaluate(TimePoint now) = 0;
  // One entry per alert. Alerts are only ever appended, so an index stays valid for the life of
  // the rule (the engine keeps policy state by index).
  const std::vector<AlertCondition>& conditions() const { return conditions_; }

  // The firing message of alert `i`: its current episode, or, if it is not active, the last
  // episode that ended (a latched one).
  virtual Notification Firing(size_t i, TimePoint now) const = 0;
  // The resolved message of alert `i`'s last episode.
  virtual Notification Resolved(size_t i, TimePoint now) const = 0;
  // Human-readable state of alert `i` for decision logs and status, e.g. "4.50% of 200".
  virtual std::string Detail(size_t i) const = 0;

  // SIGHUP: take new settings, keep windows and episode state. `config.name` and kind are the
  // same as before (the engine replaces the rule otherwise).
  virtual void Reconfigure(const RuleConfig& config, std::string_view active_pool) = 0;
  // The index of the alert with these labels, created if this rule can have it; -1 if it
  // cannot. Used when restoring state after a restart.
  virtual int FindOrAddAlert(const Labels& labels) = 0;
  // After a restart: alert `i` was announced and not resolved, and is taken as still active
  // since `since`, so only the rule's own evidence that it is over (resolve_for,
  // resolve_requests) resolves it. Fresh windows after a restart say nothing yet; judging them
  // as "clear" would be a false all-clear. No-op where the rule cannot follow the alert.
  virtual void RestoreActive(size_t /*i*/, TimePoint /*since*/) {}
  // The counts to save in the state file; none for kinds whose windows refill from the log.
  virtual std::optional<RuleCounters> ExportCounters() const { return std::nullopt; }
  // Every record of counts to save: ExportCounters()'s, or one per group (GroupedRule).
  virtual std::vector<RuleCounters> ExportAllCounters() const {
    std::vector<RuleCounters> out;
    if (std::optional<RuleCounters> counters = ExportCounters())
      out.push_back(std::move(*counters));
    return out;
  }
  // At start-up, with what ExportCounters() returned before the restart (rule and kind
  // already matched): "" when taken, otherwise why they were ignored, for the log.
  virtual std::string ImportCounters(const RuleCounters& /*counters*/) {
    return "this kind keeps no counters";
  }
  // The pool currently serving clients as this rule has seen it; "" before the first record.
  virtual std::string_view serving_pool() const = 0;
  // A failover away from `pool` ended at `ended_at` (log time). Errors the rule counted for
  // that pool before then belong to the failover, which already paged: an upstream error_rate
  // rule drops them so they do not page a second time for the same incident. No-op otherwise.
  virtual void ForgetErrorsOfFailover(std::string_view /*pool*/, TimePoint /*ended_at*/) {}

 protected:
  // RestoreActive's part common to the kinds: alert `i` active since `since`. False when it
  // already was (nothing to restore).
  bool MarkActive(size_t i, TimePoint since) {
    AlertCondition& c = conditions_[i];
    if (c.active) return false;
    c.active = true;
    c.reason = Decision::kFiring;
    c.since = since;
    return true;
  }

  RuleConfig config_;
  std::vector<AlertCondition> conditions_;
};

}  // namespace poolwatch
