#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alerting_config.h"
#include "alerting/decision.h"
#include "alerting/notification.h"
#include "alerting/window.h"
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
  bool active = false;  // the condition holds now (past `for`, above the threshold)
  // Why not active: kBelowThreshold, kTooFewRequests or kPending. kFiring when active.
  Decision reason = Decision::kTooFewRequests;
  // Episodes (inactive → active) that began since the previous Evaluate(). With !active and a
  // non-zero count, an episode began and ended between two evaluations: the rule latched it so
  // the policy can still announce it (fire, then resolve) instead of losing it.
  int episodes_started = 0;
  // The alert moved within its episode (traffic went from one backup pool to another): worth a
  // new firing message for the same alert.
  bool changed = false;
  TimePoint since{};  // when the current active (or inactive) stretch began
  double value = 0;   // error rate in percent; 1 or 0 for failover
  double threshold = 0;
  size_t window_fill = 0;
  size_t window_size = 0;
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

  virtual void Observe(const LogRecord& record) = 0;
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
  // The pool currently serving clients as this rule has seen it; "" before the first record.
  virtual std::string_view serving_pool() const = 0;
  // A failover away from `pool` ended at `ended_at` (log time). Errors the rule counted for
  // that pool before then belong to the failover, which already paged: an upstream error_rate
  // rule drops them so they do not page a second time for the same incident. No-op otherwise.
  virtual void ForgetErrorsOfFailover(std::string_view /*pool*/, TimePoint /*ended_at*/) {}

 protected:
  RuleConfig config_;
  std::vector<AlertCondition> conditions_;
};

// failover: traffic is served by a pool other than the expected primary (ACTIVE_POOL). The
// primary, not the previous line, is the baseline: the first line on the backup is a failover,
// and coming back to the primary is a resolution, not another failover.
//
// One alert per primary, labelled {pool: <primary>}: the pool that failed. The same label name
// as the upstream error_rate alerts, so "failover away from P inhibits error_rate{pool=P}" is a
// plain label match, and a move between backups (green → red while blue is out) stays one
// incident: it re-announces the same alert (subject to cooldown) instead of opening another.
//
// `for_duration` is measured in log time between the first record off the primary and a later
// record still off it: the condition needs evidence that traffic stayed away. With for = 0 the
// first record off the primary fires (the seed's behaviour); the episode is latched in
// Observe() so one that starts and ends between two evaluations is still announced.
class FailoverRule : public Rule {
 public:
  FailoverRule(RuleConfig config, std::string_view active_pool);

  void Observe(const LogRecord& record) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  std::string_view serving_pool() const override { return serving_; }

 private:
  struct Episode {
    std::string from;     // the pool traffic left (the primary, or a backup for moves)
    std::string to;       // the pool traffic went to
    std::string release;  // release of the first record on `to`
    TimePoint off_since{};
    TimePoint fired_at{};
    // Filled when the episode ends.
    std::string back_release;
    TimePoint ended_at{};
    bool ended_by_primary_change = false;
  };
  // The state of one primary's alert.
  struct Track {
    std::string primary;
    bool off_primary = false;  // serving pool != primary
    bool qualified = false;    // off the primary for at least `for`: the condition is active
    Episode current;
    Episode last_ended;  // last episode that was active and ended
    bool has_ended = false;
    TimePoint since{};         // start of the current on-primary / off-primary stretch
    int episodes_started = 0;  // since the last Evaluate
    bool changed = false;      // since the last Evaluate
  };

  size_t TrackFor(std::string_view primary);
  void StartEpisode(Track& track, std::string_view from, std::string_view to,
                    std::string_view release, TimePoint at);
  void MaybeQualify(Track& track, TimePoint at);
  void EndEpisode(Track& track, std::string_view back_release, TimePoint at, bool primary_change);

  std::vector<Track> tracks_;  // parallel to conditions_
  size_t current_ = 0;         // the track of the configured primary
  std::string serving_;        // copied only when it changes
  TimePoint serving_since_{};
  TimePoint last_record_time_{};
  bool seen_pool_ = false;
};

// error_rate: share of errors over the last `window_size` requests (scope client: the status
// the client got, 5xx) or upstream attempts (scope upstream: one window and one alert per pool,
// labelled {pool}; an attempt with a 5xx or no response at all counts as an error, so a failing
// primary that nginx hides by retrying on the backup still shows). Fires when the rate exceeds
// threshold_percent with at least min_requests entries; resolves when it falls to
// ResolveThreshold() (hysteresis) or when fewer than min_requests entries remain after max_age
// expiry (a quiet period resolves an old burst).
class ErrorRateRule : public Rule {
 public:
  // Upstream scope keeps at most this many pools (label cardinality stays bounded even if the
  // pool resolver invents names).
  static constexpr size_t kMaxPools = 32;

  explicit ErrorRateRule(RuleConfig config);

  void Observe(const LogRecord& record) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  std::string_view serving_pool() const override { return serving_; }
  void ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) override;

  const SlidingWindow& window(size_t i) const { return instances_[i].window; }

 private:
  struct Instance {
    std::string pool;  // "" for client scope
    SlidingWindow window;
  };
  size_t MinRequests() const;
  int FindOrAddPool(std::string_view pool);
  std::vector<std::pair<std::string, std::string>> Fields(size_t i) const;

  std::vector<Instance> instances_;  // parallel to conditions_
  size_t last_pool_index_ = 0;       // consecutive attempts usually hit the same pool
  std::string serving_;
};

// The rule for `config.kind`.
std::unique_ptr<Rule> MakeRule(const RuleConfig& config, std::string_view active_pool);

}  // namespace poolwatch
