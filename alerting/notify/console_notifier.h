#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "alerting/notify/notifier.h"

namespace poolwatch {

// Writes one readable block per notification (a separator line naming status and alert key,
// then the marker and Notification::Text(), with the sending node's instance as a field when
// given). The embedded default when no webhook is configured, so the demo
// shows alerts with no Slack at all. The stream must outlive the notifier.
class ConsoleNotifier final : public Notifier {
 public:
  explicit ConsoleNotifier(std::ostream& out, std::string instance = "")
      : out_(out), instance_(std::move(instance)) {}

  std::string_view Name() const override { return "console"; }
  std::string Destination() const override { return "console"; }
  DeliveryResult Send(const Notification& notification, std::chrono::milliseconds timeout) override;

 private:
  std::ostream& out_;
  std::string instance_;
};

// The block ConsoleNotifier writes, exposed for tests and for anything else printing alerts.
// `instance` ("" for none) is added after the notification's own fields.
std::string FormatConsoleBlock(const Notification& notification, const std::string& instance = "");

}  // namespace poolwatch
