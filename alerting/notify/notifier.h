#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "alerting/notification.h"

namespace poolwatch {

// The outcome of one delivery attempt, saying whether trying again can help.
struct DeliveryResult {
  // kNothingToSend: the notifier had nothing to say for this notification (the Slack app, for a
  // transition the cooldown held back of an alert it has no message for): done, not delivered.
  enum Outcome { kDelivered, kRetryable, kPermanent, kNothingToSend };
  Outcome outcome = kDelivered;
  long http_status = 0;                      // 0 when no HTTP response (network error, console)
  std::chrono::milliseconds retry_after{0};  // the receiver's Retry-After; 0 when none
  std::string error;  // why it failed, secrets already removed; "" when delivered

  static DeliveryResult NothingToSend() {
    DeliveryResult result;
    result.outcome = kNothingToSend;
    return result;
  }
};

std::string_view OutcomeName(DeliveryResult::Outcome outcome);  // "delivered", …

// The marker shown before a notification's title by the notifiers that decorate it (Slack's
// header and headline, the console): ✅ resolved, 🚨 critical, ⚠️ otherwise. Rules write
// plain titles ("FAILOVER") so that no message shows two markers.
std::string_view AlertEmoji(const Notification& notification);

// One channel to people (Slack, console, a generic webhook). A notifier makes one attempt
// and reports; retries, rate limiting and ordering are the Dispatcher's job (Alertmanager's
// retry stage). Send() is called from the dispatcher's worker thread only, one call at a time.
class Notifier {
 public:
  virtual ~Notifier() = default;

  // Metric label and log prefix: "slack", "console", "webhook".
  virtual std::string_view Name() const = 0;

  // What kind of notifier it is, as a rule's `notify` list names it: "slack", "console",
  // "webhook", "alertmanager" (several Alertmanager notifiers share one kind).
  virtual std::string_view Kind() const { return Name(); }

  // True for a receiver that keeps its own copy of the alert state and deduplicates by itself
  // (Alertmanager): it is also sent the transitions the cooldown holds back from people.
  virtual bool MirrorsState() const { return false; }

  // True for a receiver for which every notification adds something of its own (the Slack
  // app's thread replies): the dispatcher never supersedes a waiting one with a newer one.
  virtual bool NeedsEveryNotification() const { return false; }

  // Where it sends, safe to show (webhook URLs redacted), for start-up logs and status pages.
  virtual std::string Destination() const = 0;

  // Minimum spacing between two attempts on this channel (Slack: about one message per
  // second per webhook). The dispatcher enforces it.
  virtual std::chrono::milliseconds MinInterval() const { return std::chrono::milliseconds(0); }

  // One attempt, giving up after `timeout` (the dispatcher shortens it while draining).
  virtual DeliveryResult Send(const Notification& notification,
                              std::chrono::milliseconds timeout) = 0;
};

}  // namespace poolwatch
