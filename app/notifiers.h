#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"
#include "config/config.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace poolwatch {

class AlertmanagerNotifier;

// The notifiers the configuration asks for: Slack and/or the generic webhook, one
// AlertmanagerNotifier per notify.alertmanager_urls entry (named "alertmanager", or
// "alertmanager-1", "alertmanager-2"… when there are several), and the console when none of
// them is set (so the demo shows alerts with no Slack) or when asked for. Alertmanager alerts
// carry config.instance; their re-post failures go to the daemon's log and `registry`.
// `alertmanagers`, when given, receives the AlertmanagerNotifiers among them (owned by the
// returned list) for the state file.
std::vector<std::unique_ptr<Notifier>> BuildNotifiers(
    const Config& config, HttpPoster& poster, std::ostream& console,
    prometheus::Registry* registry = nullptr,
    std::vector<AlertmanagerNotifier*>* alertmanagers = nullptr);

// The notifier settings (YAML keys, e.g. "notify.slack_webhook_url") that differ between the
// running and a reloaded configuration. The notifiers are built once at start-up, so a reload
// only warns about these; names only, never values: the URLs are secrets.
// notify.default_notifiers is not among them: it is applied to the rules, which do reload.
std::vector<std::string> ChangedNotifierSettings(const Config& running, const Config& fresh);

// The alerts' generatorURL: notify.generator_url, or the node's status page
// http://<instance>:<port>/ from the listen address; "" when no port can be told (e.g. port 0).
std::string GeneratorUrl(const Config& config);

}  // namespace poolwatch
