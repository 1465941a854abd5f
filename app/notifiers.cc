#include "app/notifiers.h"

#include "alerting/notify/console_notifier.h"
#include "alerting/notify/slack_notifier.h"
#include "alerting/notify/webhook_notifier.h"

namespace poolwatch {

std::vector<std::unique_ptr<Notifier>> BuildNotifiers(const NotifyConfig& config,
                                                      HttpPoster& poster, std::ostream& console) {
  std::vector<std::unique_ptr<Notifier>> notifiers;
  if (!config.slack_webhook_url.empty()) {
    SlackOptions options;
    options.dashboard_url = config.dashboard_url;
    options.runbook_url = config.runbook_url;
    options.min_interval = config.slack_min_interval;
    notifiers.push_back(
        std::make_unique<SlackNotifier>(config.slack_webhook_url, poster, options));
  }
  if (!config.webhook_url.empty()) {
    notifiers.push_back(std::make_unique<WebhookNotifier>(config.webhook_url, poster));
  }
  if (notifiers.empty() || config.console) {
    notifiers.push_back(std::make_unique<ConsoleNotifier>(console));
  }
  return notifiers;
}

}  // namespace poolwatch
