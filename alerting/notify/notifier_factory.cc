#include "alerting/notify/notifier_factory.h"

#include <charconv>

#include "alerting/notify/alertmanager_notifier.h"
#include "alerting/notify/console_notifier.h"
#include "alerting/notify/slack_app_notifier.h"
#include "alerting/notify/slack_notifier.h"
#include "alerting/notify/webhook_notifier.h"

namespace poolwatch {

std::string GeneratorUrl(const NotifyConfig& notify, const std::string& instance,
                         const std::vector<std::string>& listen_addresses) {
  if (!notify.generator_url.empty()) return notify.generator_url;
  if (listen_addresses.empty() || instance.empty()) return "";
  const std::string& listen = listen_addresses.front();
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "";
  int port = 0;
  const char* first = listen.data() + colon + 1;
  const char* last = listen.data() + listen.size();
  auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || end != last || port <= 0) return "";
  // The status page, not /metrics: what an on-call engineer following the alert's link from
  // Alertmanager wants to see (which pool serves, the rules, the last notifications).
  return "http://" + instance + ":" + std::to_string(port) + "/";
}

std::vector<std::string> ChangedNotifierSettings(const NotifyConfig& a, const NotifyConfig& b) {
  std::vector<std::string> changed;
  auto check = [&changed](bool differs, const char* key) {
    if (differs) changed.emplace_back(key);
  };
  check(a.slack_webhook_url != b.slack_webhook_url, "notify.slack_webhook_url");
  check(a.webhook_url != b.webhook_url, "notify.webhook_url");
  check(a.alertmanager_urls != b.alertmanager_urls, "notify.alertmanager_urls");
  check(a.dashboard_url != b.dashboard_url, "notify.dashboard_url");
  check(a.runbook_url != b.runbook_url, "notify.runbook_url");
  check(a.console != b.console, "notify.console");
  check(a.queue_capacity != b.queue_capacity, "notify.queue_capacity");
  check(a.slack_min_interval != b.slack_min_interval, "notify.slack_min_interval");
  check(a.max_attempts != b.max_attempts, "notify.max_attempts");
  check(a.timeout != b.timeout, "notify.timeout");
  check(a.alertmanager_resend_interval != b.alertmanager_resend_interval,
        "notify.alertmanager_resend_interval");
  check(a.generator_url != b.generator_url, "notify.generator_url");
  check(a.slack_bot_token != b.slack_bot_token, "notify.slack_bot_token");
  check(a.slack_channel != b.slack_channel, "notify.slack_channel");
  check(a.slack_api_url != b.slack_api_url, "notify.slack_api_url");
  return changed;
}

std::vector<std::unique_ptr<Notifier>> BuildNotifiers(
    const NotifyConfig& notify, const NotifierContext& context, HttpPoster& poster,
    std::ostream& console, std::vector<AlertmanagerNotifier*>* alertmanagers,
    SlackAppNotifier** slack_app) {
  std::vector<std::unique_ptr<Notifier>> notifiers;
  if (!notify.slack_bot_token.empty()) {
    SlackAppOptions options;
    options.message.dashboard_url = notify.dashboard_url;
    options.message.runbook_url = notify.runbook_url;
    options.message.min_interval = notify.slack_min_interval;
    options.message.instance = context.instance;
    options.message.status_url = context.status_url;
    // The status page's maintenance controls (the admin API behind them).
    if (context.admin_api && !context.status_url.empty()) {
      options.message.maintenance_url = context.status_url + "#maintenance";
    }
    options.api_url = notify.slack_api_url;
    options.channel = notify.slack_channel;
    options.log = context.log;
    options.registry = context.registry;
    auto notifier = std::make_unique<SlackAppNotifier>(notify.slack_bot_token, poster, options);
    if (slack_app != nullptr) *slack_app = notifier.get();
    notifiers.push_back(std::move(notifier));
  }
  if (!notify.slack_webhook_url.empty()) {
    SlackOptions options;
    options.dashboard_url = notify.dashboard_url;
    options.runbook_url = notify.runbook_url;
    options.min_interval = notify.slack_min_interval;
    options.instance = context.instance;
    notifiers.push_back(std::make_unique<SlackNotifier>(notify.slack_webhook_url, poster, options));
  }
  if (!notify.webhook_url.empty()) {
    notifiers.push_back(
        std::make_unique<WebhookNotifier>(notify.webhook_url, poster, "webhook", context.instance));
  }
  for (size_t i = 0; i < notify.alertmanager_urls.size(); ++i) {
    AlertmanagerOptions options;
    options.instance = context.instance;
    options.generator_url = context.generator_url;
    options.runbook_url = notify.runbook_url;
    options.resend_interval = notify.alertmanager_resend_interval;
    options.resend_timeout = notify.timeout;
    if (notify.alertmanager_urls.size() > 1) {
      // Appended in two steps: `"-" + std::to_string(…)` trips GCC 12's false -Wrestrict.
      options.name += '-';
      options.name += std::to_string(i + 1);
    }
    options.log = context.log;
    options.registry = context.registry;
    auto notifier =
        std::make_unique<AlertmanagerNotifier>(notify.alertmanager_urls[i], poster, options);
    if (alertmanagers != nullptr) alertmanagers->push_back(notifier.get());
    notifiers.push_back(std::move(notifier));
  }
  if (notifiers.empty() || notify.console) {
    notifiers.push_back(std::make_unique<ConsoleNotifier>(console, context.instance));
  }
  return notifiers;
}

const char* NotifierMissing(const NotifyConfig& notify, std::string_view kind) {
  if (kind == "slack" && notify.slack_webhook_url.empty() && notify.slack_bot_token.empty()) {
    return "set notify.slack_webhook_url or SLACK_WEBHOOK_URL";
  }
  if (kind == "webhook" && notify.webhook_url.empty()) {
    return "set notify.webhook_url or POOLWATCH_WEBHOOK_URL";
  }
  if (kind == "alertmanager" && notify.alertmanager_urls.empty()) {
    return "set notify.alertmanager_urls or POOLWATCH_ALERTMANAGER_URLS";
  }
  const bool console =
      notify.console || (notify.slack_webhook_url.empty() && notify.webhook_url.empty() &&
                         notify.alertmanager_urls.empty() && notify.slack_bot_token.empty());
  if (kind == "console" && !console) {
    return "set notify.console: true; it is only on by itself when no other notifier is set";
  }
  return nullptr;
}

}  // namespace poolwatch
