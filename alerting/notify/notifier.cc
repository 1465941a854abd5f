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
  }
  return "unknown";
}

}  // namespace poolwatch
