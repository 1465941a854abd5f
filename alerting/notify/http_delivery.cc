#include "alerting/notify/http_delivery.h"

#include <utility>

#include "alerting/notify/redact.h"
#include "alerting/notify/retry_policy.h"

namespace poolwatch {
namespace {

bool Contains(std::string_view text, std::string_view secret) {
  return !secret.empty() && text.find(secret) != std::string_view::npos;
}

}  // namespace

std::string ScrubSecrets(std::string error, std::string_view url,
                         std::initializer_list<std::string_view> more_secrets) {
  error = ScrubSecret(std::move(error), url);
  for (std::string_view secret : more_secrets) error = ScrubSecret(std::move(error), secret);
  // ScrubSecret replaces what it recognizes; this is the guarantee for everything else.
  bool leaks = Contains(error, url);
  for (std::string_view secret : more_secrets) leaks = leaks || Contains(error, secret);
  if (leaks) return "the error text was withheld: it contained a secret";
  return error;
}

DeliveryResult PostJsonNotification(HttpPoster& poster, const std::string& url,
                                    std::string_view receiver,
                                    const std::function<nlohmann::json()>& build_payload,
                                    std::chrono::milliseconds timeout,
                                    std::initializer_list<std::string_view> more_secrets,
                                    const JsonPostExtras& extras) {
  std::string body;
  try {
    // Invalid UTF-8 from a log line becomes U+FFFD instead of failing the whole alert.
    body = build_payload().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception& e) {
    DeliveryResult failed;
    failed.outcome = DeliveryResult::kPermanent;
    failed.error = ScrubSecrets("cannot build " + std::string(receiver) + " payload: " + e.what(),
                                url, more_secrets);
    failed.error = ScrubSecrets(std::move(failed.error), extras.bearer_token);
    return failed;
  }
  HttpResult answer;
  if (extras.bearer_token.empty()) {
    answer = poster.Post(url, body, "application/json", timeout);
  } else {
    // Slack's Web API wants the charset named, or it warns in every answer.
    answer = poster.PostWithBearer(url, body, "application/json; charset=utf-8",
                                   std::string(extras.bearer_token), timeout);
  }
  DeliveryResult result = ClassifyHttpResult(answer);
  result.error = ScrubSecrets(std::move(result.error), url, more_secrets);
  result.error = ScrubSecrets(std::move(result.error), extras.bearer_token);
  if (extras.answer != nullptr) *extras.answer = std::move(answer);
  return result;
}

}  // namespace poolwatch
