#include "alerting/grouped_rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "alerting/alert_engine.h"
#include "alerting/rules.h"
#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Request;
using poolwatch::testing::ResolvingAtOnce;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

RuleConfig GroupedErrorRate() {
  RuleConfig c;
  c.name = "error_rate";
  c.kind = RuleKind::kErrorRate;
  c.threshold_percent = 5;
  c.window_size = 100;
  c.min_requests = 20;
  c.cooldown = std::chrono::seconds(0);
  c.group_by = {{"site", 0}};
  return ResolvingAtOnce(c);
}

LineSource Source(std::vector<std::string> values) {
  LineSource source;
  source.values = std::move(values);
  source.id = NewLineSourceId();
  return source;
}

// `n` requests from `source` starting at `start` seconds, one per 10 ms; every `error_every`-th
// a 500 (0: none).
void Feed(Rule& rule, const LineSource* source, int n, int error_every, double start) {
  for (int i = 0; i < n; ++i) {
    LogRecord r =
        Request(start + i * 0.01, "blue", error_every > 0 && i % error_every == 0 ? 500 : 200);
    r.source = source;
    rule.Observe(r);
  }
}
void Feed(AlertEngine& engine, const LineSource* source, int n, int error_every, double start) {
  for (int i = 0; i < n; ++i) {
    LogRecord r =
        Request(start + i * 0.01, "blue", error_every > 0 && i % error_every == 0 ? 500 : 200);
    r.source = source;
    engine.Observe(r);
  }
}

// The index of the rule's alert with exactly these labels; -1 when there is none.
int AlertWith(const Rule& rule, const Labels& labels) {
  const std::vector<AlertCondition>& conditions = rule.conditions();
  for (size_t i = 0; i < conditions.size(); ++i) {
    if (conditions[i].labels == labels) return static_cast<int>(i);
  }
  return -1;
}

TEST(GroupedRule, make_rule_wraps_a_rule_with_group_by_only) {
  RuleConfig config = GroupedErrorRate();
  EXPECT_NE(dynamic_cast<GroupedRule*>(MakeRule(config, "blue").get()), nullptr);
  config.group_by.clear();
  EXPECT_EQ(dynamic_cast<GroupedRule*>(MakeRule(config, "blue").get()), nullptr);
}

TEST(GroupedRule, judges_each_site_on_its_own_lines) {
  GroupedRule rule(GroupedErrorRate(), "blue", MakeRule);
  const LineSource shop = Source({"shop"});
  const LineSource blog = Source({"blog"});
  // Interleaved in chunks, as the reader hands over file after file: shop at 20 % errors, blog
  // clean. Across both the rate would be 4 %, below the 5 % threshold.
  for (int chunk = 0; chunk < 5; ++chunk) {
    Feed(rule, &shop, 20, 5, chunk);
    Feed(rule, &blog, 80, 0, chunk + 0.5);
  }
  rule.Evaluate(At(10));
  ASSERT_EQ(rule.group_count(), 2u);
  const int shop_alert = AlertWith(rule, {{"site", "shop"}});
  const int blog_alert = AlertWith(rule, {{"site", "blog"}});
  ASSERT_GE(shop_alert, 0);
  ASSERT_GE(blog_alert, 0);
  EXPECT_TRUE(rule.conditions()[static_cast<size_t>(shop_alert)].active);
  EXPECT_DOUBLE_EQ(rule.conditions()[static_cast<size_t>(shop_alert)].value, 20.0);
  EXPECT_FALSE(rule.conditions()[static_cast<size_t>(blog_alert)].active);
  EXPECT_DOUBLE_EQ(rule.conditions()[static_cast<size_t>(blog_alert)].value, 0.0);

  // The same lines through one ungrouped rule: diluted below the threshold.
  RuleConfig ungrouped = GroupedErrorRate();
  ungrouped.group_by.clear();
  std::unique_ptr<Rule> all = MakeRule(ungrouped, "blue");
  for (int chunk = 0; chunk < 5; ++chunk) {
    Feed(*all, &shop, 20, 5, chunk);
    Feed(*all, &blog, 80, 0, chunk + 0.5);
  }
  all->Evaluate(At(10));
  EXPECT_FALSE(all->conditions()[0].active);
  EXPECT_DOUBLE_EQ(all->conditions()[0].value, 4.0);
}

TEST(GroupedRule, lines_without_a_source_or_value_share_the_empty_group) {
  RuleConfig config = GroupedErrorRate();
  config.group_by = {{"site", 0}, {"host", 1}};
  GroupedRule rule(config, "blue", MakeRule);
  const LineSource site_only = Source({"shop"});
  const LineSource both = Source({"shop", "web1"});
  Feed(rule, nullptr, 30, 0, 0);
  Feed(rule, &site_only, 30, 0, 1);
  Feed(rule, &both, 30, 0, 2);
  rule.Evaluate(At(5));
  ASSERT_EQ(rule.group_count(), 3u);
  EXPECT_GE(AlertWith(rule, {{"site", ""}, {"host", ""}}), 0);
  EXPECT_GE(AlertWith(rule, {{"site", "shop"}, {"host", ""}}), 0);
  EXPECT_GE(AlertWith(rule, {{"site", "shop"}, {"host", "web1"}}), 0);
  EXPECT_EQ(rule.conditions()[static_cast<size_t>(AlertWith(rule, {{"site", ""}, {"host", ""}}))]
                .window_fill,
            30u);
}

TEST(GroupedRule, two_files_with_the_same_value_are_one_group) {
  GroupedRule rule(GroupedErrorRate(), "blue", MakeRule);
  const LineSource first = Source({"shop"});
  const LineSource rotated_in = Source({"shop"});
  Feed(rule, &first, 30, 0, 0);
  Feed(rule, &rotated_in, 30, 0, 1);
  Feed(rule, &first, 30, 0, 2);
  rule.Evaluate(At(5));
  ASSERT_EQ(rule.group_count(), 1u);
  EXPECT_EQ(rule.conditions()[0].window_fill, 90u);
}

TEST(GroupedRule, past_the_cap_new_groups_share_one_other_group) {
  GroupedRule rule(GroupedErrorRate(), "blue", MakeRule);
  std::vector<LineSource> sources;
  for (int i = 0; i < 70; ++i) sources.push_back(Source({"site" + std::to_string(i)}));
  for (size_t i = 0; i < sources.size(); ++i) Feed(rule, &sources[i], 2, 0, static_cast<double>(i));
  rule.Evaluate(At(100));
  ASSERT_EQ(rule.group_count(), GroupedRule::kMaxGroups + 1);
  EXPECT_THAT(rule.group_labels(GroupedRule::kMaxGroups),
              UnorderedElementsAre(Pair("site", "other")));
  // The 20 sites past the cap, two lines each, went to "other".
  const int other = AlertWith(rule, {{"site", "other"}});
  ASSERT_GE(other, 0);
  EXPECT_EQ(rule.conditions()[static_cast<size_t>(other)].window_fill, 40u);
  // The first 50 keep their own.
  EXPECT_GE(AlertWith(rule, {{"site", "site49"}}), 0);
  EXPECT_EQ(AlertWith(rule, {{"site", "site50"}}), -1);
}

TEST(GroupedRule, keeps_the_kind_s_own_labels_beside_the_group_s) {
  RuleConfig config = GroupedErrorRate();
  config.scope = ErrorScope::kUpstream;
  GroupedRule rule(config, "blue", MakeRule);
  const LineSource shop = Source({"shop"});
  Feed(rule, &shop, 50, 2, 0);
  rule.Evaluate(At(5));
  const int alert = AlertWith(rule, {{"site", "shop"}, {"pool", "blue"}});
  ASSERT_GE(alert, 0);
  EXPECT_TRUE(rule.conditions()[static_cast<size_t>(alert)].active);
}

// Through the engine: keys, messages and resolution per site.
AlertingConfig EngineConfig(RuleConfig rule) {
  AlertingConfig config;
  config.rules = {std::move(rule)};
  return config;
}

std::vector<Notification> People(const Evaluation& e) {
  std::vector<Notification> out;
  for (const Notification& n : e.notifications) {
    if (!n.state_only && !n.incident_note) out.push_back(n);
  }
  return out;
}

TEST(GroupedRule, each_site_pages_and_resolves_as_its_own_alert) {
  AlertEngine engine(EngineConfig(GroupedErrorRate()));
  const LineSource shop = Source({"shop"});
  const LineSource blog = Source({"blog"});
  Feed(engine, &shop, 100, 4, 0);  // 25 %
  Feed(engine, &blog, 100, 4, 1);
  std::vector<Notification> fired = People(engine.Evaluate(At(3)));
  ASSERT_EQ(fired.size(), 2u);
  std::vector<std::string> keys = {fired[0].Key(), fired[1].Key()};
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"error_rate{site=blog}", "error_rate{site=shop}"}));
  for (const Notification& n : fired) {
    const std::string site = n.labels.at("site");
    EXPECT_THAT(n.summary, HasSubstr("site " + site));
    EXPECT_THAT(n.Text(), HasSubstr("• site: " + site + "\n"));
  }

  // The blog recovers, the shop does not: only the blog's alert resolves.
  Feed(engine, &blog, 100, 0, 4);
  Feed(engine, &shop, 100, 4, 5);
  std::vector<Notification> next = People(engine.Evaluate(At(7)));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].status, AlertStatus::kResolved);
  EXPECT_EQ(next[0].Key(), "error_rate{site=blog}");
  EXPECT_THAT(next[0].summary, HasSubstr("[site blog]"));

  const EngineStatus status = engine.Status(At(7));
  ASSERT_EQ(status.rules.size(), 2u);
  for (const RuleStatus& r : status.rules) {
    EXPECT_EQ(r.firing, r.labels.at("site") == "shop");
    EXPECT_EQ(r.announced, r.labels.at("site") == "shop");
  }
}

TEST(GroupedRule, a_restart_keeps_each_site_s_announced_alert) {
  AlertEngine before(EngineConfig(GroupedErrorRate()));
  const LineSource shop = Source({"shop"});
  const LineSource blog = Source({"blog"});
  Feed(before, &shop, 100, 4, 0);
  Feed(before, &blog, 100, 0, 1);
  ASSERT_EQ(People(before.Evaluate(At(3))).size(), 1u);
  const EngineState saved = before.ExportState();
  ASSERT_EQ(saved.alerts.size(), 1u);
  EXPECT_THAT(saved.alerts[0].labels, UnorderedElementsAre(Pair("site", "shop")));

  AlertEngine after(EngineConfig(GroupedErrorRate()));
  EXPECT_TRUE(after.ImportState(saved).empty());
  // New files after the restart (new ids), the same sites. Still failing: no second page; then
  // clear: one resolution, for the shop.
  const LineSource shop_again = Source({"shop"});
  const LineSource blog_again = Source({"blog"});
  Feed(after, &shop_again, 100, 4, 10);
  Feed(after, &blog_again, 100, 0, 11);
  EXPECT_TRUE(People(after.Evaluate(At(13))).empty());
  Feed(after, &shop_again, 100, 0, 14);
  const std::vector<Notification> resolved = People(after.Evaluate(At(16)));
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].status, AlertStatus::kResolved);
  EXPECT_EQ(resolved[0].Key(), "error_rate{site=shop}");
}

TEST(GroupedRule, an_ungrouped_rule_s_saved_alert_lands_in_the_empty_group) {
  RuleConfig ungrouped = GroupedErrorRate();
  ungrouped.group_by.clear();
  EngineState saved;
  saved.alerts.push_back(AlertStateRecord{"error_rate", RuleKind::kErrorRate, {}, true, At(0), 0});
  AlertEngine engine(EngineConfig(GroupedErrorRate()));
  engine.ImportState(saved);
  const EngineStatus status = engine.Status(At(1));
  ASSERT_EQ(status.rules.size(), 1u);
  EXPECT_THAT(status.rules[0].labels, UnorderedElementsAre(Pair("site", "")));
  EXPECT_TRUE(status.rules[0].announced);
}

RuleConfig GroupedSlo() {
  RuleConfig c;
  c.name = "availability";
  c.kind = RuleKind::kSlo;
  c.objective_percent = 99;
  c.min_requests = 10;
  c.group_by = {{"site", 0}};
  return c;
}

TEST(GroupedRule, slo_counts_are_saved_and_restored_per_site) {
  AlertEngine before(EngineConfig(GroupedSlo()));
  const LineSource shop = Source({"shop"});
  const LineSource blog = Source({"blog"});
  Feed(before, &shop, 200, 10, 0);
  Feed(before, &blog, 50, 0, 2);
  before.Evaluate(At(5));
  const EngineState saved = before.ExportState();
  ASSERT_EQ(saved.counters.size(), 2u);
  for (const RuleCounters& c : saved.counters) EXPECT_EQ(c.group.size(), 1u);

  AlertEngine after(EngineConfig(GroupedSlo()));
  EXPECT_TRUE(after.ImportState(saved).empty());
  const EngineState again = after.ExportState();
  ASSERT_EQ(again.counters.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again.counters[i].group, saved.counters[i].group);
    ASSERT_EQ(again.counters[i].rings.size(), saved.counters[i].rings.size());
    for (size_t k = 0; k < saved.counters[i].rings.size(); ++k) {
      EXPECT_EQ(again.counters[i].rings[k].requests, saved.counters[i].rings[k].requests);
      EXPECT_EQ(again.counters[i].rings[k].bad, saved.counters[i].rings[k].bad);
    }
  }

  // The whole rule's counts are not one site's, nor one site's the whole rule's.
  RuleConfig ungrouped = GroupedSlo();
  ungrouped.group_by.clear();
  AlertEngine plain(EngineConfig(ungrouped));
  EXPECT_EQ(plain.ImportState(saved).size(), 2u);
  AlertEngine grouped(EngineConfig(GroupedSlo()));
  EXPECT_EQ(grouped.ImportState(plain.ExportState()).size(), 1u);
}

TEST(GroupedRule, a_reload_with_the_same_rule_keeps_the_groups_windows) {
  AlertEngine engine(EngineConfig(GroupedErrorRate()));
  const LineSource shop = Source({"shop"});
  Feed(engine, &shop, 100, 4, 0);
  ASSERT_EQ(People(engine.Evaluate(At(2))).size(), 1u);

  RuleConfig same = GroupedErrorRate();
  same.threshold_percent = 6;  // a setting changes, not the grouping
  engine.Reconfigure(EngineConfig(same));
  EXPECT_TRUE(People(engine.Evaluate(At(3))).empty());  // still firing, not re-announced
  const EngineStatus status = engine.Status(At(3));
  ASSERT_EQ(status.rules.size(), 1u);
  EXPECT_EQ(status.rules[0].window_fill, 100u);
  EXPECT_DOUBLE_EQ(status.rules[0].threshold, 6.0);
  EXPECT_TRUE(status.rules[0].announced);

  // Grouping by something else is another rule: the old one's alert is resolved.
  RuleConfig regrouped = same;
  regrouped.group_by = {{"host", 0}};
  engine.Reconfigure(EngineConfig(regrouped));
  const std::vector<Notification> gone = People(engine.Evaluate(At(4)));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].status, AlertStatus::kResolved);
  EXPECT_EQ(gone[0].Key(), "error_rate{site=shop}");
}

}  // namespace
}  // namespace poolwatch
