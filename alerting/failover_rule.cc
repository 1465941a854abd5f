#include "alerting/failover_rule.h"

#include <utility>

#include "alerting/rule_internal.h"

namespace poolwatch {
namespace {

using rule_internal::BaseNotification;
using rule_internal::OrUnknown;
using rule_internal::SameText;
using rule_internal::Upper;

}  // namespace

FailoverRule::FailoverRule(RuleConfig config, std::string_view active_pool)
    : Rule(std::move(config)) {
  current_ = TrackFor(active_pool);
}

size_t FailoverRule::TrackFor(std::string_view primary) {
  for (size_t i = 0; i < tracks_.size(); ++i) {
    if (tracks_[i].primary == primary) return i;
  }
  Track track;
  track.primary = std::string(primary);
  tracks_.push_back(std::move(track));
  AlertCondition condition;
  condition.labels = {{"pool", std::string(primary)}};
  condition.threshold = 1;
  conditions_.push_back(std::move(condition));
  return tracks_.size() - 1;
}

void FailoverRule::StartEpisode(Track& track, std::string_view from, std::string_view to,
                                std::string_view release, TimePoint at) {
  track.off_primary = true;
  track.qualified = false;
  track.since = at;
  track.current.from.assign(from);
  track.current.to.assign(to);
  track.current.release.assign(release);
  track.current.off_since = at;
  MaybeQualify(track, at);
}

void FailoverRule::MaybeQualify(Track& track, TimePoint at) {
  if (track.qualified || at - track.current.off_since < config_.for_duration) return;
  track.qualified = true;
  track.current.fired_at = at;
  track.since = at;
  ++track.episodes_started;
}

void FailoverRule::EndEpisode(Track& track, std::string_view back_release, TimePoint at,
                              bool primary_change) {
  if (!track.off_primary) return;
  if (track.qualified) {
    // Kept for the resolved message, and for the firing one if the episode is latched.
    std::swap(track.last_ended, track.current);
    Episode& ended = track.last_ended;
    ended.back_release.assign(back_release);
    ended.ended_at = track.returning && !primary_change ? track.back_since : at;
    ended.resolved_at = at;
    ended.back_requests = track.returning ? track.back_requests : 0;
    ended.ended_by_primary_change = primary_change;
    track.has_ended = true;
  }
  track.off_primary = false;
  track.qualified = false;
  track.returning = false;
  track.since = at;
}

void FailoverRule::MaybeEndReturn(Track& track, TimePoint now) {
  if (!track.returning || track.back_requests < config_.ResolveRequests() ||
      now - track.back_since < config_.ResolveFor()) {
    return;
  }
  // back_release is a member of the track; EndEpisode copies it before resetting anything.
  EndEpisode(track, track.back_release, now, /*primary_change=*/false);
}

void FailoverRule::Observe(const LogRecord& record, std::string_view pool) {
  if (pool.empty()) return;
  last_record_time_ = record.time;
  Track& track = tracks_[current_];
  if (seen_pool_ && SameText(pool, serving_)) {
    // The common case: the same pool as the line before.
    if (track.returning) {
      ++track.back_requests;
      MaybeEndReturn(track, record.time);
    } else if (track.off_primary && !track.qualified) {
      MaybeQualify(track, record.time);
    }
    return;
  }
  seen_pool_ = true;
  serving_since_ = record.time;
  if (pool == track.primary) {
    if (track.qualified) {
      track.returning = true;
      track.back_since = record.time;
      track.back_requests = 1;
      track.back_release.assign(record.release);
      MaybeEndReturn(track, record.time);
    } else {
      EndEpisode(track, record.release, record.time, /*primary_change=*/false);
    }
  } else if (!track.off_primary) {
    // Off the primary. The primary is the baseline (not the previous line), so "from" is the
    // primary even when the very first line we see is on the backup.
    StartEpisode(track, track.primary, pool, record.release, record.time);
  } else if (track.returning && pool == track.current.to) {
    // The primary failed again before it had stayed: the same incident goes on.
    track.returning = false;
  } else if (track.qualified && track.current.to.empty()) {
    // Restored after a restart: the first line says where traffic is, not that it moved.
    track.returning = false;
    track.current.to.assign(pool);
    track.current.release.assign(record.release);
  } else {
    // From one backup to another while the primary is still out. Until the episode has fired
    // and an evaluation has seen it, "from" stays the primary: the first page must say traffic
    // left it, even when `for` kept the episode pending through several moves or one read of
    // the log held them all.
    if (track.qualified && track.episodes_started == 0 && !track.returning) {
      track.current.from = serving_;
    }
    track.returning = false;
    track.current.to.assign(pool);
    track.current.release.assign(record.release);
    if (track.qualified) {
      track.current.fired_at = record.time;
      track.changed = true;
    } else {
      MaybeQualify(track, record.time);
    }
  }
  serving_.assign(pool);
}

void FailoverRule::Evaluate(TimePoint now) {
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& track = tracks_[i];
    // A stay on the primary long enough in requests ends when its time is up, line or not.
    MaybeEndReturn(track, now);
    AlertCondition& c = conditions_[i];
    c.active = track.qualified;
    c.breaching = track.qualified && !track.returning;
    c.value = track.qualified ? 1 : 0;
    c.since = track.since;
    c.episodes_started = track.episodes_started;
    c.changed = track.changed;
    track.episodes_started = 0;
    track.changed = false;
    if (track.returning) {
      c.reason = Decision::kResolving;
    } else if (track.qualified) {
      c.reason = Decision::kFiring;
    } else if (track.off_primary) {
      c.reason = Decision::kPending;
    } else if (!seen_pool_) {
      c.reason = Decision::kTooFewRequests;  // no record with a pool yet: nothing to judge
    } else {
      c.reason = Decision::kBelowThreshold;  // on the primary
    }
  }
}

Notification FailoverRule::Firing(size_t i, TimePoint /*now*/) const {
  const Track& track = tracks_[i];
  const Episode& e = track.qualified || !track.has_ended ? track.current : track.last_ended;
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kFiring);
  n.title = Upper(config_.name);
  n.summary = "Pool failover detected!";
  n.fields = {{"Previous", OrUnknown(e.from)}, {"Current", OrUnknown(e.to)}};
  if (e.from != track.primary) n.fields.emplace_back("Primary", track.primary + " (still out)");
  n.fields.emplace_back("Release", OrUnknown(e.release));
  if (config_.for_duration > Clock::duration::zero()) {
    n.fields.emplace_back("Off primary for", FormatDuration(e.fired_at - e.off_since));
  }
  n.action = "Check health of " + e.from + " pool";
  n.at = e.fired_at;
  return n;
}

Notification FailoverRule::Resolved(size_t i, TimePoint now) const {
  const Track& track = tracks_[i];
  const Episode& e = track.last_ended;
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kResolved);
  n.title = Upper(config_.name) + " RESOLVED";
  if (e.ended_by_primary_change || i != current_) {
    n.summary = track.primary + " is no longer the expected primary";
    n.fields = {{"Serving", OrUnknown(serving_)}};
  } else {
    n.summary = "Traffic is back on " + track.primary;
    n.fields = {{"Previous", OrUnknown(e.to)},
                {"Current", track.primary},
                {"Release", OrUnknown(e.back_release)}};
  }
  n.fields.emplace_back("Off primary for", FormatDuration(e.ended_at - e.off_since));
  if (e.back_requests > 1 || e.resolved_at > e.ended_at) {
    n.fields.emplace_back("Back for", FormatDuration(e.resolved_at - e.ended_at) + ", " +
                                          std::to_string(e.back_requests) + " requests");
  }
  n.at = track.has_ended ? e.resolved_at : now;
  return n;
}

std::string FailoverRule::Detail(size_t i) const {
  const Track& track = tracks_[i];
  if (!seen_pool_) return "no request with a pool seen yet";
  if (i != current_) return track.primary + " is no longer the expected primary";
  std::string out = "serving " + serving_ + ", primary " + track.primary;
  if (track.off_primary) {
    out += ", off primary since " + FormatRfc3339(track.current.off_since);
    if (!track.qualified) out += " (for " + FormatDuration(config_.for_duration) + ")";
  }
  if (track.returning) {
    out += ", back since " + FormatRfc3339(track.back_since) + " for " +
           std::to_string(track.back_requests) + " requests (resolves after " +
           FormatDuration(config_.ResolveFor()) + " and " +
           std::to_string(config_.ResolveRequests()) + ")";
  }
  return out;
}

void FailoverRule::Reconfigure(const RuleConfig& config, std::string_view active_pool) {
  config_ = config;
  if (active_pool == tracks_[current_].primary) {
    // `for` may have changed: a pending episode may qualify now (judged at the next record).
    return;
  }
  // The primary changed (e.g. green promoted): the alert about the old primary ends, and the
  // new primary's alert starts from the pool serving right now.
  EndEpisode(tracks_[current_], "", last_record_time_, /*primary_change=*/true);
  current_ = TrackFor(active_pool);
  Track& track = tracks_[current_];
  if (seen_pool_ && serving_ != track.primary && !track.off_primary) {
    StartEpisode(track, track.primary, serving_, "", last_record_time_);
  }
}

void FailoverRule::RestoreActive(size_t i, TimePoint since) {
  // Only the configured primary's track follows the log; an alert about an earlier primary
  // resolves as "no longer the expected primary".
  Track& track = tracks_[i];
  if (i != current_ || track.off_primary) return;
  track.off_primary = true;
  track.qualified = true;
  track.since = since;
  track.current = Episode{};
  track.current.from = track.primary;  // where traffic went is not known until the next line
  track.current.off_since = since;
  track.current.fired_at = since;
}

int FailoverRule::FindOrAddAlert(const Labels& labels) {
  auto it = labels.find("pool");
  if (labels.size() != 1 || it == labels.end() || it->second.empty()) return -1;
  return static_cast<int>(TrackFor(it->second));
}

}  // namespace poolwatch
