#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace poolwatch {

// The `notify:` section of the configuration: where alerts go. With neither URL set, alerts are
// printed on the console.
struct NotifyConfig {
  std::string slack_webhook_url;  // secret: never log it (RedactUrl)
  std::string webhook_url;        // generic JSON webhook; also a secret
  std::string dashboard_url;      // linked from Slack messages when set
  std::string runbook_url;
  bool console = false;  // also print to stdout when a webhook is set
  size_t queue_capacity = 1000;
  std::chrono::milliseconds slack_min_interval{1000};  // Slack allows ~1 message/s per webhook
  int max_attempts = 8;
  std::chrono::milliseconds timeout{10000};

  // Fleet mode: alerts also (or only, with no Slack URL) go to these Alertmanagers, each
  // POSTed on its own (`<url>/api/v2/alerts`; a URL already ending in /api/v2/alerts is used
  // as is). Env POOLWATCH_ALERTMANAGER_URLS, comma-separated. May hold basic-auth user info:
  // shown redacted only.
  std::vector<std::string> alertmanager_urls;
  // Still-firing alerts are re-posted this often; each post says the alert ends 4 intervals
  // later, so Alertmanager resolves them by itself if poolwatch stops.
  std::chrono::milliseconds alertmanager_resend_interval{60000};
  // Which notifiers get the alerts of a rule with no `notify` list of its own, by kind:
  // "slack", "webhook", "console", "alertmanager". Empty: every configured notifier. Env
  // POOLWATCH_DEFAULT_NOTIFIERS, comma-separated. Applied to the rules when loading.
  std::vector<std::string> default_notifiers;
  // The alerts' generatorURL; "" derives the status page, http://<instance>:<port>/.
  std::string generator_url;

  // Slack app mode (issue 16), instead of slack_webhook_url: one message per incident, updated
  // in place, with a thread. Token: notify.slack_bot_token(_file) or SLACK_BOT_TOKEN, a
  // secret (sent only as Authorization: Bearer); channel: notify.slack_channel or SLACK_CHANNEL.
  std::string slack_bot_token;
  std::string slack_channel;
  std::string slack_api_url = "https://slack.com/api";  // tests: a local stand-in
};

}  // namespace poolwatch
