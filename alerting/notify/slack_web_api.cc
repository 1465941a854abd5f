#include "alerting/notify/slack_web_api.h"

#include <nlohmann/json.hpp>

#include "alerting/notify/retry_policy.h"

namespace poolwatch {
namespace {

// Slack's own "try again later" answers, besides rate limiting.
bool TransientSlackError(std::string_view error) {
  return error == "internal_error" || error == "fatal_error" || error == "service_unavailable" ||
         error == "request_timeout";
}

std::chrono::milliseconds RetryAfterOrOneSecond(const HttpResult& answer) {
  std::chrono::milliseconds wait = ParseRetryAfter(answer.retry_after);
  return wait.count() > 0 ? wait : std::chrono::milliseconds(1000);
}

}  // namespace

std::string SlackApiMethodUrl(std::string_view base, std::string_view method) {
  std::string url(base);
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += '/';
  url += method;
  return url;
}

SlackApiAnswer ClassifySlackApiAnswer(std::string_view method, const DeliveryResult& http,
                                      const HttpResult& answer) {
  SlackApiAnswer out;
  out.result = http;
  const std::string prefix = std::string(method) + ": ";
  if (answer.status == 429) {
    out.error = "ratelimited";
    out.result.outcome = DeliveryResult::kRetryable;
    out.result.retry_after = RetryAfterOrOneSecond(answer);
    out.result.error = prefix + "rate limited (HTTP 429)";
    return out;
  }
  if (http.outcome != DeliveryResult::kDelivered) {
    out.result.error = prefix + http.error;
    return out;
  }
  nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("ok") || !body["ok"].is_boolean()) {
    out.result.outcome = DeliveryResult::kPermanent;
    out.result.error =
        prefix + "the answer is not a Slack Web API answer (check notify.slack_api_url)";
    return out;
  }
  if (body["ok"].get<bool>()) {
    out.channel = body.value("channel", "");
    out.ts = body.value("ts", "");
    return out;
  }
  out.error = body.contains("error") && body["error"].is_string() ? body["error"].get<std::string>()
                                                                  : "unknown_error";
  if (body.contains("needed") && body["needed"].is_string()) {
    out.needed = body["needed"].get<std::string>();
  }
  out.result.error = prefix + out.error;
  if (!out.needed.empty()) out.result.error += " (the token needs the scope " + out.needed + ")";
  if (out.error == "ratelimited") {
    out.result.outcome = DeliveryResult::kRetryable;
    out.result.retry_after = RetryAfterOrOneSecond(answer);
  } else if (TransientSlackError(out.error)) {
    out.result.outcome = DeliveryResult::kRetryable;
  } else {
    out.result.outcome = DeliveryResult::kPermanent;
    out.message_gone = out.error == "message_not_found" || out.error == "cant_update_message";
  }
  return out;
}

}  // namespace poolwatch
