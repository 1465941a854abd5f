#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

enum class AlertStatus { kFiring, kResolved };

// What the policy decided to tell people; every notifier renders it its own way.
struct Notification {
  std::string rule;  // rule name, e.g. "failover"
  AlertStatus status = AlertStatus::kFiring;
  std::map<std::string, std::string> labels;  // identifies the alert (e.g. pool) besides rule
  std::string severity = "critical";
  // "FAILOVER", "ERROR_RATE"; "RESOLVED" variants for resolutions. Plain: notifiers add
  // their own marker (AlertEmoji) where they show one.
  std::string title;
  std::string summary;  // one sentence: "Pool failover detected!"
  std::vector<std::pair<std::string, std::string>> fields;  // ordered: {"Previous","blue"}…
  std::string action;  // what the on-call engineer should do first
  TimePoint at{};      // when the condition was observed (log time)
  int suppressed = 0;  // repeats swallowed by cooldown since the last message for this key
  // The kinds of notifier that deliver it (Notifier::Kind(): "slack", "webhook", "console",
  // "alertmanager"), from the rule's `notify` list; empty: every notifier.
  std::vector<std::string> notifiers;
  // A true transition that the cooldown holds back from people: only notifiers that mirror
  // alert state (Alertmanager, which deduplicates by itself) get it, so they never show an
  // alert resolved while its condition still holds.
  bool state_only = false;
  // Not an alert: news for the threads of the open incidents (maintenance started, status
  // kFiring, or ended, kResolved). Only notifiers that keep a thread per incident
  // (Notifier::NeedsEveryNotification(): the Slack app) get it.
  bool incident_note = false;

  // Plain-text rendering shared by the console notifier, Slack's fallback `text` and replay.
  std::string Text() const;
  // "rule{k=v,...}", the dedup key.
  std::string Key() const;
};

}  // namespace poolwatch
