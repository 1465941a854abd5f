#include "alerting/notify/webhook_notifier.h"

#include <utility>

#include "alerting/notify/redact.h"
#include "alerting/notify/retry_policy.h"

namespace poolwatch {

nlohmann::json BuildWebhookPayload(const Notification& n, const std::string& instance) {
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& [name, value] : n.fields) fields.push_back({{"name", name}, {"value", value}});
  return {{"rule", n.rule},
          {"status", n.status == AlertStatus::kFiring ? "firing" : "resolved"},
          {"labels", n.labels},
          {"severity", n.severity},
          {"title", n.title},
          {"summary", n.summary},
          {"fields", std::move(fields)},
          {"action", n.action},
          {"at", FormatRfc3339(n.at)},
          {"suppressed", n.suppressed},
          {"text", n.Text()},
          {"instance", instance}};
}

WebhookNotifier::WebhookNotifier(std::string url, HttpPoster& poster, std::string name,
                                 std::string instance)
    : url_(std::move(url)),
      poster_(poster),
      name_(std::move(name)),
      instance_(std::move(instance)) {}

std::string WebhookNotifier::Destination() const { return name_ + " " + RedactUrl(url_); }

DeliveryResult WebhookNotifier::Send(const Notification& notification,
                                     std::chrono::milliseconds timeout) {
  std::string body;
  try {
    body = BuildWebhookPayload(notification, instance_)
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception& e) {
    DeliveryResult failed;
    failed.outcome = DeliveryResult::kPermanent;
    failed.error = std::string("cannot build webhook payload: ") + e.what();
    return failed;
  }
  DeliveryResult result = ClassifyHttpResult(poster_.Post(url_, body, "application/json", timeout));
  result.error = ScrubSecret(std::move(result.error), url_);
  return result;
}

}  // namespace poolwatch
