#include "alerting/notify/notifier.h"

namespace poolwatch {

std::string_view OutcomeName(DeliveryResult::Outcome outcome) {
  switch (outcome) {
    case DeliveryResult::kDelivered:
      return "delivered";
    case DeliveryResult::kRetryable:
      return "retryable";
    case DeliveryResult::kPermanent:
      return "permanent";
    case DeliveryResult::kNothingToSend:
      return "nothing_to_send";
  }
  return "unknown";
}

std::string_view AlertEmoji(const Notification& notification) {
  if (notification.status == AlertStatus::kResolved) return "✅";
  return notification.severity == "critical" ? "🚨" : "⚠️";
}

}  // namespace poolwatch
