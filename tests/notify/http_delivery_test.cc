#include "alerting/notify/http_delivery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/notify/notify_fakes.h"

namespace poolwatch {
namespace {

using testing::FakePoster;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUrl[] =
    "https://user:hunter22@hooks.example.com/services/T0001/B0002/XyZsecretToken9";
constexpr char kToken[] = "XyZsecretToken9";

nlohmann::json Payload() { return {{"text", "pool blue failed over"}}; }

struct Case {
  const char* name;
  HttpResult answer;
  DeliveryResult::Outcome outcome;
  long status;
  const char* error_has;  // "" : no error expected
};

TEST(PostJsonNotification, classifies_every_answer_and_never_returns_the_secret) {
  const Case cases[] = {
      {"delivered", FakePoster::Ok(), DeliveryResult::kDelivered, 200, ""},
      {"server error echoing the url", FakePoster::Status(500, std::string("boom at ") + kUrl),
       DeliveryResult::kRetryable, 500, "boom at https://hooks.example.com/<redacted>"},
      {"rate limited", FakePoster::Status(429, "slow down", "7"), DeliveryResult::kRetryable, 429,
       "slow down"},
      {"bad request echoing the token", FakePoster::Status(400, std::string("bad ") + kToken),
       DeliveryResult::kPermanent, 400, "bad <redacted>"},
      {"network error echoing the user info",
       FakePoster::NetworkError("could not connect as user:hunter22"), DeliveryResult::kRetryable,
       0, "could not connect as <redacted>"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakePoster poster;
    poster.script.push_back(c.answer);
    DeliveryResult result =
        PostJsonNotification(poster, kUrl, "Test", Payload, std::chrono::milliseconds(1500));
    EXPECT_EQ(result.outcome, c.outcome);
    EXPECT_EQ(result.http_status, c.status);
    if (*c.error_has == '\0') {
      EXPECT_EQ(result.error, "");
    } else {
      EXPECT_THAT(result.error, HasSubstr(c.error_has));
    }
    EXPECT_THAT(result.error, Not(HasSubstr(kToken)));
    EXPECT_THAT(result.error, Not(HasSubstr("hunter22")));
    ASSERT_EQ(poster.calls.size(), 1u);
    EXPECT_EQ(poster.calls[0].url, kUrl);
    EXPECT_EQ(poster.calls[0].body, R"({"text":"pool blue failed over"})");
    EXPECT_EQ(poster.calls[0].content_type, "application/json");
    EXPECT_EQ(poster.calls[0].timeout, std::chrono::milliseconds(1500));
  }
}

TEST(PostJsonNotification, a_payload_that_cannot_be_built_is_permanent_and_not_posted) {
  FakePoster poster;
  DeliveryResult result = PostJsonNotification(
      poster, kUrl, "Test",
      []() -> nlohmann::json { throw std::runtime_error(std::string("no ") + kToken); },
      std::chrono::milliseconds(1000));
  EXPECT_EQ(result.outcome, DeliveryResult::kPermanent);
  EXPECT_THAT(result.error, HasSubstr("cannot build Test payload: no <redacted>"));
  EXPECT_TRUE(poster.calls.empty());
}

TEST(PostJsonNotification, invalid_utf8_is_replaced_rather_than_failing_the_alert) {
  FakePoster poster;
  DeliveryResult result = PostJsonNotification(
      poster, kUrl, "Test",
      [] {
        return nlohmann::json{{"text", "bad \xff byte"}};
      },
      std::chrono::milliseconds(1000));
  EXPECT_EQ(result.outcome, DeliveryResult::kDelivered);
  ASSERT_EQ(poster.calls.size(), 1u);
  EXPECT_THAT(poster.calls[0].body, HasSubstr("bad \xEF\xBF\xBD byte"));
}

TEST(PostJsonNotification, sends_a_bearer_token_only_in_its_header_and_hands_back_the_answer) {
  FakePoster poster;
  const std::string token = "xoxb-42-bearer-SECRET";
  poster.script = {FakePoster::Status(200, R"({"ok":true,"ts":"1.2"})"),
                   FakePoster::NetworkError("connect failed, token " + token)};
  HttpResult answer;
  JsonPostExtras extras;
  extras.bearer_token = token;
  extras.answer = &answer;
  DeliveryResult ok = PostJsonNotification(
      poster, "https://slack.com/api/chat.postMessage", "Slack",
      [] {
        return nlohmann::json{{"text", "hi"}};
      },
      std::chrono::seconds(1), {}, extras);
  EXPECT_EQ(ok.outcome, DeliveryResult::kDelivered);
  EXPECT_EQ(answer.body, R"({"ok":true,"ts":"1.2"})");
  ASSERT_EQ(poster.calls.size(), 1u);
  EXPECT_EQ(poster.calls[0].bearer_token, token);
  EXPECT_EQ(poster.calls[0].content_type, "application/json; charset=utf-8");
  EXPECT_THAT(poster.calls[0].body, Not(HasSubstr(token)));

  DeliveryResult failed = PostJsonNotification(
      poster, "https://slack.com/api/chat.postMessage", "Slack",
      [] {
        return nlohmann::json{{"text", "hi"}};
      },
      std::chrono::seconds(1), {}, extras);
  EXPECT_EQ(failed.outcome, DeliveryResult::kRetryable);
  EXPECT_THAT(failed.error, Not(HasSubstr(token)));
}

TEST(HttpPoster, a_poster_without_header_support_fails_rather_than_post_unauthenticated) {
  class PlainPoster final : public HttpPoster {
   public:
    HttpResult Post(const std::string&, const std::string&, const std::string&,
                    std::chrono::milliseconds) override {
      ++posts;
      return {200, "ok", "", ""};
    }
    int posts = 0;
  } plain;
  HttpResult result = plain.PostWithBearer("http://x/api", "{}", "application/json", "xoxb-t",
                                           std::chrono::seconds(1));
  EXPECT_EQ(result.status, 0);
  EXPECT_THAT(result.error, HasSubstr("Authorization"));
  EXPECT_EQ(plain.posts, 0);
}

TEST(ScrubSecrets, scrubs_the_extra_secrets_too) {
  EXPECT_EQ(ScrubSecrets("token abc is wrong", "https://am.example:9093", {"abc"}),
            "token <redacted> is wrong");
  EXPECT_EQ(ScrubSecrets("connection refused", "https://am.example:9093", {"abc"}),
            "connection refused");
}

}  // namespace
}  // namespace poolwatch
