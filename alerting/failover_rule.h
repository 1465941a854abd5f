#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "alerting/rule.h"

namespace poolwatch {

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
//
// Coming back ends the episode only once traffic has stayed on the primary for ResolveFor()
// and ResolveRequests() requests: a primary that nginx tries again after fail_timeout and that
// fails again is one incident, not a "resolved" followed by another page.
class FailoverRule : public Rule {
 public:
  FailoverRule(RuleConfig config, std::string_view active_pool);

  using Rule::Observe;
  void Observe(const LogRecord& record, std::string_view serving_pool) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  void RestoreActive(size_t i, TimePoint since) override;
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
    TimePoint ended_at{};     // traffic came back to the primary
    TimePoint resolved_at{};  // ... and stayed long enough
    size_t back_requests = 0;
    bool ended_by_primary_change = false;
  };
  // The state of one primary's alert.
  struct Track {
    std::string primary;
    bool off_primary = false;  // an episode is open: traffic left the primary
    bool qualified = false;    // off the primary for at least `for`: the condition is active
    // Back on the primary since back_since for back_requests requests, not yet long enough.
    bool returning = false;
    TimePoint back_since{};
    size_t back_requests = 0;
    std::string back_release;
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
  // Ends a returning episode whose stay on the primary is long enough at `now`.
  void MaybeEndReturn(Track& track, TimePoint now);

  std::vector<Track> tracks_;  // parallel to conditions_
  size_t current_ = 0;         // the track of the configured primary
  std::string serving_;        // copied only when it changes
  TimePoint serving_since_{};
  TimePoint last_record_time_{};
  bool seen_pool_ = false;
};

}  // namespace poolwatch
