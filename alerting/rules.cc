#include "alerting/rules.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <string>

namespace poolwatch {
namespace {

bool IsRealPool(std::string_view pool) {
  return !pool.empty() && pool != kPoolNone && pool != kPoolUnknown && pool != "-";
}

std::string Upper(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// 2 → "2", 2.5 → "2.5": thresholds are written the way people configure them.
std::string FormatNumber(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", value);
  std::string out = buf;
  while (!out.empty() && out.back() == '0') out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

std::string FormatPercent(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", value);
  return buf;
}

std::string FormatDuration(Clock::duration d) {
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 0) s = 0;
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 "h %" PRId64 "m %" PRId64 "s", s / 3600, s / 60 % 60,
                  s % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%" PRId64 "s", s);
  }
  return buf;
}

std::string OrUnknown(const std::string& s) { return s.empty() ? "unknown" : s; }

Notification BaseNotification(const RuleConfig& config, const Labels& labels, AlertStatus status) {
  Notification n;
  n.rule = config.name;
  n.status = status;
  n.labels = labels;
  n.severity = config.severity;
  return n;
}

}  // namespace

std::string_view ServingPoolOf(const LogRecord& record) {
  if (IsRealPool(record.pool)) return record.pool;
  // A response without the pool header (the app does not set it, or the log format uses
  // $http_x_app_pool by mistake): the last attempt is the server that answered.
  if ((record.pool.empty() || record.pool == "-") && !record.attempts.empty() &&
      IsRealPool(record.attempts.back().pool)) {
    return record.attempts.back().pool;
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// FailoverRule

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
    track.last_ended.back_release.assign(back_release);
    track.last_ended.ended_at = at;
    track.last_ended.ended_by_primary_change = primary_change;
    track.has_ended = true;
  }
  track.off_primary = false;
  track.qualified = false;
  track.since = at;
}

void FailoverRule::Observe(const LogRecord& record) {
  const std::string_view pool = ServingPoolOf(record);
  if (pool.empty()) return;
  last_record_time_ = record.time;
  Track& track = tracks_[current_];
  if (seen_pool_ && pool == serving_) {
    // The common case: the same pool as the line before.
    if (track.off_primary && !track.qualified) MaybeQualify(track, record.time);
    return;
  }
  seen_pool_ = true;
  if (pool == track.primary) {
    EndEpisode(track, record.release, record.time, /*primary_change=*/false);
  } else if (!track.off_primary) {
    // Off the primary. The primary is the baseline (not the previous line), so "from" is the
    // primary even when the very first line we see is on the backup.
    StartEpisode(track, track.primary, pool, record.release, record.time);
  } else {
    // From one backup to another while the primary is still out. Until the episode has fired
    // and an evaluation has seen it, "from" stays the primary: the first page must say traffic
    // left it, even when `for` kept the episode pending through several moves or one read of
    // the log held them all.
    if (track.qualified && track.episodes_started == 0) track.current.from = serving_;
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
  serving_since_ = record.time;
}

void FailoverRule::Evaluate(TimePoint /*now*/) {
  // Failover is judged on log records only (evidence that traffic stayed away), so `now` does
  // not move anything here.
  for (size_t i = 0; i < tracks_.size(); ++i) {
    Track& track = tracks_[i];
    AlertCondition& c = conditions_[i];
    c.active = track.qualified;
    c.value = track.qualified ? 1 : 0;
    c.since = track.since;
    c.episodes_started = track.episodes_started;
    c.changed = track.changed;
    track.episodes_started = 0;
    track.changed = false;
    if (track.qualified) {
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
  n.at = track.has_ended ? e.ended_at : now;
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

int FailoverRule::FindOrAddAlert(const Labels& labels) {
  auto it = labels.find("pool");
  if (labels.size() != 1 || it == labels.end() || it->second.empty()) return -1;
  return static_cast<int>(TrackFor(it->second));
}

// ---------------------------------------------------------------------------------------------
// ErrorRateRule

ErrorRateRule::ErrorRateRule(RuleConfig config) : Rule(std::move(config)) {
  if (config_.scope == ErrorScope::kClient) FindOrAddPool("");
}

size_t ErrorRateRule::MinRequests() const {
  // At least one entry (an empty window has no rate), and never more than the window holds:
  // min_requests > window_size would mean a rule that can never fire, a silent miss.
  return std::clamp<size_t>(config_.min_requests, 1, std::max<size_t>(config_.window_size, 1));
}

int ErrorRateRule::FindOrAddPool(std::string_view pool) {
  if (last_pool_index_ < instances_.size() && instances_[last_pool_index_].pool == pool) {
    return static_cast<int>(last_pool_index_);
  }
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (instances_[i].pool == pool) {
      last_pool_index_ = i;
      return static_cast<int>(i);
    }
  }
  if (instances_.size() >= kMaxPools) return -1;
  instances_.push_back(
      Instance{std::string(pool), SlidingWindow(config_.window_size, config_.max_age)});
  AlertCondition condition;
  if (!pool.empty()) condition.labels = {{"pool", std::string(pool)}};
  condition.threshold = config_.threshold_percent;
  condition.window_size = instances_.back().window.capacity();
  conditions_.push_back(std::move(condition));
  last_pool_index_ = instances_.size() - 1;
  return static_cast<int>(last_pool_index_);
}

void ErrorRateRule::Observe(const LogRecord& record) {
  const std::string_view pool = ServingPoolOf(record);
  if (!pool.empty() && pool != serving_) serving_.assign(pool);
  if (config_.scope == ErrorScope::kClient) {
    // Every request counts, including those nginx answered itself (a 502 with no upstream
    // live is exactly what the client saw).
    instances_[0].window.Push(record.time, record.status >= 500);
    return;
  }
  for (const UpstreamAttempt& attempt : record.attempts) {
    if (!IsRealPool(attempt.pool)) continue;
    const int i = FindOrAddPool(attempt.pool);
    if (i < 0) continue;
    // No response at all (status 0: connect failure, timeout before headers) is an error too.
    instances_[static_cast<size_t>(i)].window.Push(record.time,
                                                   attempt.status >= 500 || attempt.status == 0);
  }
}

void ErrorRateRule::Evaluate(TimePoint now) {
  const size_t min_requests = MinRequests();
  const double threshold = config_.threshold_percent;
  const double resolve = std::min(config_.ResolveThreshold(), threshold);
  for (size_t i = 0; i < instances_.size(); ++i) {
    SlidingWindow& window = instances_[i].window;
    AlertCondition& c = conditions_[i];
    window.Expire(now);
    const bool was_active = c.active;
    c.episodes_started = 0;
    c.changed = false;
    c.value = window.ErrorPercent();
    c.threshold = threshold;
    c.window_fill = window.size();
    c.window_size = window.capacity();
    if (window.size() < min_requests) {
      c.active = false;
      c.reason = Decision::kTooFewRequests;
    } else if (was_active) {
      // Hysteresis: once firing, only a rate at or below the resolve threshold clears it, so a
      // rate hovering around the threshold does not flap.
      c.active = c.value > resolve;
      c.reason = c.active ? Decision::kFiring : Decision::kBelowThreshold;
    } else {
      c.active = c.value > threshold;
      c.reason = c.active ? Decision::kFiring : Decision::kBelowThreshold;
    }
    if (c.active != was_active) {
      c.since = now;
      if (c.active) c.episodes_started = 1;
    }
  }
}

std::vector<std::pair<std::string, std::string>> ErrorRateRule::Fields(size_t i) const {
  const Instance& instance = instances_[i];
  const AlertCondition& c = conditions_[i];
  std::vector<std::pair<std::string, std::string>> fields;
  if (!instance.pool.empty()) fields.emplace_back("Pool", instance.pool);
  fields.emplace_back("Error Rate", FormatPercent(c.value) + " (threshold: " +
                                        FormatNumber(config_.threshold_percent) + "%)");
  const std::string counts =
      std::to_string(instance.window.errors()) + "/" + std::to_string(instance.window.size());
  if (instance.pool.empty()) {
    fields.emplace_back("5xx Errors", counts + " requests");
  } else {
    fields.emplace_back("5xx Errors", counts + " attempts (5xx or no response)");
  }
  fields.emplace_back("Current Pool", OrUnknown(serving_));
  return fields;
}

Notification ErrorRateRule::Firing(size_t i, TimePoint now) const {
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kFiring);
  n.title = Upper(config_.name);
  n.summary = instances_[i].pool.empty()
                  ? "High error rate detected!"
                  : "High error rate detected on pool " + instances_[i].pool + "!";
  n.fields = Fields(i);
  n.action = "Check upstream logs and consider pool toggle";
  n.at = now;
  return n;
}

Notification ErrorRateRule::Resolved(size_t i, TimePoint now) const {
  const AlertCondition& c = conditions_[i];
  Notification n = BaseNotification(config_, c.labels, AlertStatus::kResolved);
  n.title = Upper(config_.name) + " RESOLVED";
  n.summary = c.reason == Decision::kTooFewRequests
                  ? "Error rate no longer judged: too few recent requests"
                  : "Error rate is back to normal";
  n.fields = Fields(i);
  n.at = now;
  return n;
}

std::string ErrorRateRule::Detail(size_t i) const {
  const SlidingWindow& window = instances_[i].window;
  return FormatPercent(window.ErrorPercent()) + " of " + std::to_string(window.size()) +
         " (threshold " + FormatNumber(config_.threshold_percent) + "%, resolve " +
         FormatNumber(std::min(config_.ResolveThreshold(), config_.threshold_percent)) + "%, min " +
         std::to_string(MinRequests()) + ")";
}

void ErrorRateRule::Reconfigure(const RuleConfig& config, std::string_view /*active_pool*/) {
  config_ = config;
  for (size_t i = 0; i < instances_.size(); ++i) {
    instances_[i].window.Reconfigure(config_.window_size, config_.max_age);
    conditions_[i].threshold = config_.threshold_percent;
    conditions_[i].window_size = instances_[i].window.capacity();
  }
}

void ErrorRateRule::ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) {
  if (config_.scope != ErrorScope::kUpstream) return;  // what clients saw is never inhibited
  for (Instance& instance : instances_) {
    if (instance.pool == pool) instance.window.DropBefore(ended_at);
  }
}

int ErrorRateRule::FindOrAddAlert(const Labels& labels) {
  if (config_.scope == ErrorScope::kClient) return labels.empty() ? 0 : -1;
  auto it = labels.find("pool");
  if (labels.size() != 1 || it == labels.end() || !IsRealPool(it->second)) return -1;
  return FindOrAddPool(it->second);
}

std::unique_ptr<Rule> MakeRule(const RuleConfig& config, std::string_view active_pool) {
  switch (config.kind) {
    case RuleKind::kFailover:
      return std::make_unique<FailoverRule>(config, active_pool);
    case RuleKind::kErrorRate:
      return std::make_unique<ErrorRateRule>(config);
  }
  return nullptr;
}

}  // namespace poolwatch
