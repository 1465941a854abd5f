#pragma once

#include <chrono>
#include <optional>

#include "alerting/alerting_config.h"
#include "alerting/decision.h"
#include "alerting/rules.h"

namespace poolwatch {

// What the policy remembers about one alert (rule + label set) between evaluations. Plain
// values so the engine can export and import it across restarts.
struct AlertPolicyState {
  bool active = false;     // the rule's condition at the last evaluation
  bool announced = false;  // a firing message went out and its resolution has not
  // When the last firing (or repeat) message was handed out: cooldown and repeat_interval count
  // from here. Only a message actually handed out starts the cooldown.
  std::optional<TimePoint> last_fired;
  int suppressed = 0;  // firings swallowed by cooldown since the last message
  // State-mirroring notifiers (Alertmanager) were told it fires while people were not: the
  // cooldown held the episode back. Its end is sent to them, whatever the cooldown.
  bool mirrored = false;
  bool held_by_cooldown = false;  // the active, unannounced episode waits for the cooldown
  // Imported after a restart: the rule starts empty, so "too few requests" must not resolve
  // the alert right away (a false "resolved"); it waits for data, at most max_age.
  bool restored = false;
  std::optional<TimePoint> restored_at;
  Decision last_decision = Decision::kTooFewRequests;
  bool decided = false;  // has had a decision (so the first one is always reported)
};

// The inputs besides the condition that the engine works out per alert.
struct PolicyInput {
  bool muted = false;      // maintenance is on and this rule is muted in maintenance
  bool inhibited = false;  // a firing failover away from this alert's pool
};

struct PolicyResult {
  Decision decision = Decision::kBelowThreshold;
  bool send_firing = false;    // a firing message (fired, repeated, or a latched episode)
  bool send_resolved = false;  // a resolved message; after the firing one when both are set
  bool repeat = false;         // the firing message is a repeat_interval re-send
  int suppressed = 0;          // carried by the first message sent
  // Transitions the cooldown holds back from people, for the notifiers that mirror alert state
  // (Notification::state_only): Alertmanager deduplicates by itself, and must not show an
  // alert resolved while its condition still holds. A firing one before a resolved one.
  bool mirror_firing = false;
  bool mirror_resolved = false;
  const char* detail = "";  // why, in words (static text)
};

// Cooldown, dedup, repeat, resolve, maintenance and inhibition for the alerts of one rule.
// Level-triggered: it compares the rule's condition with what was announced and decides what
// to send, so nothing depends on seeing every edge.
//
// Flapping stays bounded: cooldown gates every firing of a key (a new episode, a re-fire, a
// move between backup pools), and a resolved message is only sent for a firing that was
// announced. So a key sends at most one firing and one resolved per cooldown, plus repeats.
// Resolutions themselves are never held back by cooldown: the engineer who was paged learns
// promptly that it cleared; the next firing then waits for the cooldown and says how many
// firings it swallowed. An episode held back by cooldown is re-checked when the cooldown ends:
// announced then if its condition still breaches, counted as suppressed if it clears instead
// (never silently dropped, never a page about something already going away).
//
// Cooldown holds messages back from people only. Alertmanager mirrors the true state (it
// deduplicates and groups by itself), so a firing held back by cooldown, and the end of such a
// held episode, are still handed out as mirror_firing / mirror_resolved.
//
// Maintenance (muted rules) holds back everything, resolutions included, until it ends; a
// condition still active then is announced once, one that started and ended inside maintenance
// is not. Inhibition holds back firings and repeats but not resolutions.
class NotificationPolicy {
 public:
  explicit NotificationPolicy(const RuleConfig& config);

  // Decides for one alert and updates its state.
  PolicyResult Decide(const AlertCondition& condition, const PolicyInput& input, TimePoint now,
                      AlertPolicyState& state) const;

  bool InCooldown(const AlertPolicyState& state, TimePoint now) const;

 private:
  void Fire(AlertPolicyState& state, TimePoint now, PolicyResult& result) const;
  static void Carry(AlertPolicyState& state, PolicyResult& result);
  static void Mirror(AlertPolicyState& state, PolicyResult& result);

  Clock::duration cooldown_;
  Clock::duration repeat_interval_;
  Clock::duration restore_hold_;
  bool send_resolved_;
};

}  // namespace poolwatch
