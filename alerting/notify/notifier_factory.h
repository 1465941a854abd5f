#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/notify/dispatcher.h"
#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"
#include "alerting/notify/notify_config.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace poolwatch {

class AlertmanagerNotifier;
class SlackAppNotifier;

// The Notifier::Kind() of every notifier BuildNotifiers can make, as a `notify` list names them.
inline constexpr std::string_view kNotifierKinds[] = {"slack", "webhook", "console",
                                                      "alertmanager"};

// What the notifiers need besides the `notify:` section.
struct NotifierContext {
  std::string instance;       // node identity, named in every message
  std::string generator_url;  // the Alertmanager alerts' generatorURL (see GeneratorUrl)
  LogSink log;                // the Alertmanager re-post failures; empty: StderrLogSink()
  prometheus::Registry* registry = nullptr;  // the Alertmanager re-post metrics; null: none
  // The node's status page (GeneratorUrl) and whether its admin API is on: the Slack app's
  // messages link to them ("" / false: no such links).
  std::string status_url;
  bool admin_api = false;
};

// The notifiers `notify` asks for: Slack and/or the generic webhook, one AlertmanagerNotifier
// per notify.alertmanager_urls entry (named "alertmanager", or "alertmanager-1",
// "alertmanager-2"… when there are several), and the console when none of them is set (so the
// demo shows alerts with no Slack) or when asked for. `alertmanagers`, when given, receives the
// AlertmanagerNotifiers among them (owned by the returned list) for the state file.
// The Slack app notifier, when notify.slack_bot_token is set, instead of the webhook one;
// `slack_app`, when given, receives it (owned by the returned list) for the state file.
std::vector<std::unique_ptr<Notifier>> BuildNotifiers(
    const NotifyConfig& notify, const NotifierContext& context, HttpPoster& poster,
    std::ostream& console, std::vector<AlertmanagerNotifier*>* alertmanagers = nullptr,
    SlackAppNotifier** slack_app = nullptr);

// Why BuildNotifiers would make no notifier of `kind` from `notify` (what to set), or nullptr
// when it would make one: the console is there when asked for or when nothing else is.
const char* NotifierMissing(const NotifyConfig& notify, std::string_view kind);

// The notifier settings (YAML keys, e.g. "notify.slack_webhook_url") that differ between the
// running and a reloaded configuration. The notifiers are built once at start-up, so a reload
// only warns about these; names only, never values: the URLs are secrets.
// notify.default_notifiers is not among them: it is applied to the rules, which do reload.
std::vector<std::string> ChangedNotifierSettings(const NotifyConfig& running,
                                                 const NotifyConfig& fresh);

// The alerts' generatorURL: notify.generator_url, or the node's status page
// http://<instance>:<port>/ from the first listen address; "" when no port can be told (e.g.
// port 0).
std::string GeneratorUrl(const NotifyConfig& notify, const std::string& instance,
                         const std::vector<std::string>& listen_addresses);

}  // namespace poolwatch
