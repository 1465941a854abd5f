#pragma once

#include <chrono>
#include <string_view>

#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"

namespace poolwatch {

// The status → retryable policy for HTTP receivers, in one place (Alertmanager's
// `RetryStatusCodes`): a network error, 5xx and 429 may succeed later, and honour Retry-After;
// any other non-2xx means the request itself is wrong (Slack: 400 invalid_payload,
// 404 channel_not_found, 410 channel_is_archived, 403 …) and retrying only repeats the error.
// The error text carries the receiver's body, which is where Slack says what is wrong.
// It is not scrubbed here: callers that know a secret URL pass the error through ScrubSecret.
DeliveryResult ClassifyHttpResult(const HttpResult& result);

// Retry-After in delta-seconds ("120") → milliseconds; 0 for absent or unparsable values
// (HTTP-dates are not used by Slack; the caller then falls back to its own backoff).
std::chrono::milliseconds ParseRetryAfter(std::string_view value);

// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
// Jitter"): a uniformly random wait in [0, min(cap, base·2^(retry−1))]. `retry` counts from 1
// (the wait before the second attempt); `unit_random` is a draw from [0, 1), passed in so the
// function is pure. Full jitter spreads out many senders that failed at the same moment.
std::chrono::milliseconds FullJitterBackoff(int retry, std::chrono::milliseconds base,
                                            std::chrono::milliseconds cap, double unit_random);

}  // namespace poolwatch
