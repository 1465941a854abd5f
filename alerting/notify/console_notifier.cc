#include "alerting/notify/console_notifier.h"

namespace poolwatch {

std::string FormatConsoleBlock(const Notification& n) {
  std::string status = n.status == AlertStatus::kFiring ? "FIRING" : "RESOLVED";
  // The same marker as Slack's header, so the demo's console reads like the channel.
  std::string block = "----- " + status + " " + n.Key() + " -----\n";
  return block.append(AlertEmoji(n)).append(" ").append(n.Text());
}

DeliveryResult ConsoleNotifier::Send(const Notification& notification,
                                     std::chrono::milliseconds /*timeout*/) {
  out_ << FormatConsoleBlock(notification) << std::flush;
  DeliveryResult result;
  if (!out_) {
    // A closed stdout will not heal by retrying; reset the state so later alerts still try.
    out_.clear();
    result.outcome = DeliveryResult::kPermanent;
    result.error = "console write failed";
  }
  return result;
}

}  // namespace poolwatch
