#include "alerting/notify/webhook_notifier.h"

#include <utility>

#include "alerting/notify/http_delivery.h"
#include "alerting/notify/redact.h"

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
  return PostJsonNotification(
      poster_, url_, "webhook", [&] { return BuildWebhookPayload(notification, instance_); },
      timeout);
}

}  // namespace poolwatch
