// The Slack app notifier without a network: the incident model (PlanSlackDelivery), the Web
// API's answers (ClassifySlackApiAnswer), the payloads and their limits, and SlackAppNotifier
// against a scripted FakePoster.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alerting/notify/slack_app_notifier.h"
#include "alerting/notify/slack_incident.h"
#include "alerting/notify/slack_web_api.h"
#include "tests/notify/notify_fakes.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakePoster;
using testing::LogCapture;
using testing::MakeNotification;
using testing::MetricValue;
using testing::Scrape;

constexpr char kToken[] = "xoxb-1111-2222-SeCrEtToKeN";
const TimePoint kStart = Clock::from_time_t(1761920625);

Notification Firing(TimePoint at = kStart, int suppressed = 0) {
  Notification n = MakeNotification("FAILOVER");
  n.at = at;
  n.suppressed = suppressed;
  return n;
}

Notification Resolved(TimePoint at) {
  Notification n = MakeNotification("FAILOVER RESOLVED", AlertStatus::kResolved);
  n.summary = "Traffic is back on blue";
  n.at = at;
  return n;
}

Notification ErrorRate(const std::string& rate, TimePoint at) {
  Notification n = MakeNotification("ERROR_RATE");
  n.rule = "error_rate";
  n.fields = {{"Pool", "blue"}, {"Error rate", rate + " (25 of 200)"}};
  n.at = at;
  return n;
}

HttpResult SlackOk(const std::string& ts, const std::string& channel = "C0OPS") {
  return FakePoster::Status(200, json{{"ok", true}, {"channel", channel}, {"ts", ts}}.dump());
}

HttpResult SlackError(const std::string& error, const std::string& needed = "") {
  json body = {{"ok", false}, {"error", error}};
  if (!needed.empty()) body["needed"] = needed;
  return FakePoster::Status(200, body.dump());
}

// --- the Web API's answers ---

SlackApiAnswer Classify(const HttpResult& answer) {
  DeliveryResult http;
  if (answer.status >= 300) http.outcome = DeliveryResult::kRetryable;
  http.http_status = answer.status;
  return ClassifySlackApiAnswer("chat.update", http, answer);
}

TEST(ClassifySlackApiAnswer, sorts_slacks_answers_into_delivered_retryable_gone_and_refused) {
  struct Case {
    HttpResult answer;
    DeliveryResult::Outcome outcome;
    bool gone;
    std::chrono::milliseconds retry_after;
  };
  const std::vector<Case> cases = {
      {SlackOk("1.2"), DeliveryResult::kDelivered, false, 0ms},
      {SlackError("ratelimited"), DeliveryResult::kRetryable, false, 1000ms},
      {FakePoster::Status(429, "", "7"), DeliveryResult::kRetryable, false, 7000ms},
      {SlackError("internal_error"), DeliveryResult::kRetryable, false, 0ms},
      {SlackError("message_not_found"), DeliveryResult::kPermanent, true, 0ms},
      {SlackError("cant_update_message"), DeliveryResult::kPermanent, true, 0ms},
      {SlackError("not_in_channel"), DeliveryResult::kPermanent, false, 0ms},
      {SlackError("channel_not_found"), DeliveryResult::kPermanent, false, 0ms},
      {SlackError("invalid_auth"), DeliveryResult::kPermanent, false, 0ms},
      {SlackError("token_revoked"), DeliveryResult::kPermanent, false, 0ms},
      {SlackError("missing_scope", "chat:write"), DeliveryResult::kPermanent, false, 0ms},
      {FakePoster::Status(200, "ok"), DeliveryResult::kPermanent, false, 0ms},
  };
  for (const Case& c : cases) {
    SlackApiAnswer a = Classify(c.answer);
    EXPECT_EQ(a.result.outcome, c.outcome) << c.answer.body;
    EXPECT_EQ(a.message_gone, c.gone) << c.answer.body;
    EXPECT_EQ(a.result.retry_after, c.retry_after) << c.answer.body;
  }
}

TEST(ClassifySlackApiAnswer, keeps_the_messages_id_and_names_the_method_error_and_scope) {
  SlackApiAnswer ok = Classify(SlackOk("1700000000.000100", "C0123"));
  EXPECT_EQ(ok.ts, "1700000000.000100");
  EXPECT_EQ(ok.channel, "C0123");
  SlackApiAnswer scope = Classify(SlackError("missing_scope", "chat:write.public"));
  EXPECT_EQ(scope.error, "missing_scope");
  EXPECT_EQ(scope.needed, "chat:write.public");
  EXPECT_EQ(scope.result.error,
            "chat.update: missing_scope (the token needs the scope "
            "chat:write.public)");
}

TEST(SlackApiMethodUrl, joins_base_and_method_whatever_the_trailing_slash) {
  EXPECT_EQ(SlackApiMethodUrl("https://slack.com/api", "chat.update"),
            "https://slack.com/api/chat.update");
  EXPECT_EQ(SlackApiMethodUrl("http://127.0.0.1:9/api/", "chat.postMessage"),
            "http://127.0.0.1:9/api/chat.postMessage");
}

// --- the incident model ---

TEST(PlanSlackDelivery, a_firing_without_an_open_incident_posts_a_top_message) {
  SlackPlan plan = PlanSlackDelivery(nullptr, Firing());
  EXPECT_TRUE(plan.post_top);
  EXPECT_FALSE(plan.update_and_reply);
  EXPECT_FALSE(plan.closes);
  EXPECT_EQ(plan.reply, "");
}

TEST(PlanSlackDelivery, a_repeat_updates_the_top_message_and_replies_with_what_was_suppressed) {
  SlackThread open = AdvanceSlackThread(nullptr, Firing(), PlanSlackDelivery(nullptr, Firing()));
  SlackPlan plan = PlanSlackDelivery(&open, Firing(kStart + 5min, 3));
  EXPECT_FALSE(plan.post_top);
  EXPECT_TRUE(plan.update_and_reply);
  EXPECT_FALSE(plan.closes);
  EXPECT_EQ(plan.reply,
            "🔁 Still firing after 5 min: Pool failover detected! (3 repeats suppressed by the "
            "cooldown)");
  EXPECT_EQ(plan.status_line, "Firing for 5 min · 1 update in the thread");
}

TEST(PlanSlackDelivery, a_higher_rate_is_an_escalation_a_lower_one_a_repeat) {
  const Notification first = ErrorRate("12.5%", kStart);
  SlackThread open = AdvanceSlackThread(nullptr, first, PlanSlackDelivery(nullptr, first));
  EXPECT_EQ(open.peak_text, "Error rate 12.5%");
  const Notification higher = ErrorRate("30%", kStart + 2min);
  EXPECT_EQ(PlanSlackDelivery(&open, higher).reply, "📈 Escalated: Error rate 12.5% → 30%");
  open = AdvanceSlackThread(&open, higher, PlanSlackDelivery(&open, higher));
  EXPECT_EQ(open.peak_text, "Error rate 30%");
  const Notification lower = ErrorRate("20%", kStart + 4min);
  EXPECT_EQ(PlanSlackDelivery(&open, lower).reply.rfind("🔁 Still firing after 4 min", 0), 0u);
  open = AdvanceSlackThread(&open, lower, PlanSlackDelivery(&open, lower));
  EXPECT_EQ(open.peak_text, "Error rate 30%") << "the peak stays the highest";
  EXPECT_EQ(open.replies, 2);
}

TEST(PlanSlackDelivery, a_resolution_closes_with_a_one_line_summary) {
  Notification first = ErrorRate("12%", kStart);
  SlackThread open = AdvanceSlackThread(nullptr, first, PlanSlackDelivery(nullptr, first));
  Notification repeat = ErrorRate("40%", kStart + 3min);
  repeat.suppressed = 2;
  open = AdvanceSlackThread(&open, repeat, PlanSlackDelivery(&open, repeat));
  Notification resolved = Resolved(kStart + 12min + 30s);
  resolved.suppressed = 1;
  SlackPlan plan = PlanSlackDelivery(&open, resolved);
  EXPECT_TRUE(plan.update_and_reply);
  EXPECT_TRUE(plan.closes);
  EXPECT_EQ(plan.status_line, "Resolved after 12 min");
  EXPECT_EQ(plan.reply,
            "✅ Resolved after 12 min · peak Error rate 40% · 3 repeats suppressed · 1 update "
            "before this");
}

TEST(PlanSlackDelivery, a_resolution_of_an_unknown_incident_posts_a_standalone_message) {
  SlackPlan plan = PlanSlackDelivery(nullptr, Resolved(kStart));
  EXPECT_TRUE(plan.post_top);
  EXPECT_TRUE(plan.closes);
}

TEST(PlanSlackDelivery, a_flap_held_back_by_the_cooldown_goes_into_the_thread_of_the_incident) {
  SlackThread known = AdvanceSlackThread(nullptr, Firing(), PlanSlackDelivery(nullptr, Firing()));
  const Notification resolved = Resolved(kStart + 1min);
  known = AdvanceSlackThread(&known, resolved, PlanSlackDelivery(&known, resolved));
  ASSERT_TRUE(known.resolved);

  Notification refire = Firing(kStart + 2min);
  refire.state_only = true;
  SlackPlan plan = PlanSlackDelivery(&known, refire);
  EXPECT_FALSE(plan.post_top) << "a flap is no new incident";
  EXPECT_TRUE(plan.update_and_reply);
  EXPECT_EQ(plan.reply.rfind("⚡ Firing again within the cooldown", 0), 0u) << plan.reply;
  known = AdvanceSlackThread(&known, refire, plan);
  EXPECT_FALSE(known.resolved);

  Notification cleared = Resolved(kStart + 3min);
  cleared.state_only = true;
  plan = PlanSlackDelivery(&known, cleared);
  EXPECT_TRUE(plan.update_and_reply);
  EXPECT_TRUE(plan.closes);

  EXPECT_TRUE(PlanSlackDelivery(nullptr, refire).skip) << "no message to thread under";
  // Announced after the cooldown while reopened by the flap: the same incident goes on.
  Notification announced = Firing(kStart + 6min, 1);
  EXPECT_TRUE(PlanSlackDelivery(&known, announced).update_and_reply);
}

TEST(PlanSlackDelivery, an_announced_firing_after_a_resolution_is_a_new_incident) {
  SlackThread known = AdvanceSlackThread(nullptr, Firing(), PlanSlackDelivery(nullptr, Firing()));
  const Notification resolved = Resolved(kStart + 1min);
  known = AdvanceSlackThread(&known, resolved, PlanSlackDelivery(&known, resolved));
  SlackPlan plan = PlanSlackDelivery(&known, Firing(kStart + 1h));
  EXPECT_TRUE(plan.post_top);
  SlackThread next = AdvanceSlackThread(&known, Firing(kStart + 1h), plan);
  EXPECT_EQ(next.started, kStart + 1h);
  EXPECT_EQ(next.replies, 0);
  EXPECT_FALSE(next.resolved);
}

TEST(SlackHeadlineFigure, is_the_first_percentage_and_absent_without_one) {
  EXPECT_FALSE(SlackHeadlineFigure(Firing()).has_value()) << "failover has no rate";
  auto figure = SlackHeadlineFigure(ErrorRate("7.25%", kStart));
  ASSERT_TRUE(figure.has_value());
  EXPECT_EQ(figure->name, "Error rate");
  EXPECT_EQ(figure->text, "7.25%");
  EXPECT_DOUBLE_EQ(figure->value, 7.25);
}

TEST(HumanDuration, reads_like_a_person_writes_it) {
  EXPECT_EQ(HumanDuration(45s), "45 s");
  EXPECT_EQ(HumanDuration(12min + 59s), "12 min");
  EXPECT_EQ(HumanDuration(2h + 5min), "2 h 5 min");
  EXPECT_EQ(HumanDuration(3h), "3 h");
  EXPECT_EQ(HumanDuration(-5s), "0 s");
}

// --- payloads ---

TEST(BuildSlackAppTopMessage, is_the_webhook_payload_with_channel_ts_status_line_and_links) {
  SlackAppOptions options;
  options.message.dashboard_url = "https://grafana.example/d/pw";
  options.message.status_url = "http://lb-1:9113/";
  options.message.maintenance_url = "http://lb-1:9113/#maintenance";
  SlackPlan plan;
  plan.status_line = "Firing for 5 min · 1 update in the thread";
  json payload = BuildSlackAppTopMessage(Firing(), options, plan, "C0OPS", "1.2");
  EXPECT_EQ(payload["channel"], "C0OPS");
  EXPECT_EQ(payload["ts"], "1.2");
  const std::string all = payload.dump();
  EXPECT_NE(all.find("*Incident:* Firing for 5 min"), std::string::npos) << all;
  EXPECT_NE(all.find("<https://grafana.example/d/pw|Dashboard>"), std::string::npos) << all;
  EXPECT_NE(all.find("<http://lb-1:9113/|Status page>"), std::string::npos) << all;
  EXPECT_NE(all.find("<http://lb-1:9113/#maintenance|Set maintenance>"), std::string::npos);
  EXPECT_FALSE(BuildSlackAppTopMessage(Firing(), options, plan, "C0OPS").contains("ts"));
}

TEST(BuildSlackAppTopMessage, stays_within_slacks_limits_for_long_pool_release_and_instance) {
  SlackAppOptions options;
  options.message.instance = std::string(3000, 'i');
  Notification n = Firing();
  n.labels = {{"pool", std::string(5000, 'p')}};
  n.fields = {{"Previous", std::string(5000, 'p')}, {"Release", std::string(5000, 'r')}};
  SlackPlan plan;
  plan.status_line = std::string(5000, 's');
  json payload = BuildSlackAppTopMessage(n, options, plan, "C0OPS");
  EXPECT_LE(payload["text"].get<std::string>().size(), kSlackMaxFallbackText);
  const json& blocks = payload["attachments"][0]["blocks"];
  EXPECT_LE(blocks.size(), kSlackMaxBlocks);
  for (const json& block : blocks) {
    if (block["type"] == "header") {
      EXPECT_LE(block["text"]["text"].get<std::string>().size(), kSlackMaxHeaderText);
    }
    if (block.contains("fields")) {
      for (const json& f : block["fields"]) {
        EXPECT_LE(f["text"].get<std::string>().size(), kSlackMaxFieldText);
      }
    }
    if (block["type"] == "context") {
      EXPECT_LE(block["elements"].size(), kSlackMaxContextElements);
      for (const json& e : block["elements"]) {
        EXPECT_LE(e["text"].get<std::string>().size(), kSlackMaxSectionText);
      }
    }
  }
  SlackThread thread;
  thread.channel = "C0OPS";
  thread.ts = "1.2";
  json reply = BuildSlackAppReply(thread, std::string(10000, 'x'));
  EXPECT_LE(reply["text"].get<std::string>().size(), kSlackMaxFallbackText);
  EXPECT_EQ(reply["thread_ts"], "1.2");
}

// --- the notifier ---

class SlackAppNotifierTest : public ::testing::Test {
 protected:
  SlackAppNotifierTest() : notifier_(kToken, poster_, Options()) {}

  SlackAppOptions Options() {
    SlackAppOptions options;
    options.api_url = "http://slack.test/api";
    options.channel = "#ops";
    options.log = log_.Sink();
    options.registry = &registry_;
    return options;
  }

  // The method and the JSON body of each call.
  std::vector<std::pair<std::string, json>> Calls() {
    std::vector<std::pair<std::string, json>> out;
    for (const auto& call : poster_.calls) {
      out.emplace_back(call.url.substr(call.url.rfind('/') + 1), json::parse(call.body));
    }
    return out;
  }

  FakePoster poster_;
  LogCapture log_;
  prometheus::Registry registry_;
  SlackAppNotifier notifier_;
};

TEST_F(SlackAppNotifierTest, an_incident_is_one_top_message_updated_in_place_with_its_thread) {
  poster_.script = {SlackOk("100.1"), SlackOk("100.1"), SlackOk("100.2"), SlackOk("100.1"),
                    SlackOk("100.3")};
  EXPECT_EQ(notifier_.Send(Firing(), 1s).outcome, DeliveryResult::kDelivered);
  EXPECT_EQ(notifier_.Send(Firing(kStart + 5min, 2), 1s).outcome, DeliveryResult::kDelivered);
  EXPECT_EQ(notifier_.Send(Resolved(kStart + 12min), 1s).outcome, DeliveryResult::kDelivered);

  auto calls = Calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[0].first, "chat.postMessage");
  EXPECT_EQ(calls[0].second["channel"], "#ops");
  EXPECT_FALSE(calls[0].second.contains("thread_ts"));
  EXPECT_EQ(calls[1].first, "chat.update");
  EXPECT_EQ(calls[1].second["channel"], "C0OPS") << "the channel ID Slack answered with";
  EXPECT_EQ(calls[1].second["ts"], "100.1");
  EXPECT_EQ(calls[2].first, "chat.postMessage");
  EXPECT_EQ(calls[2].second["thread_ts"], "100.1");
  EXPECT_NE(calls[2].second["text"].get<std::string>().find("2 repeats suppressed"),
            std::string::npos);
  EXPECT_EQ(calls[3].first, "chat.update");
  EXPECT_EQ(calls[3].second["ts"], "100.1");
  EXPECT_NE(calls[3].second.dump().find("Resolved after 12 min"), std::string::npos);
  EXPECT_EQ(calls[3].second["attachments"][0]["color"], kSlackColorResolved);
  EXPECT_EQ(calls[4].second["thread_ts"], "100.1");
  EXPECT_EQ(calls[4].second["text"],
            "✅ Resolved after 12 min · 2 repeats suppressed · 1 update before this");
  for (const auto& call : poster_.calls) {
    EXPECT_EQ(call.bearer_token, kToken);
    EXPECT_EQ(call.content_type, "application/json; charset=utf-8");
  }
  ASSERT_EQ(notifier_.ExportThreads().size(), 1u) << "resolved: kept for flaps";
  EXPECT_TRUE(notifier_.ExportThreads()[0].resolved);

  poster_.script = {SlackOk("200.1")};
  notifier_.Send(Firing(kStart + 1h), 1s);
  ASSERT_EQ(Calls().size(), 6u);
  EXPECT_EQ(Calls()[5].first, "chat.postMessage") << "a new incident, a new top message";
  EXPECT_FALSE(Calls()[5].second.contains("thread_ts"));
}

TEST_F(SlackAppNotifierTest, a_held_back_flap_of_an_alert_without_a_message_sends_nothing) {
  Notification refire = Firing();
  refire.state_only = true;
  EXPECT_EQ(notifier_.Send(refire, 1s).outcome, DeliveryResult::kNothingToSend)
      << "not \"delivered\": nothing reached Slack";
  EXPECT_TRUE(poster_.calls.empty());
}

TEST_F(SlackAppNotifierTest, a_failed_reply_is_retried_after_updating_again_never_lost) {
  poster_.script = {SlackOk("100.1"), SlackOk("100.1"), SlackError("ratelimited")};
  notifier_.Send(Firing(), 1s);
  DeliveryResult first = notifier_.Send(Resolved(kStart + 2min), 1s);
  EXPECT_EQ(first.outcome, DeliveryResult::kRetryable);
  EXPECT_EQ(first.retry_after, 1000ms);
  ASSERT_EQ(notifier_.ExportThreads().size(), 1u);
  EXPECT_FALSE(notifier_.ExportThreads()[0].resolved) << "still open until its reply is in";

  poster_.script = {SlackOk("100.1"), SlackOk("100.2")};
  EXPECT_EQ(notifier_.Send(Resolved(kStart + 2min), 1s).outcome, DeliveryResult::kDelivered);
  auto calls = Calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[3].first, "chat.update");
  EXPECT_EQ(calls[4].second["thread_ts"], "100.1");
  EXPECT_TRUE(notifier_.ExportThreads().at(0).resolved);
}

TEST_F(SlackAppNotifierTest, a_vanished_top_message_is_replaced_and_the_incident_goes_on) {
  poster_.script = {SlackOk("100.1"), SlackError("message_not_found"), SlackOk("300.1"),
                    SlackOk("300.2")};
  notifier_.Send(Firing(), 1s);
  EXPECT_EQ(notifier_.Send(Firing(kStart + 5min), 1s).outcome, DeliveryResult::kDelivered);
  auto calls = Calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[2].first, "chat.postMessage");
  EXPECT_FALSE(calls[2].second.contains("thread_ts")) << "a new top message";
  EXPECT_EQ(calls[3].second["thread_ts"], "300.1") << "the reply goes under the new one";
  ASSERT_EQ(notifier_.ExportThreads().size(), 1u);
  EXPECT_EQ(notifier_.ExportThreads()[0].ts, "300.1");
}

TEST_F(SlackAppNotifierTest, a_refusal_is_permanent_counted_logged_once_and_hides_the_token) {
  poster_.fallback = SlackError("missing_scope", "chat:write.public");
  DeliveryResult a = notifier_.Send(Firing(), 1s);
  DeliveryResult b = notifier_.Send(Firing(kStart + 1min), 1s);
  EXPECT_EQ(a.outcome, DeliveryResult::kPermanent);
  EXPECT_EQ(b.outcome, DeliveryResult::kPermanent);
  EXPECT_NE(a.error.find("chat:write.public"), std::string::npos) << a.error;
  ASSERT_EQ(log_.Lines().size(), 1u) << log_.All();
  EXPECT_NE(log_.All().find("add the scope chat:write.public"), std::string::npos) << log_.All();
  EXPECT_EQ(MetricValue(Scrape(registry_), "poolwatch_slack_api_rejections_total",
                        {{"notifier", "slack"}, {"error", "missing_scope"}}),
            2);

  // A hostile or broken endpoint echoing the token: it never comes back out.
  poster_.fallback = SlackError(std::string("invalid_auth: ") + kToken);
  DeliveryResult echoed = notifier_.Send(Firing(), 1s);
  EXPECT_EQ(echoed.error.find(kToken), std::string::npos) << echoed.error;
  EXPECT_EQ(log_.All().find(kToken), std::string::npos) << log_.All();
  EXPECT_EQ(Scrape(registry_).find(kToken), std::string::npos);
  EXPECT_EQ(MetricValue(Scrape(registry_), "poolwatch_slack_api_rejections_total",
                        {{"notifier", "slack"}, {"error", "other"}}),
            1);
  EXPECT_EQ(notifier_.Destination().find(kToken), std::string::npos);
  EXPECT_EQ(notifier_.Destination(), "slack app #ops via http://slack.test/<redacted>");
}

TEST_F(SlackAppNotifierTest, resolved_incidents_are_forgotten_a_day_after_they_resolved) {
  poster_.fallback = SlackOk("100.1");
  notifier_.Send(Firing(), 1s);
  notifier_.Send(Resolved(kStart + 1min), 1s);
  Notification other = Firing(kStart + 1min + kSlackKeepResolved + 1s);
  other.labels = {{"pool", "green"}};
  notifier_.Send(other, 1s);
  const auto threads = notifier_.ExportThreads();
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads[0].key, "failover{pool=green}");
}

Notification MaintenanceNote(bool started, TimePoint at) {
  Notification note;
  note.rule = "maintenance";
  note.incident_note = true;
  note.status = started ? AlertStatus::kFiring : AlertStatus::kResolved;
  note.summary = started ? "Maintenance started" : "Maintenance ended";
  note.at = at;
  return note;
}

TEST_F(SlackAppNotifierTest, a_maintenance_note_goes_once_into_the_thread_of_each_open_incident) {
  poster_.script = {SlackOk("100.1"), SlackOk("200.1"), SlackOk("300.1"), SlackOk("300.1"),
                    SlackOk("300.2")};
  notifier_.Send(Firing(), 1s);  // blue: open
  Notification green = Firing();
  green.labels = {{"pool", "green"}};
  notifier_.Send(green, 1s);  // green: open
  Notification red = Firing();
  red.labels = {{"pool", "red"}};
  notifier_.Send(red, 1s);
  Notification red_resolved = Resolved(kStart + 1min);
  red_resolved.labels = red.labels;
  notifier_.Send(red_resolved, 1s);  // red: resolved, no note
  poster_.calls.clear();

  poster_.script = {SlackOk("100.2"), SlackError("ratelimited")};
  const Notification note = MaintenanceNote(true, kStart + 2min);
  EXPECT_EQ(notifier_.Send(note, 1s).outcome, DeliveryResult::kRetryable);
  poster_.script = {SlackOk("200.2")};
  EXPECT_EQ(notifier_.Send(note, 1s).outcome, DeliveryResult::kDelivered);
  auto calls = Calls();
  ASSERT_EQ(calls.size(), 3u) << "blue once, green twice (its first try was rate limited)";
  EXPECT_EQ(calls[0].second["thread_ts"], "100.1");
  EXPECT_EQ(calls[1].second["thread_ts"], "200.1");
  EXPECT_EQ(calls[2].second["thread_ts"], "200.1");
  EXPECT_EQ(calls[2].second["text"], "🔧 Maintenance started");

  poster_.calls.clear();
  poster_.fallback = SlackOk("9.9");
  notifier_.Send(MaintenanceNote(false, kStart + 3min), 1s);
  ASSERT_EQ(Calls().size(), 2u) << "a new note goes to every open thread again";
  EXPECT_EQ(Calls()[0].second["text"], "▶️ Maintenance ended");
}

TEST_F(SlackAppNotifierTest, imported_threads_let_a_restarted_notifier_update_the_same_message) {
  poster_.script = {SlackOk("100.1")};
  notifier_.Send(Firing(kStart, 1), 1s);
  const std::vector<SlackThread> saved = notifier_.ExportThreads();
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].key, "failover{pool=blue}");
  EXPECT_EQ(saved[0].channel, "C0OPS");
  EXPECT_EQ(saved[0].ts, "100.1");
  EXPECT_EQ(saved[0].suppressed, 1);

  FakePoster next_poster;
  next_poster.fallback = SlackOk("100.9");
  SlackAppNotifier restarted(kToken, next_poster, Options());
  restarted.ImportThreads(saved);
  restarted.Send(Resolved(kStart + 3min), 1s);
  ASSERT_EQ(next_poster.calls.size(), 2u);
  json update = json::parse(next_poster.calls[0].body);
  EXPECT_EQ(update["ts"], "100.1");
  EXPECT_EQ(update["channel"], "C0OPS");
  EXPECT_EQ(json::parse(next_poster.calls[1].body)["thread_ts"], "100.1");
}

}  // namespace
}  // namespace poolwatch
