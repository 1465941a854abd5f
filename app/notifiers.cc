#include "app/notifiers.h"

#include <charconv>

#include "alerting/notify/alertmanager_notifier.h"
#include "alerting/notify/console_notifier.h"
#include "alerting/notify/slack_notifier.h"
#include "alerting/notify/webhook_notifier.h"
#include "app/logger.h"

namespace poolwatch {

std::string GeneratorUrl(const Config& config) {
  if (!config.notify.generator_url.empty()) return config.notify.generator_url;
  if (config.listen_addresses.empty() || config.instance.empty()) return "";
  const std::string& listen = config.listen_addresses.front();
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "";
  int port = 0;
  const char* first = listen.data() + colon + 1;
  const char* last = listen.data() + listen.size();
  auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || end != last || port <= 0) return "";
  // The status page, not /metrics: what an on-call engineer following the alert's link from
  // Alertmanager wants to see (which pool serves, the rules, the last notifications).
  return "http://" + config.instance + ":" + std::to_string(port) + "/";
}

std::vector<std::string> ChangedNotifierSettings(const Config& running, const Config& fresh) {
  const NotifyConfig& a = running.notify;
  const NotifyConfig& b = fresh.notify;
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
  check(running.instance != fresh.instance, "instance");
  return changed;
}

std::vector<std::unique_ptr<Notifier>> BuildNotifiers(
    const Config& config, HttpPoster& poster, std::ostream& console, prometheus::Registry* registry,
    std::vector<AlertmanagerNotifier*>* alertmanagers) {
  const NotifyConfig& notify = config.notify;
  std::vector<std::unique_ptr<Notifier>> notifiers;
  if (!notify.slack_webhook_url.empty()) {
    SlackOptions options;
    options.dashboard_url = notify.dashboard_url;
    options.runbook_url = notify.runbook_url;
    options.min_interval = notify.slack_min_interval;
    options.instance = config.instance;
    notifiers.push_back(std::make_unique<SlackNotifier>(notify.slack_webhook_url, poster, options));
  }
  if (!notify.webhook_url.empty()) {
    notifiers.push_back(
        std::make_unique<WebhookNotifier>(notify.webhook_url, poster, "webhook", config.instance));
  }
  const std::string generator_url = GeneratorUrl(config);
  for (size_t i = 0; i < notify.alertmanager_urls.size(); ++i) {
    AlertmanagerOptions options;
    options.instance = config.instance;
    options.generator_url = generator_url;
    options.runbook_url = notify.runbook_url;
    options.resend_interval = notify.alertmanager_resend_interval;
    options.resend_timeout = notify.timeout;
    if (notify.alertmanager_urls.size() > 1) {
      // Appended in two steps: `"-" + std::to_string(…)` trips GCC 12's false -Wrestrict.
      options.name += '-';
      options.name += std::to_string(i + 1);
    }
    options.log = [](std::string_view line) { LogWarn(line); };
    options.registry = registry;
    auto notifier =
        std::make_unique<AlertmanagerNotifier>(notify.alertmanager_urls[i], poster, options);
    if (alertmanagers != nullptr) alertmanagers->push_back(notifier.get());
    notifiers.push_back(std::move(notifier));
  }
  if (notifiers.empty() || notify.console) {
    notifiers.push_back(std::make_unique<ConsoleNotifier>(console, config.instance));
  }
  return notifiers;
}

}  // namespace poolwatch
