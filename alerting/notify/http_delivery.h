#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"

namespace poolwatch {

// What an API notifier (Slack's Web API) needs besides a webhook's post.
struct JsonPostExtras {
  // Sent as `Authorization: Bearer <token>`; a secret, scrubbed from errors like the URL.
  std::string_view bearer_token;
  // Receives the raw answer (status, body, Retry-After): Slack's Web API says in a 200's body
  // whether the call worked and which message it made. Null: not wanted.
  HttpResult* answer = nullptr;
};

// One delivery attempt of an HTTP notifier (Slack, webhook, Alertmanager): builds and
// serializes the JSON payload, POSTs it to `url`, classifies the answer (ClassifyHttpResult)
// and scrubs the error. `url` is always treated as a secret (Slack's token is its path, an
// Alertmanager URL may carry credentials); `more_secrets` adds others. No error this returns
// contains any of them: what ScrubSecret cannot clean is replaced by a fixed message.
// `receiver` names the payload in errors ("Slack" → "cannot build Slack payload: …").
DeliveryResult PostJsonNotification(HttpPoster& poster, const std::string& url,
                                    std::string_view receiver,
                                    const std::function<nlohmann::json()>& build_payload,
                                    std::chrono::milliseconds timeout,
                                    std::initializer_list<std::string_view> more_secrets = {},
                                    const JsonPostExtras& extras = {});

// `error` with every secret scrubbed; when a secret would still show (e.g. echoed in a form
// ScrubSecret does not know), the whole text is replaced.
std::string ScrubSecrets(std::string error, std::string_view url,
                         std::initializer_list<std::string_view> more_secrets = {});

}  // namespace poolwatch
