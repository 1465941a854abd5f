#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "alerting/notification.h"
#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"

namespace poolwatch {

// Slack's documented limits, enforced by BuildSlackPayload (sizes counted in bytes, which is
// never less than Slack's character count, so staying under them in bytes is safe).
inline constexpr size_t kSlackMaxBlocks = 50;
inline constexpr size_t kSlackMaxSectionText = 3000;
inline constexpr size_t kSlackMaxFieldText = 2000;
inline constexpr size_t kSlackMaxFieldsPerSection = 10;
inline constexpr size_t kSlackMaxHeaderText = 150;
inline constexpr size_t kSlackMaxContextElements = 10;
inline constexpr size_t kSlackMaxFallbackText = 3000;  // top-level `text`
inline constexpr const char* kSlackColorFiring = "#d00000";
inline constexpr const char* kSlackColorResolved = "#2eb886";

struct SlackOptions {
  std::string dashboard_url;  // optional Grafana link
  // Optional runbook link; "{rule}" is replaced by the rule name so each alert can point at
  // its own section, e.g. "https://git.example/ops/runbook.md#{rule}".
  std::string runbook_url;
  // Slack accepts about one message per second per webhook and answers 429 beyond that.
  std::chrono::milliseconds min_interval{1000};
  std::string name = "slack";  // metric label
  // The sending node (Config::instance), shown as an "Instance" field so that messages from
  // several nodes in one channel can be told apart; "" shows none.
  std::string instance;
  // The node's status page and, when the admin API is on, where to set maintenance; linked
  // next to the dashboard and runbook when set (the Slack app notifier sets them).
  std::string status_url;
  std::string maintenance_url;
};

// Escapes Slack mrkdwn's control characters (&, <, >) as &amp; &lt; &gt;, so that a value such
// as "<!channel>" or "<https://evil|click>" is shown as typed instead of pinging or linking.
std::string EscapeSlackMrkdwn(std::string_view text);

// `text` cut to at most `max_bytes` bytes, ending in "…" when cut, never in the middle of a
// UTF-8 sequence or of an "&amp;"-style entity.
std::string TruncateForSlack(std::string_view text, size_t max_bytes);

// The incoming-webhook payload: a top-level `text` headline ("🚨 FAILOVER: Pool failover
// detected!", shown above the attachment and in notifications) plus one coloured attachment
// holding blocks — header, a section with the summary and one mrkdwn field
// per Notification field (10 per section), a context line with alert key, time, action and
// suppressed count (and `status_line`, when given: the Slack app's "Firing for 12 min"), and
// links to the dashboard, runbook, status page and maintenance when configured. Colour is only
// possible in attachments. Every user-controlled string is mrkdwn-escaped; serialize with
// nlohmann's error_handler_t::replace so invalid UTF-8 in a label cannot make dump() throw.
nlohmann::json BuildSlackPayload(const Notification& notification, const SlackOptions& options,
                                 std::string_view status_line = {});

// Posts to a Slack incoming webhook through an HttpPoster (which must outlive it).
class SlackNotifier final : public Notifier {
 public:
  SlackNotifier(std::string webhook_url, HttpPoster& poster, SlackOptions options = {});

  std::string_view Name() const override { return options_.name; }
  std::string_view Kind() const override { return "slack"; }
  std::string Destination() const override;  // "slack https://hooks.slack.com/<redacted>"
  std::chrono::milliseconds MinInterval() const override { return options_.min_interval; }
  DeliveryResult Send(const Notification& notification, std::chrono::milliseconds timeout) override;

 private:
  std::string webhook_url_;  // secret: only ever leaves this class inside Post()
  HttpPoster& poster_;
  SlackOptions options_;
};

}  // namespace poolwatch
