#include "alerting/notify/retry_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace poolwatch {
namespace {

using namespace std::chrono_literals;

struct PolicyCase {
  std::string name;
  HttpResult http;
  DeliveryResult::Outcome outcome;
  std::chrono::milliseconds retry_after;
  std::string error_contains;  // "" when no error is expected
};

TEST(ClassifyHttpResult, maps_each_kind_of_answer_to_delivered_retryable_or_permanent) {
  const std::vector<PolicyCase> cases = {
      {"network error",
       {0, "", "", "Connection refused"},
       DeliveryResult::kRetryable,
       0ms,
       "network error: Connection refused"},
      {"timeout",
       {0, "", "", "Operation timed out after 1000 milliseconds"},
       DeliveryResult::kRetryable,
       0ms,
       "timed out"},
      {"slack ok", {200, "ok", "", ""}, DeliveryResult::kDelivered, 0ms, ""},
      {"other 2xx", {204, "", "", ""}, DeliveryResult::kDelivered, 0ms, ""},
      {"redirect", {301, "", "", ""}, DeliveryResult::kPermanent, 0ms, "HTTP 301"},
      {"invalid_payload",
       {400, "invalid_payload", "", ""},
       DeliveryResult::kPermanent,
       0ms,
       "HTTP 400: invalid_payload"},
      {"no_text", {400, "no_text", "", ""}, DeliveryResult::kPermanent, 0ms, "no_text"},
      {"forbidden",
       {403, "invalid_token", "", ""},
       DeliveryResult::kPermanent,
       0ms,
       "HTTP 403: invalid_token"},
      {"channel_not_found",
       {404, "channel_not_found", "", ""},
       DeliveryResult::kPermanent,
       0ms,
       "channel_not_found"},
      {"channel_is_archived",
       {410, "channel_is_archived", "", ""},
       DeliveryResult::kPermanent,
       0ms,
       "channel_is_archived"},
      {"rate limited",
       {429, "rate_limited", "30", ""},
       DeliveryResult::kRetryable,
       30s,
       "HTTP 429: rate_limited"},
      {"rate limited without Retry-After",
       {429, "", "", ""},
       DeliveryResult::kRetryable,
       0ms,
       "HTTP 429"},
      {"server error",
       {500, "internal_error", "", ""},
       DeliveryResult::kRetryable,
       0ms,
       "HTTP 500: internal_error"},
      {"bad gateway",
       {502, "<html>bad gateway</html>", "", ""},
       DeliveryResult::kRetryable,
       0ms,
       "HTTP 502"},
      {"unavailable with Retry-After",
       {503, "", "5", ""},
       DeliveryResult::kRetryable,
       5s,
       "HTTP 503"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    DeliveryResult result = ClassifyHttpResult(c.http);
    EXPECT_EQ(OutcomeName(result.outcome), OutcomeName(c.outcome));
    EXPECT_EQ(result.http_status, c.http.status);
    EXPECT_EQ(result.retry_after, c.retry_after);
    if (c.error_contains.empty()) {
      EXPECT_EQ(result.error, "");
    } else {
      EXPECT_NE(result.error.find(c.error_contains), std::string::npos) << result.error;
    }
  }
}

TEST(ClassifyHttpResult, keeps_a_long_or_multiline_error_body_to_one_short_line) {
  HttpResult http{400, "line one\nline two\r\n" + std::string(1000, 'x'), "", ""};
  DeliveryResult result = ClassifyHttpResult(http);
  EXPECT_EQ(result.error.find('\n'), std::string::npos);
  EXPECT_NE(result.error.find("line one line two"), std::string::npos);
  EXPECT_LT(result.error.size(), 260u);
}

TEST(ParseRetryAfter, reads_delta_seconds_and_ignores_what_it_cannot_read) {
  EXPECT_EQ(ParseRetryAfter("1"), 1s);
  EXPECT_EQ(ParseRetryAfter(" 120 \r\n"), 120s);
  EXPECT_EQ(ParseRetryAfter("0"), 0s);
  EXPECT_EQ(ParseRetryAfter(""), 0s);
  EXPECT_EQ(ParseRetryAfter("-5"), 0s);
  EXPECT_EQ(ParseRetryAfter("1.5"), 0s);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), 0s);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999"), 0s);  // no overflow
}

TEST(FullJitterBackoff, ceiling_doubles_from_the_base_and_stops_at_the_cap) {
  // Just under 1: the draw at the top of the range shows the ceiling itself.
  const double top = 0.999999;
  std::vector<long long> seen;
  for (int retry = 1; retry <= 9; ++retry) {
    seen.push_back(FullJitterBackoff(retry, 1000ms, 60000ms, top).count());
  }
  EXPECT_EQ(seen,
            (std::vector<long long>{999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999}));
}

TEST(FullJitterBackoff, a_draw_lands_anywhere_between_zero_and_the_ceiling) {
  EXPECT_EQ(FullJitterBackoff(3, 1000ms, 60000ms, 0.0), 0ms);
  EXPECT_EQ(FullJitterBackoff(3, 1000ms, 60000ms, 0.5), 2000ms);
  EXPECT_EQ(FullJitterBackoff(3, 1000ms, 60000ms, 0.25), 1000ms);
  for (int retry = 1; retry <= 40; ++retry) {
    for (double u : {0.0, 0.1, 0.5, 0.9, 0.999999}) {
      auto d = FullJitterBackoff(retry, 1000ms, 60000ms, u);
      EXPECT_GE(d, 0ms);
      EXPECT_LE(d, 60000ms);
    }
  }
}

TEST(FullJitterBackoff, survives_huge_retry_counts_and_out_of_range_draws) {
  EXPECT_EQ(FullJitterBackoff(1000000, 1000ms, 60000ms, 0.5), 30000ms);
  EXPECT_EQ(FullJitterBackoff(0, 1000ms, 60000ms, 0.5), 500ms);
  EXPECT_EQ(FullJitterBackoff(2, 1000ms, 60000ms, 7.0), 2000ms);
  EXPECT_EQ(FullJitterBackoff(2, 1000ms, 60000ms, -1.0), 0ms);
}

}  // namespace
}  // namespace poolwatch
