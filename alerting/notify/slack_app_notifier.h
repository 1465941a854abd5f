#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/notification.h"
#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"
#include "alerting/notify/slack_incident.h"
#include "alerting/notify/slack_notifier.h"
#include "alerting/notify/slack_web_api.h"

namespace prometheus {
class Counter;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace poolwatch {

struct SlackAppOptions {
  SlackOptions message;  // links, instance, name ("slack"), min_interval between Sends
  std::string api_url = std::string(kSlackDefaultApiUrl);
  std::string channel;  // where incidents start: "#ops", "C0123…"
  // Rejections by Slack (invalid_auth, missing_scope …) are logged here, once per error code.
  std::function<void(std::string_view line)> log;
  // Self-metric, when set: poolwatch_slack_api_rejections_total{notifier,error}.
  prometheus::Registry* registry = nullptr;
};

// The payload of the top message of an incident: the webhook's (BuildSlackPayload, with its
// limits) plus `channel`, and `ts` when it updates an existing message.
nlohmann::json BuildSlackAppTopMessage(const Notification& notification,
                                       const SlackAppOptions& options, const SlackPlan& plan,
                                       const std::string& channel, const std::string& ts = "");
// A reply in the thread of `thread`'s top message: plain mrkdwn text, within Slack's limits.
nlohmann::json BuildSlackAppReply(const SlackThread& thread, const std::string& reply);

// Slack through a Slack app's bot token and the Web API: one message per incident, updated in
// place, with a thread of what happened (PlanSlackDelivery decides which).
//
// - A firing with no open incident posts a top message (chat.postMessage); its channel and ts
//   are kept (ExportThreads: the state file) until the incident resolves.
// - Every later event of the incident updates the top message (chat.update: colour, emoji,
//   current values, "Firing for 12 min" / "Resolved after 12 min") and then posts a reply in
//   its thread; so do the transitions the cooldown holds back (a flap). When the update fails the
//   reply is not posted; the dispatcher's retry updates again (an update is idempotent) and then
//   replies, so a reply is posted once it is due.
// - message_not_found / cant_update_message: the top message is gone, a new one is posted and
//   the incident carries on under it.
// - Rejections (invalid_auth, missing_scope, not_in_channel …) are permanent failures: the
//   dispatcher records them (status page) and this logs Slack's error, with the scope needed,
//   once per error code, and counts each.
// - An incident note (maintenance started or ended) is a reply in the thread of every open
//   incident; a retry skips the threads that already have it.
// Every notification adds to the thread, so none may be superseded (NeedsEveryNotification).
//
// The bot token is a secret: it leaves this class only inside the Authorization header.
// Thread-safe: Send is called by one thread at a time (the dispatcher's worker); ExportThreads
// and ImportThreads may be called from any thread and never wait for a call on the wire.
class SlackAppNotifier final : public Notifier {
 public:
  SlackAppNotifier(std::string bot_token, HttpPoster& poster, SlackAppOptions options);

  std::string_view Name() const override { return options_.message.name; }
  std::string_view Kind() const override { return "slack"; }
  // It is also sent the transitions the cooldown holds back: a flap goes into the thread.
  bool MirrorsState() const override { return true; }
  bool NeedsEveryNotification() const override { return true; }
  // "slack app #ops via https://slack.com/<redacted>"
  std::string Destination() const override;
  std::chrono::milliseconds MinInterval() const override { return options_.message.min_interval; }
  DeliveryResult Send(const Notification& notification, std::chrono::milliseconds timeout) override;

  // The known incidents (open, and resolved within kSlackKeepResolved), in key order, for the
  // state file.
  std::vector<SlackThread> ExportThreads() const;
  // At start-up, with what ExportThreads() returned before the restart: their later events
  // update the same messages. An incident already known keeps its own.
  void ImportThreads(const std::vector<SlackThread>& threads);

 private:
  SlackApiAnswer Call(std::string_view method, const nlohmann::json& payload,
                      std::chrono::milliseconds timeout);
  DeliveryResult Failed(const SlackApiAnswer& answer);
  void Store(const std::string& key, const SlackThread& thread, TimePoint now);
  DeliveryResult SendNote(const Notification& note, std::chrono::milliseconds timeout);

  std::string bot_token_;  // secret
  HttpPoster& poster_;
  SlackAppOptions options_;
  prometheus::Family<prometheus::Counter>* rejections_ = nullptr;

  mutable std::mutex mu_;
  std::map<std::string, SlackThread> threads_;  // known incidents by Notification::Key()
  std::set<std::string> logged_errors_;         // Slack error codes already logged
  // The note being sent (its Text() and time) and the incidents that already have it; only
  // Send's thread uses these.
  std::string note_in_progress_;
  std::set<std::string> note_done_;
};

}  // namespace poolwatch
