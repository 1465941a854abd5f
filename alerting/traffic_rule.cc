#include "alerting/traffic_rule.h"

#include <algorithm>
#include <utility>

#include "alerting/rule_internal.h"

namespace poolwatch {
namespace {

using rule_internal::BaseNotification;
using rule_internal::Upper;
using rule_internal::WindowName;

}  // namespace

TrafficRule::TrafficRule(RuleConfig config) : Rule(std::move(config)), window_(config_.window) {
  AlertCondition condition;
  if (!config_.pool.empty()) condition.labels = {{"pool", config_.pool}};
  condition.threshold = static_cast<double>(config_.min_requests);
  condition.window_size = static_cast<size_t>(config_.window.count());
  conditions_.push_back(std::move(condition));
}

void TrafficRule::Start(TimePoint at) {
  started_ = true;
  watch_start_ = at;
  conditions_[0].since = at;
  window_.AdvanceTo(at);
}

void TrafficRule::Observe(const LogRecord& record) {
  // Mostly the same pool as the line before: serving_ only ever holds a real pool, so a record
  // naming it was served by it, without asking ServingPoolOf.
  std::string_view pool = record.pool;
  if (serving_.empty() || pool != serving_) {
    pool = ServingPoolOf(record);
    if (!pool.empty() && pool != serving_) serving_.assign(pool);
  }
  if (!config_.pool.empty() && pool != config_.pool) return;
  if (!started_) Start(record.time);
  // A line stamped before the window (a late write) says nothing about traffic now.
  if (!window_.Add(record.time)) return;
  ++observed_;
  if (!seen_request_ || record.time > last_request_) last_request_ = record.time;
  seen_request_ = true;
  if (active_ && current_.silent && !current_.back) {
    current_.back = true;
    current_.back_at = record.time;
  }
}

void TrafficRule::Evaluate(TimePoint now) {
  if (!started_) Start(now);
  last_evaluated_ = now;
  window_.AdvanceTo(now);
  const uint64_t count = window_.count();
  const bool watched = WatchedAWindow(now);
  const bool too_few = count < config_.min_requests;
  AlertCondition& c = conditions_[0];
  const bool was_active = active_;
  c.episodes_started = 0;
  c.changed = false;
  c.value = static_cast<double>(count);
  c.threshold = static_cast<double>(config_.min_requests);
  c.window_size = static_cast<size_t>(config_.window.count());
  c.window_fill = static_cast<size_t>(std::clamp<int64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(now - watch_start_).count(), 0,
      config_.window.count()));

  if (!active_) {
    if (watched && too_few) {
      if (!pending_) {
        pending_ = true;
        pending_since_ = now;
      }
      if (now - pending_since_ >= config_.for_duration) {
        pending_ = false;
        active_ = true;
        clearing_ = false;
        current_ = Episode{};
        current_.active_since = now;
        c.episodes_started = 1;
      }
    } else {
      pending_ = false;
    }
  } else if (too_few) {
    // Short again: whatever came back was not enough; the count starts over, and traffic is
    // not back yet for the resolved message either.
    clearing_ = false;
    if (count == 0) current_.back = false;
  } else {
    if (!clearing_) {
      clearing_ = true;
      clear_since_ = now;
      count_at_clear_ = count;
      observed_at_clear_ = observed_;
    }
    if (now - clear_since_ >= config_.ResolveFor() && BackRequests() >= config_.ResolveRequests()) {
      current_.clear_since = clear_since_;
      current_.resolved_at = now;
      current_.back_requests = BackRequests();
      last_ended_ = current_;
      has_ended_ = true;
      active_ = false;
      clearing_ = false;
    }
  }
  if (active_ && count == 0 && !current_.silent) {
    // The silence the resolved message measures: from the last request before it (or the start
    // of watching, if there was none) to the first request after it.
    current_.silent = true;
    current_.back = false;
    current_.quiet_since = seen_request_ ? last_request_ : watch_start_;
  }

  c.active = active_;
  c.breaching = active_ && !clearing_;
  if (active_) {
    c.reason = clearing_ ? Decision::kResolving : Decision::kFiring;
  } else if (pending_) {
    c.reason = Decision::kPending;
  } else if (!watched) {
    c.reason = Decision::kTooFewRequests;  // not a whole window watched yet: nothing to judge
  } else {
    c.reason = Decision::kBelowThreshold;
  }
  if (active_ != was_active) c.since = now;
}

std::string TrafficRule::Requests(uint64_t count) const {
  return std::to_string(count) + " (minimum " + std::to_string(config_.min_requests) + ")";
}

std::string TrafficRule::LastRequest(TimePoint now) const {
  if (!seen_request_) return "none since " + FormatRfc3339(watch_start_);
  return FormatRfc3339(last_request_) + " (" + FormatDuration(now - last_request_) + " ago)";
}

Notification TrafficRule::Firing(size_t i, TimePoint now) const {
  const Episode& e = active_ || !has_ended_ ? current_ : last_ended_;
  const uint64_t count = window_.count();
  const std::string window = WindowName(config_.window);
  const std::string to_pool = config_.pool.empty() ? "" : " to pool " + config_.pool;
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kFiring);
  n.title = Upper(config_.name);
  if (count == 0) {
    n.summary = "No traffic" + to_pool + " for " + window;
  } else {
    n.summary = "Only " + std::to_string(count) + " requests" + to_pool + " in " + window +
                " (minimum " + std::to_string(config_.min_requests) + ")";
  }
  if (!config_.pool.empty()) n.fields.emplace_back("Pool", config_.pool);
  n.fields.emplace_back("Window", window);
  n.fields.emplace_back("Requests", Requests(count));
  n.fields.emplace_back("Last request", LastRequest(now));
  n.action = config_.pool.empty()
                 ? "Check that nginx is up and writing this log, then DNS and the load "
                   "balancer in front of it"
                 : "Check why nginx sends " + config_.pool +
                       " nothing: its upstream block, its health, ACTIVE_POOL";
  n.at = e.active_since;
  return n;
}

Notification TrafficRule::Resolved(size_t i, TimePoint now) const {
  const Episode& e = has_ended_ ? last_ended_ : current_;
  Notification n = BaseNotification(config_, conditions_[i].labels, AlertStatus::kResolved);
  n.title = Upper(config_.name) + " RESOLVED";
  n.summary =
      config_.pool.empty() ? "Traffic is back" : "Traffic to pool " + config_.pool + " is back";
  if (!config_.pool.empty()) n.fields.emplace_back("Pool", config_.pool);
  n.fields.emplace_back("Window", WindowName(config_.window));
  n.fields.emplace_back("Requests", Requests(window_.count()));
  if (e.restored) {
    n.fields.emplace_back("Firing since", FormatRfc3339(e.active_since));
  } else if (e.silent && e.back) {
    n.fields.emplace_back("Missing for", FormatDuration(e.back_at - e.quiet_since));
  } else {
    // Requests came, too few of them: from the start of the first window that was short.
    n.fields.emplace_back("Below the minimum for",
                          FormatDuration(e.clear_since - (e.active_since - config_.window)));
  }
  if (has_ended_) {
    n.fields.emplace_back("Back for", FormatDuration(e.resolved_at - e.clear_since) + ", " +
                                          std::to_string(e.back_requests) + " requests");
  }
  n.at = has_ended_ ? e.resolved_at : now;
  return n;
}

std::string TrafficRule::Detail(size_t /*i*/) const {
  std::string out = std::to_string(window_.count()) + " requests in the last " +
                    WindowName(config_.window) + " (minimum " +
                    std::to_string(config_.min_requests) + ")";
  if (!config_.pool.empty()) out += " served by " + config_.pool;
  if (!WatchedAWindow(last_evaluated_)) {
    out += "; judged once a whole window is watched (since " + FormatRfc3339(watch_start_) + ")";
  }
  if (pending_) {
    out += "; too few since " + FormatRfc3339(pending_since_) + " (for " +
           FormatDuration(config_.for_duration) + ")";
  }
  if (clearing_) {
    out += "; enough again since " + FormatRfc3339(clear_since_) + ", " +
           std::to_string(BackRequests()) + " requests (resolves after " +
           FormatDuration(config_.ResolveFor()) + " and " +
           std::to_string(config_.ResolveRequests()) + ")";
  }
  return out;
}

void TrafficRule::Reconfigure(const RuleConfig& config, std::string_view /*active_pool*/) {
  const std::chrono::seconds old_window = config_.window;
  const TimePoint kept_since = window_.covered_since();
  config_ = config;
  if (config_.window != old_window) {
    window_ = window_.Resized(config_.window);
    // A longer window reaches back before what the old one kept: those seconds were not
    // counted, and judging them as empty would page about requests that did arrive.
    if (started_ && config_.window > old_window) watch_start_ = std::max(watch_start_, kept_since);
  }
  conditions_[0].threshold = static_cast<double>(config_.min_requests);
  conditions_[0].window_size = static_cast<size_t>(config_.window.count());
}

void TrafficRule::RestoreActive(size_t i, TimePoint since) {
  if (i != 0 || active_) return;
  active_ = true;
  pending_ = false;
  clearing_ = false;
  current_ = Episode{};
  current_.restored = true;
  current_.active_since = since;
  AlertCondition& c = conditions_[0];
  c.active = true;
  c.breaching = true;
  c.reason = Decision::kFiring;
  c.since = since;
}

int TrafficRule::FindOrAddAlert(const Labels& labels) {
  return labels == conditions_[0].labels ? 0 : -1;
}

}  // namespace poolwatch
