#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "alerting/alerting_config.h"
#include "core/log_record.h"

namespace poolwatch {

// How long, and over how many entries, a firing windowed alert (error_rate, latency) has been
// clear: the evidence its resolution waits for (resolve_for, resolve_requests). Entries are
// counted as they arrive; evaluations say whether the window is clear.
//
// A stretch counts the entries since the later of the last bad entry and the last evaluation
// that was not clear, not only those after the first clear evaluation: a burst of good requests
// that arrives between two evaluations is evidence too, and would otherwise be missed, leaving
// a quiet site waiting for two max_ages.
class ClearStretch {
 public:
  void Count(bool bad) {
    ++entries_;
    if (bad) last_bad_ = entries_;
  }
  // An evaluation at which the alert is not active, or its window is not clear.
  void Break() {
    clearing_ = false;
    unclear_at_ = entries_;
  }
  // An evaluation at which the window is clear: starts the stretch unless it runs.
  void Continue(TimePoint now) {
    if (clearing_) return;
    clearing_ = true;
    since_ = now;
    start_ = std::max(unclear_at_, last_bad_);
  }
  // Long enough to resolve at `now`: resolve_for, and resolve_requests entries or, at traffic
  // too low to bring them, two max_ages (the window has been replaced twice by then).
  bool LongEnough(TimePoint now, const RuleConfig& config, Clock::duration max_age) const {
    const Clock::duration clear_for = now - since_;
    if (!clearing_ || clear_for < config.ResolveFor()) return false;
    if (entries() >= config.ResolveRequests()) return true;
    return max_age > Clock::duration::zero() && clear_for >= 2 * max_age;
  }

  bool clearing() const { return clearing_; }
  TimePoint since() const { return since_; }
  uint64_t entries() const { return entries_ - start_; }
  // "clear for 12s and 120 requests (resolves after 1m 0s and 400)" for decision logs.
  std::string Progress(TimePoint now, const RuleConfig& config) const {
    return "clear for " + FormatDuration(now - since_) + " and " + std::to_string(entries()) +
           " requests (resolves after " + FormatDuration(config.ResolveFor()) + " and " +
           std::to_string(config.ResolveRequests()) + ")";
  }

 private:
  uint64_t entries_ = 0;     // ever counted
  uint64_t last_bad_ = 0;    // entries_ after the last bad one
  uint64_t unclear_at_ = 0;  // entries_ at the last evaluation that was not clear
  uint64_t start_ = 0;       // entries_ the running stretch counts from
  bool clearing_ = false;
  TimePoint since_{};
};

}  // namespace poolwatch
