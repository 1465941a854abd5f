#pragma once

#include <string>
#include <string_view>

#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"

namespace poolwatch {

// Slack's Web API base URL; notify.slack_api_url replaces it (tests: a local stand-in).
inline constexpr std::string_view kSlackDefaultApiUrl = "https://slack.com/api";

// `<base>/<method>` ("https://slack.com/api/chat.postMessage"), whatever trailing slash the
// base has.
std::string SlackApiMethodUrl(std::string_view base, std::string_view method);

// What one Web API call came to. Slack answers most failures with HTTP 200 and a JSON body
// {"ok": false, "error": "…"}, so the HTTP classification alone would call them delivered.
struct SlackApiAnswer {
  DeliveryResult result;  // kDelivered only for {"ok": true}
  std::string error;      // Slack's error code ("ratelimited", "missing_scope"); "" when ok
  std::string needed;     // missing_scope: the scope the token lacks ("chat:write")
  std::string channel;    // ok: the channel ID the message is in ("C0123…")
  std::string ts;         // ok: the message's timestamp, its ID within the channel
  // message_not_found / cant_update_message: the message to update is gone or no longer
  // editable; the caller posts a new one instead of failing.
  bool message_gone = false;
};

// Classifies the answer to a Web API call (`http`: PostJsonNotification's verdict on the HTTP
// level; `answer`: the raw response):
// - HTTP 429, or ok:false with `ratelimited`: retryable after Retry-After (1 s when absent:
//   chat.postMessage's documented pace is about one message per second per channel).
// - transport errors and 5xx: retryable (as ClassifyHttpResult); so are Slack's own
//   `internal_error`, `fatal_error`, `service_unavailable`, `request_timeout`.
// - `message_not_found`, `cant_update_message`: message_gone (kPermanent until handled).
// - everything else with ok:false (`not_in_channel`, `channel_not_found`, `invalid_auth`,
//   `token_revoked`, `missing_scope`, `invalid_blocks` …): permanent, the error naming Slack's
//   code and, for missing_scope, the scope needed.
// - a 200 whose body is not a Web API answer: permanent (a wrong notify.slack_api_url).
// Pure: no secret is added to the error; the caller scrubs it anyway.
SlackApiAnswer ClassifySlackApiAnswer(std::string_view method, const DeliveryResult& http,
                                      const HttpResult& answer);

}  // namespace poolwatch
