#include <gtest/gtest.h>

#include <string>

#include "alerting/notify/console_notifier.h"
#include "alerting/notify/slack_notifier.h"
#include "alerting/rules.h"
#include "tests/alerting/alerting_test_util.h"
#include "tests/notify/notify_fakes.h"

namespace poolwatch {
namespace {

using nlohmann::json;
using testing::MakeNotification;

// Payloads are checked the way Slack would see them: serialized, then parsed again.
json RoundTrip(const json& payload) {
  std::string wire = payload.dump(-1, ' ', false, json::error_handler_t::replace);
  return json::parse(wire);
}

const json& Blocks(const json& payload) { return payload.at("attachments").at(0).at("blocks"); }

std::vector<json> BlocksOfType(const json& payload, const std::string& type) {
  std::vector<json> out;
  for (const auto& block : Blocks(payload)) {
    if (block.at("type") == type) out.push_back(block);
  }
  return out;
}

// Every mrkdwn/plain text in the payload, joined, for "appears somewhere" checks.
void CollectTexts(const json& node, std::string* out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "text" && it.value().is_string())
        *out += it.value().get<std::string>() + "\n";
      CollectTexts(it.value(), out);
    }
  } else if (node.is_array()) {
    for (const auto& child : node) CollectTexts(child, out);
  }
}

std::string AllTexts(const json& payload) {
  std::string out;
  CollectTexts(payload, &out);
  return out;
}

TEST(BuildSlackPayload, has_a_headline_text_and_a_red_attachment_when_firing) {
  Notification n = MakeNotification("FAILOVER");
  json payload = RoundTrip(BuildSlackPayload(n, {}));

  // Slack shows `text` above the attachment: a headline, so fields do not appear twice.
  EXPECT_EQ(payload.at("text"), "🚨 FAILOVER: Pool failover detected!");
  ASSERT_EQ(payload.at("attachments").size(), 1u);
  EXPECT_EQ(payload["attachments"][0]["color"], "#d00000");

  auto headers = BlocksOfType(payload, "header");
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0]["text"]["type"], "plain_text");
  EXPECT_EQ(headers[0]["text"]["text"], "🚨 FAILOVER");
  EXPECT_EQ(Blocks(payload).at(0).at("type"), "header");
}

TEST(BuildSlackPayload, is_green_and_marked_resolved_when_resolved) {
  Notification n = MakeNotification("FAILOVER RESOLVED", AlertStatus::kResolved);
  json payload = RoundTrip(BuildSlackPayload(n, {}));
  EXPECT_EQ(payload["attachments"][0]["color"], "#2eb886");
  EXPECT_EQ(BlocksOfType(payload, "header")[0]["text"]["text"], "✅ FAILOVER RESOLVED");
}

// Built from what the real rules produce, not from a fixture: the rules once put an emoji in
// the title and the payload added another ("🚨 ⚠️ FAILOVER").
TEST(BuildSlackPayload, shows_exactly_one_marker_before_the_title_of_a_real_rules_alerts) {
  using poolwatch::testing::At;
  using poolwatch::testing::Request;

  RuleConfig failover_config;
  failover_config.name = "failover";
  failover_config.kind = RuleKind::kFailover;
  FailoverRule failover(poolwatch::testing::ResolvingAtOnce(failover_config), "blue");
  failover.Observe(Request(0, "blue"));
  failover.Observe(Request(1, "green", 200, {}, "v2.0.0"));
  failover.Evaluate(At(1));
  ASSERT_TRUE(failover.conditions().at(0).active);
  json fired = RoundTrip(BuildSlackPayload(failover.Firing(0, At(1)), {}));
  EXPECT_EQ(BlocksOfType(fired, "header").at(0)["text"]["text"], "🚨 FAILOVER");
  EXPECT_EQ(fired.at("text"), "🚨 FAILOVER: Pool failover detected!");

  for (int i = 0; i < 10; ++i) failover.Observe(Request(60 + i, "blue"));
  failover.Evaluate(At(70));
  ASSERT_FALSE(failover.conditions().at(0).active);
  Notification back = failover.Resolved(0, At(60));
  json resolved = RoundTrip(BuildSlackPayload(back, {}));
  EXPECT_EQ(BlocksOfType(resolved, "header").at(0)["text"]["text"], "✅ FAILOVER RESOLVED");
  EXPECT_EQ(resolved.at("text"), "✅ FAILOVER RESOLVED: Traffic is back on blue");
  // The console shows the same single marker.
  const std::string block = FormatConsoleBlock(back);
  EXPECT_TRUE(block.starts_with("----- RESOLVED failover{pool=blue} -----\n✅ FAILOVER RESOLVED\n"))
      << block;

  RuleConfig error_config;
  error_config.name = "error_rate";
  error_config.kind = RuleKind::kErrorRate;
  error_config.threshold_percent = 2;
  error_config.window_size = 100;
  error_config.min_requests = 20;
  error_config.max_age = std::chrono::seconds(300);
  error_config.severity = "warning";
  ErrorRateRule errors(poolwatch::testing::ResolvingAtOnce(error_config));
  for (int i = 0; i < 100; ++i) errors.Observe(Request(i * 0.01, "blue", i % 10 == 0 ? 500 : 200));
  errors.Evaluate(At(1));
  ASSERT_TRUE(errors.conditions().at(0).active);
  Notification high = errors.Firing(0, At(1));
  json error_payload = RoundTrip(BuildSlackPayload(high, {}));
  EXPECT_EQ(BlocksOfType(error_payload, "header").at(0)["text"]["text"], "⚠️ ERROR_RATE");

  for (int i = 0; i < 100; ++i) errors.Observe(Request(2 + i * 0.01, "blue"));
  errors.Evaluate(At(3));
  ASSERT_FALSE(errors.conditions().at(0).active);
  json calm = RoundTrip(BuildSlackPayload(errors.Resolved(0, At(3)), {}));
  EXPECT_EQ(BlocksOfType(calm, "header").at(0)["text"]["text"], "✅ ERROR_RATE RESOLVED");
}

TEST(BuildSlackPayload, shows_summary_and_one_mrkdwn_field_per_notification_field_in_order) {
  Notification n = MakeNotification("FAILOVER");
  json payload = RoundTrip(BuildSlackPayload(n, {}));
  auto sections = BlocksOfType(payload, "section");
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_EQ(sections[0]["text"]["type"], "mrkdwn");
  EXPECT_EQ(sections[0]["text"]["text"], "*Pool failover detected!*");
  const json& fields = sections[0]["fields"];
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0]["type"], "mrkdwn");
  EXPECT_EQ(fields[0]["text"], "*Previous*\nblue");
  EXPECT_EQ(fields[1]["text"], "*Current*\ngreen");
  EXPECT_EQ(fields[2]["text"], "*Release*\nv1.0.0");
}

TEST(BuildSlackPayload, context_names_the_alert_time_action_and_suppressed_repeats) {
  Notification n = MakeNotification("FAILOVER");
  n.suppressed = 4;
  json payload = RoundTrip(BuildSlackPayload(n, {}));
  auto contexts = BlocksOfType(payload, "context");
  ASSERT_EQ(contexts.size(), 1u);  // no links configured
  std::string context;
  for (const auto& element : contexts[0]["elements"]) context += element["text"].get<std::string>();
  EXPECT_NE(context.find("failover{pool=blue}"), std::string::npos) << context;
  EXPECT_NE(context.find(FormatRfc3339(n.at)), std::string::npos) << context;
  EXPECT_NE(context.find("Check health of blue pool"), std::string::npos) << context;
  EXPECT_NE(context.find("4 repeats during cooldown"), std::string::npos) << context;
}

TEST(BuildSlackPayload, links_dashboard_and_the_rules_runbook_section_when_configured) {
  Notification n = MakeNotification("ERROR_RATE");
  n.rule = "error_rate";
  SlackOptions options;
  options.dashboard_url = "https://grafana.example/d/poolwatch";
  options.runbook_url = "https://git.example/runbook.md#{rule}";
  json payload = RoundTrip(BuildSlackPayload(n, options));
  auto contexts = BlocksOfType(payload, "context");
  ASSERT_EQ(contexts.size(), 2u);
  std::string links = contexts[1]["elements"][0]["text"];
  EXPECT_NE(links.find("<https://grafana.example/d/poolwatch|Dashboard>"), std::string::npos)
      << links;
  EXPECT_NE(links.find("<https://git.example/runbook.md#error_rate|Runbook>"), std::string::npos)
      << links;
}

TEST(BuildSlackPayload, escapes_hostile_values_so_they_cannot_ping_link_or_break_the_json) {
  Notification n = MakeNotification("FAILOVER");
  const std::string hostile =
      "v1\"}],\"text\":\"pwned\\ <!channel> <https://evil.example|click> & \x01\n\t "
      "\xff\xfe invalid utf-8";
  n.labels = {{"release", hostile}};
  n.fields = {{"Release <b>", hostile}};
  n.summary = "summary <!here>";
  n.action = "do <@U123> & more";

  json built = BuildSlackPayload(n, {});
  // Invalid UTF-8 must not make serialization throw (nlohmann's default would).
  std::string wire;
  ASSERT_NO_THROW(wire = built.dump(-1, ' ', false, json::error_handler_t::replace));
  json payload;
  ASSERT_NO_THROW(payload = json::parse(wire));

  EXPECT_EQ(payload.size(), 2u) << "only text and attachments at the top level";
  std::string texts = AllTexts(payload);
  EXPECT_EQ(texts.find("<!channel>"), std::string::npos);
  EXPECT_EQ(texts.find("<!here>"), std::string::npos);
  EXPECT_EQ(texts.find("<@U123>"), std::string::npos);
  EXPECT_EQ(texts.find("<https://evil.example|click>"), std::string::npos);
  EXPECT_NE(texts.find("&lt;!channel&gt;"), std::string::npos);
  EXPECT_NE(texts.find("&lt;https://evil.example|click&gt; &amp; "), std::string::npos);
  EXPECT_NE(texts.find("do &lt;@U123&gt; &amp; more"), std::string::npos);
  auto fields = BlocksOfType(payload, "section")[0]["fields"];
  std::string field = fields[0]["text"];
  EXPECT_EQ(field.rfind("*Release &lt;b&gt;*\nv1\"}],\"text\":\"pwned\\ &lt;!channel&gt;", 0), 0u)
      << field;
  EXPECT_NE(field.find("\xEF\xBF\xBD"), std::string::npos) << "invalid bytes become U+FFFD";
}

TEST(BuildSlackPayload, truncates_to_slack_limits_on_character_boundaries) {
  Notification n = MakeNotification(std::string(400, 'T'));
  n.summary = std::string(5000, 's');
  // Multi-byte characters and entities right where the cuts fall.
  std::string value;
  while (value.size() < 5000) value += "é<&>";
  n.fields = {{"Long", value}};
  n.action = std::string(4000, 'a');

  json payload = RoundTrip(BuildSlackPayload(n, {}));
  std::string header = BlocksOfType(payload, "header")[0]["text"]["text"];
  EXPECT_LE(header.size(), kSlackMaxHeaderText);
  EXPECT_EQ(header.substr(header.size() - 3), "…");
  auto section = BlocksOfType(payload, "section")[0];
  std::string summary = section["text"]["text"];
  EXPECT_LE(summary.size(), kSlackMaxSectionText);
  std::string field = section["fields"][0]["text"];
  EXPECT_LE(field.size(), kSlackMaxFieldText);
  EXPECT_EQ(field.substr(field.size() - 3), "…");
  // The cut never leaves half an entity or half a character before the ellipsis.
  std::string before = field.substr(0, field.size() - 3);
  size_t amp = before.rfind('&');
  EXPECT_NE(before.find(';', amp), std::string::npos) << before.substr(before.size() - 10);
  EXPECT_LE(payload["text"].get<std::string>().size(), kSlackMaxFallbackText);
  // Kept in a variable: a range-for over a member of a temporary would dangle.
  auto contexts = BlocksOfType(payload, "context");
  for (const auto& element : contexts[0]["elements"]) {
    EXPECT_LE(element["text"].get<std::string>().size(), kSlackMaxSectionText);
  }
}

TEST(BuildSlackPayload, splits_many_fields_ten_per_section_within_fifty_blocks) {
  Notification n = MakeNotification("MANY");
  n.fields.clear();
  // Appended rather than "f" + …, which GCC 12 flags falsely (-Wrestrict).
  for (int i = 0; i < 25; ++i)
    n.fields.push_back({std::string("f").append(std::to_string(i)), "v"});
  json payload = RoundTrip(BuildSlackPayload(n, {}));
  auto sections = BlocksOfType(payload, "section");
  ASSERT_EQ(sections.size(), 3u);
  EXPECT_EQ(sections[0]["fields"].size(), 10u);
  EXPECT_EQ(sections[1]["fields"].size(), 10u);
  EXPECT_EQ(sections[2]["fields"].size(), 5u);
  EXPECT_EQ(sections[2]["fields"][4]["text"], "*f24*\nv");

  n.fields.clear();
  for (int i = 0; i < 1000; ++i)
    n.fields.push_back({std::string("f").append(std::to_string(i)), "v"});
  SlackOptions with_links;
  with_links.dashboard_url = "https://grafana.example";
  payload = RoundTrip(BuildSlackPayload(n, with_links));
  EXPECT_EQ(Blocks(payload).size(), kSlackMaxBlocks);
  sections = BlocksOfType(payload, "section");
  for (const auto& section : sections) EXPECT_LE(section["fields"].size(), 10u);
  std::string last = sections.back()["fields"].back()["text"];
  EXPECT_NE(last.find("more fields omitted"), std::string::npos) << last;
  EXPECT_EQ(BlocksOfType(payload, "context").size(), 2u) << "links survive the cut";
}

TEST(BuildSlackPayload, never_sends_an_empty_section_or_field) {
  Notification n = MakeNotification("EMPTY");
  n.summary.clear();
  n.fields = {{"Empty", ""}};
  json payload = RoundTrip(BuildSlackPayload(n, {}));
  auto sections = BlocksOfType(payload, "section");
  ASSERT_EQ(sections.size(), 1u);
  EXPECT_FALSE(sections[0].contains("text"));
  EXPECT_EQ(sections[0]["fields"][0]["text"], "*Empty*\n-");

  n.fields.clear();
  payload = RoundTrip(BuildSlackPayload(n, {}));
  EXPECT_TRUE(BlocksOfType(payload, "section").empty());
}

TEST(EscapeSlackMrkdwn, escapes_exactly_the_three_control_characters) {
  EXPECT_EQ(EscapeSlackMrkdwn("a & b < c > d *e* _f_"), "a &amp; b &lt; c &gt; d *e* _f_");
  EXPECT_EQ(EscapeSlackMrkdwn("&amp;"), "&amp;amp;");  // user text is never trusted as markup
}

TEST(TruncateForSlack, leaves_short_text_alone_and_marks_a_cut) {
  EXPECT_EQ(TruncateForSlack("short", 10), "short");
  EXPECT_EQ(TruncateForSlack("0123456789abc", 10), "0123456…");
  EXPECT_EQ(TruncateForSlack("ab&amp;cd", 8), "ab…");  // not "ab&am…"
  EXPECT_EQ(TruncateForSlack("abcdééé", 8), "abcd…");  // not half of é
}

}  // namespace
}  // namespace poolwatch
