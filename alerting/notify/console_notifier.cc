#include "alerting/notify/console_notifier.h"

namespace poolwatch {

std::string FormatConsoleBlock(const Notification& n, const std::string& instance) {
  std::string status = n.status == AlertStatus::kFiring ? "FIRING" : "RESOLVED";
  // The same marker as Slack's header, so the demo's console reads like the channel.
  std::string block = "----- " + status + " " + n.Key() + " -----\n";
  if (instance.empty()) return block.append(AlertEmoji(n)).append(" ").append(n.Text());
  // Several nodes may print to one log collector: say which one saw it.
  Notification shown = n;
  shown.fields.emplace_back("Instance", instance);
  return block.append(AlertEmoji(n)).append(" ").append(shown.Text());
}

DeliveryResult ConsoleNotifier::Send(const Notification& notification,
                                     std::chrono::milliseconds /*timeout*/) {
  out_ << FormatConsoleBlock(notification, instance_) << std::flush;
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
