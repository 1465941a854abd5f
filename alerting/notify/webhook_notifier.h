#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "alerting/notification.h"
#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"

namespace poolwatch {

// The generic webhook body: {"rule", "status": "firing"|"resolved", "labels": {…}, "severity",
// "title", "summary", "fields": [{"name", "value"}…] (in order), "action", "at" (RFC 3339 UTC),
// "suppressed", "text" (Notification::Text()), "instance" (the sending node; "" when unset)}.
nlohmann::json BuildWebhookPayload(const Notification& notification,
                                   const std::string& instance = "");

// POSTs BuildWebhookPayload as application/json to any receiver; any 2xx is success and the
// same retry policy as Slack applies. The URL is treated as a secret like Slack's.
class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(std::string url, HttpPoster& poster, std::string name = "webhook",
                  std::string instance = "");

  std::string_view Name() const override { return name_; }
  std::string_view Kind() const override { return "webhook"; }
  std::string Destination() const override;  // "webhook https://host/<redacted>"
  DeliveryResult Send(const Notification& notification, std::chrono::milliseconds timeout) override;

 private:
  std::string url_;
  HttpPoster& poster_;
  std::string name_;
  std::string instance_;
};

}  // namespace poolwatch
