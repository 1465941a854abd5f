#include "alerting/notify/slack_app_notifier.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <optional>
#include <utility>

#include "alerting/notify/http_delivery.h"
#include "alerting/notify/redact.h"

namespace poolwatch {

using nlohmann::json;

namespace {

// The metric label for a refusal: Slack's documented codes as they are, anything else "other",
// so the label set stays bounded and an answer cannot put arbitrary text into /metrics.
std::string RejectionLabel(const std::string& error) {
  static constexpr std::string_view kKnown[] = {
      "not_in_channel",    "channel_not_found",   "invalid_auth",      "token_revoked",
      "missing_scope",     "account_inactive",    "not_authed",        "is_archived",
      "invalid_blocks",    "msg_too_long",        "no_text",           "restricted_action",
      "invalid_arguments", "cant_update_message", "message_not_found", "edit_window_closed"};
  for (std::string_view known : kKnown) {
    if (error == known) return error;
  }
  return "other";
}

}  // namespace

json BuildSlackAppTopMessage(const Notification& n, const SlackAppOptions& options,
                             const SlackPlan& plan, const std::string& channel,
                             const std::string& ts) {
  json payload = BuildSlackPayload(n, options.message, plan.status_line);
  payload["channel"] = channel;
  if (!ts.empty()) payload["ts"] = ts;
  return payload;
}

json BuildSlackAppReply(const SlackThread& thread, const std::string& reply) {
  return {{"channel", thread.channel},
          {"thread_ts", thread.ts},
          {"text", TruncateForSlack(reply, kSlackMaxFallbackText)}};
}

SlackAppNotifier::SlackAppNotifier(std::string bot_token, HttpPoster& poster,
                                   SlackAppOptions options)
    : bot_token_(std::move(bot_token)), poster_(poster), options_(std::move(options)) {
  if (options_.registry != nullptr) {
    rejections_ = &prometheus::BuildCounter()
                       .Name("poolwatch_slack_api_rejections_total")
                       .Help(
                           "Slack Web API calls refused for good (invalid_auth, missing_scope, "
                           "not_in_channel …), by Slack's error code")
                       .Register(*options_.registry);
  }
}

std::string SlackAppNotifier::Destination() const {
  return options_.message.name + " app " + options_.channel + " via " + RedactUrl(options_.api_url);
}

SlackApiAnswer SlackAppNotifier::Call(std::string_view method, const json& payload,
                                      std::chrono::milliseconds timeout) {
  const std::string url = SlackApiMethodUrl(options_.api_url, method);
  HttpResult answer;
  JsonPostExtras extras;
  extras.bearer_token = bot_token_;
  extras.answer = &answer;
  DeliveryResult http = PostJsonNotification(
      poster_, url, "Slack", [&payload] { return payload; }, timeout, {}, extras);
  SlackApiAnswer out = ClassifySlackApiAnswer(method, http, answer);
  // Slack's error code comes from the answer: a hostile endpoint could echo the token.
  out.result.error = ScrubSecrets(std::move(out.result.error), bot_token_);
  return out;
}

DeliveryResult SlackAppNotifier::Failed(const SlackApiAnswer& answer) {
  if (answer.result.outcome != DeliveryResult::kPermanent) return answer.result;
  const std::string code = RejectionLabel(answer.error);
  if (rejections_ != nullptr) {
    rejections_->Add({{"notifier", options_.message.name}, {"error", code}}).Increment();
  }
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    first = logged_errors_.insert(code).second;
  }
  if (first && options_.log) {
    std::string line =
        "notify: " + options_.message.name + ": Slack refused the call: " + answer.result.error;
    if (!answer.needed.empty()) {
      line += "; add the scope " + answer.needed + " to the app and reinstall it";
    } else if (code == "not_in_channel") {
      line += "; invite the app to " + options_.channel + " or give it chat:write.public";
    }
    line += " (logged once per error; every refused notification is on the status page)";
    options_.log(line);
  }
  return answer.result;
}

void SlackAppNotifier::Store(const std::string& key, const SlackThread& thread, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  threads_[key] = thread;
  // Resolved incidents are kept for flaps only so long: the map stays bounded.
  for (auto it = threads_.begin(); it != threads_.end();) {
    const bool stale = it->second.resolved && it->second.resolved_at + kSlackKeepResolved < now;
    it = stale ? threads_.erase(it) : std::next(it);
  }
}

DeliveryResult SlackAppNotifier::SendNote(const Notification& note,
                                          std::chrono::milliseconds timeout) {
  const std::string id = FormatRfc3339(note.at) + " " + note.Text();
  if (id != note_in_progress_) {
    note_in_progress_ = id;
    note_done_.clear();
  }
  const std::string reply = SlackNoteReply(note);
  DeliveryResult result;
  for (const SlackThread& thread : ExportThreads()) {
    if (thread.resolved || note_done_.count(thread.key) > 0) continue;
    SlackApiAnswer replied = Call("chat.postMessage", BuildSlackAppReply(thread, reply), timeout);
    if (replied.result.outcome == DeliveryResult::kRetryable) return Failed(replied);
    // A thread that refuses (its message deleted …) must not hold back the others' note.
    if (replied.result.outcome != DeliveryResult::kDelivered) result = Failed(replied);
    note_done_.insert(thread.key);
  }
  return result;
}

DeliveryResult SlackAppNotifier::Send(const Notification& n, std::chrono::milliseconds timeout) {
  if (n.incident_note) return SendNote(n, timeout);
  const std::string key = n.Key();
  std::optional<SlackThread> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = threads_.find(key); it != threads_.end()) open = it->second;
  }
  const SlackPlan plan = PlanSlackDelivery(open ? &*open : nullptr, n);
  if (plan.skip) return DeliveryResult::NothingToSend();

  if (plan.post_top) {
    SlackApiAnswer posted = Call(
        "chat.postMessage", BuildSlackAppTopMessage(n, options_, plan, options_.channel), timeout);
    if (posted.result.outcome != DeliveryResult::kDelivered) return Failed(posted);
    SlackThread next = AdvanceSlackThread(nullptr, n, plan);
    next.channel = posted.channel.empty() ? options_.channel : posted.channel;
    next.ts = posted.ts;
    Store(key, next, n.at);
    return posted.result;
  }

  SlackThread thread = *open;
  SlackApiAnswer updated =
      Call("chat.update", BuildSlackAppTopMessage(n, options_, plan, thread.channel, thread.ts),
           timeout);
  if (updated.message_gone) {
    // Deleted by someone, or too old to edit: the incident carries on under a new message.
    SlackApiAnswer posted = Call(
        "chat.postMessage", BuildSlackAppTopMessage(n, options_, plan, thread.channel), timeout);
    if (posted.result.outcome != DeliveryResult::kDelivered) return Failed(posted);
    if (options_.log) {
      options_.log("notify: " + options_.message.name + ": the top message of " + key + " (" +
                   updated.error + ") was replaced by a new one");
    }
    if (!posted.channel.empty()) thread.channel = posted.channel;
    thread.ts = posted.ts;
    Store(key, thread, n.at);  // a retry of the reply below must update the new message
  } else if (updated.result.outcome != DeliveryResult::kDelivered) {
    return Failed(updated);
  }
  SlackApiAnswer replied =
      Call("chat.postMessage", BuildSlackAppReply(thread, plan.reply), timeout);
  if (replied.result.outcome != DeliveryResult::kDelivered) return Failed(replied);
  SlackThread next = AdvanceSlackThread(&thread, n, plan);
  Store(key, next, n.at);
  return replied.result;
}

std::vector<SlackThread> SlackAppNotifier::ExportThreads() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SlackThread> out;
  out.reserve(threads_.size());
  for (const auto& [key, thread] : threads_) out.push_back(thread);
  return out;
}

void SlackAppNotifier::ImportThreads(const std::vector<SlackThread>& threads) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const SlackThread& thread : threads) threads_.try_emplace(thread.key, thread);
}

}  // namespace poolwatch
