#include "alerting/policy.h"

#include <algorithm>

namespace poolwatch {

NotificationPolicy::NotificationPolicy(const RuleConfig& config)
    : cooldown_(config.cooldown),
      repeat_interval_(config.repeat_interval),
      restore_hold_(config.max_age),
      send_resolved_(config.send_resolved) {}

bool NotificationPolicy::InCooldown(const AlertPolicyState& state, TimePoint now) const {
  return cooldown_ > Clock::duration::zero() && state.last_fired &&
         now - *state.last_fired < cooldown_;
}

void NotificationPolicy::Carry(AlertPolicyState& state, PolicyResult& result) {
  result.suppressed = state.suppressed;
  state.suppressed = 0;
}

void NotificationPolicy::Fire(AlertPolicyState& state, TimePoint now, PolicyResult& result) const {
  result.send_firing = true;
  Carry(state, result);
  state.announced = true;
  state.last_fired = now;
  state.mirrored = false;  // the firing message tells the mirrors too
}

void NotificationPolicy::Mirror(AlertPolicyState& state, PolicyResult& result) {
  if (state.mirrored || state.announced) return;
  result.mirror_firing = true;
  state.mirrored = true;
}

PolicyResult NotificationPolicy::Decide(const AlertCondition& c, const PolicyInput& in,
                                        TimePoint now, AlertPolicyState& s) const {
  PolicyResult r;
  const bool cooldown = InCooldown(s, now);
  const int started = std::max(0, c.episodes_started);
  // An episode we saw active but never announced, and whether it is over now.
  const bool held = s.active && !s.announced;
  const bool held_ended = held && (!c.active || started > 0);
  // Episodes that began since the last evaluation and are already over.
  const int new_ended = started - (c.active && started > 0 ? 1 : 0);
  if (held_ended && s.held_by_cooldown) ++s.suppressed;

  auto finish = [&]() {
    s.active = c.active;
    if (!c.active || s.announced) {
      s.held_by_cooldown = false;
    } else if (r.decision == Decision::kSuppressedCooldown) {
      s.held_by_cooldown = true;
    }
    s.last_decision = r.decision;
    s.decided = true;
    return r;
  };

  if (s.restored) {
    if (c.active && s.announced) {
      // The rule found the condition again after the restart: the same incident, already
      // announced before the restart, not a new one.
      s.restored = false;
      r.decision = Decision::kFiring;
      r.detail = "restored firing alert confirmed";
      return finish();
    }
    if (s.announced && c.reason == Decision::kTooFewRequests) {
      if (!s.restored_at) s.restored_at = now;
      if (now - *s.restored_at < restore_hold_) {
        r.decision = Decision::kFiring;
        r.detail = "restored after restart; waiting for data before judging";
        return finish();
      }
    }
    s.restored = false;
  }

  if (c.active && !s.announced) {
    if (in.muted) {
      r.decision = Decision::kMaintenance;
      r.detail = "muted by maintenance; announced when it ends if still active";
    } else if (in.inhibited) {
      r.decision = Decision::kInhibited;
      r.detail = "a failover away from this pool is firing";
    } else if (cooldown) {
      r.decision = Decision::kSuppressedCooldown;
      r.detail = "held back until the cooldown ends";
      s.suppressed += new_ended;
      Mirror(s, r);
    } else if (!c.breaching) {
      // Re-checked when the cooldown ends: an episode that is clearing by now would reach people
      // as a page about something that is going away. It stays counted; if it ends like this,
      // the next message says it was suppressed.
      r.decision = c.reason;
      r.detail = s.held_by_cooldown ? "held back by the cooldown; clearing, so not sent"
                                    : "clearing; not announced";
      s.suppressed += new_ended;
    } else {
      r.decision = Decision::kFired;
      r.detail = started > 0 ? "condition became active" : "announced after being held back";
      Fire(s, now, r);
    }
  } else if (c.active) {
    const bool refire = started > 0 || c.changed;
    const bool repeat_due = repeat_interval_ > Clock::duration::zero() && s.last_fired &&
                            now - *s.last_fired >= repeat_interval_;
    if (!refire && (!repeat_due || !c.breaching)) {
      // A repeat says "still firing": not while it is clearing.
      r.decision = c.breaching ? Decision::kFiring : c.reason;
      r.detail = c.breaching ? "still firing, already announced"
                             : "clear now; resolves once clear for long enough";
    } else if (in.muted) {
      r.decision = Decision::kMaintenance;
      r.detail = "muted by maintenance";
    } else if (in.inhibited) {
      r.decision = Decision::kInhibited;
      r.detail = "a failover away from this pool is firing";
    } else if (refire && cooldown) {
      r.decision = Decision::kSuppressedCooldown;
      r.detail = "re-fire swallowed by the cooldown";
      s.suppressed += started > 0 ? started : 1;
    } else if (refire) {
      r.decision = Decision::kFired;
      r.detail = c.changed ? "traffic moved to another pool" : "re-fired";
      Fire(s, now, r);
    } else {
      r.decision = Decision::kRepeated;
      r.detail = "repeat_interval elapsed";
      r.repeat = true;
      Fire(s, now, r);
    }
  } else if (s.announced) {
    // Re-fires that came and went since the last evaluation, inside the cooldown.
    if (cooldown) s.suppressed += started;
    if (in.muted) {
      r.decision = Decision::kMaintenance;
      r.detail = "resolution held until maintenance ends";
    } else {
      r.decision = Decision::kResolved;
      s.announced = false;
      if (send_resolved_) {
        r.detail = "condition cleared";
        r.send_resolved = true;
        Carry(s, r);
      } else {
        r.detail = "condition cleared; send_resolved is off";
        // People are not told, but a mirror would otherwise keep re-posting it as firing.
        r.mirror_resolved = true;
      }
    }
  } else if (started > 0) {
    // Latched: began and ended between two evaluations.
    if (in.muted) {
      r.decision = Decision::kMaintenance;
      r.detail = "began and ended during maintenance; not announced";
    } else if (in.inhibited) {
      r.decision = Decision::kInhibited;
      r.detail = "a failover away from this pool was firing";
    } else if (cooldown) {
      r.decision = Decision::kSuppressedCooldown;
      r.detail = "began and ended within the cooldown";
      s.suppressed += started;
      Mirror(s, r);  // and resolved below: it is over
    } else {
      r.decision = Decision::kFired;
      r.detail = "began and ended between two evaluations";
      Fire(s, now, r);
      s.announced = false;
      r.send_resolved = send_resolved_;
      r.mirror_resolved = !send_resolved_;
    }
  } else {
    r.decision = c.reason;
  }
  if (s.mirrored && !c.active) {
    // Sent even in maintenance or with send_resolved off: the mirror must not keep an alert
    // firing (Alertmanager notifiers re-post it) that nobody was told about.
    r.mirror_resolved = true;
    s.mirrored = false;
  }
  return finish();
}

}  // namespace poolwatch
