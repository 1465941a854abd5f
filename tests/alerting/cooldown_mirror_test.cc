// The cooldown holds messages back from people, not from Alertmanager: a (re)firing held back
// by cooldown, and the end of such an episode, still reach the notifiers that mirror alert
// state, as state_only notifications. And each notification carries its rule's `notify` list.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "alerting/alert_engine.h"
#include "alerting/policy.h"
#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::Active;
using poolwatch::testing::At;
using poolwatch::testing::Inactive;
using poolwatch::testing::Request;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// The seed's rules, resolving as soon as the condition clears: these tests are about the
// cooldown, not about how long a resolution waits.
AlertingConfig SeedResolvingAtOnce() {
  AlertingConfig config = AlertingConfig::SeedDefaults();
  for (RuleConfig& rule : config.rules) rule = poolwatch::testing::ResolvingAtOnce(rule);
  return config;
}

AlertCondition Condition(bool active, int started = 0) {
  return active ? Active(started) : Inactive(started);
}

class CooldownMirrorPolicyTest : public ::testing::Test {
 protected:
  CooldownMirrorPolicyTest() {
    RuleConfig config;
    config.name = "failover";
    config.cooldown = seconds(300);
    policy_ = NotificationPolicy(config);
  }
  PolicyResult Decide(bool active, int started, double t, PolicyInput in = {}) {
    return policy_.Decide(Condition(active, started), in, At(t), state_);
  }
  // Fired at 0, resolved at 10: the cooldown runs until 300.
  void FiredAndResolved() {
    ASSERT_TRUE(Decide(true, 1, 0).send_firing);
    ASSERT_TRUE(Decide(false, 0, 10).send_resolved);
  }

  NotificationPolicy policy_{RuleConfig{}};
  AlertPolicyState state_;
};

TEST_F(CooldownMirrorPolicyTest,
       a_refire_held_by_the_cooldown_still_fires_and_resolves_for_mirrors) {
  FiredAndResolved();
  PolicyResult r = Decide(true, 1, 20);
  EXPECT_EQ(r.decision, Decision::kSuppressedCooldown);
  EXPECT_FALSE(r.send_firing) << "people are spared";
  EXPECT_TRUE(r.mirror_firing) << "Alertmanager must not show it resolved";
  EXPECT_FALSE(Decide(true, 0, 30).mirror_firing) << "told once";
  r = Decide(false, 0, 40);
  EXPECT_FALSE(r.send_resolved) << "people were never told it fired";
  EXPECT_TRUE(r.mirror_resolved);
  EXPECT_FALSE(Decide(false, 0, 50).mirror_resolved);
}

TEST(CooldownMirrorPolicy, with_send_resolved_off_the_end_still_reaches_the_mirrors) {
  RuleConfig config;
  config.name = "failover";
  config.send_resolved = false;
  NotificationPolicy policy(config);
  AlertPolicyState state;
  ASSERT_TRUE(policy.Decide(Condition(true, 1), {}, At(0), state).send_firing);
  PolicyResult r = policy.Decide(Condition(false), {}, At(10), state);
  EXPECT_FALSE(r.send_resolved) << "people asked not to be told";
  EXPECT_TRUE(r.mirror_resolved) << "Alertmanager would re-post it as firing forever";
  // Began and ended between two evaluations, out of the cooldown.
  r = policy.Decide(Condition(false, 1), {}, At(400), state);
  EXPECT_TRUE(r.send_firing);
  EXPECT_FALSE(r.send_resolved);
  EXPECT_TRUE(r.mirror_resolved);
}

TEST_F(CooldownMirrorPolicyTest, a_held_episode_announced_when_the_cooldown_ends_is_one_episode) {
  FiredAndResolved();
  EXPECT_TRUE(Decide(true, 1, 20).mirror_firing);
  PolicyResult r = Decide(true, 0, 300);
  EXPECT_EQ(r.decision, Decision::kFired);
  EXPECT_TRUE(r.send_firing);
  EXPECT_FALSE(r.mirror_firing);
  r = Decide(false, 0, 310);
  EXPECT_TRUE(r.send_resolved) << "its end goes to everyone, mirrors included";
  EXPECT_FALSE(r.mirror_resolved) << "not a second time";
}

TEST_F(CooldownMirrorPolicyTest, an_episode_that_began_and_ended_within_the_cooldown_is_mirrored) {
  FiredAndResolved();
  const PolicyResult r = Decide(false, 1, 20);
  EXPECT_EQ(r.decision, Decision::kSuppressedCooldown);
  EXPECT_FALSE(r.send_firing);
  EXPECT_TRUE(r.mirror_firing);
  EXPECT_TRUE(r.mirror_resolved);
  EXPECT_FALSE(state_.mirrored);
}

TEST_F(CooldownMirrorPolicyTest, maintenance_does_not_keep_a_mirrored_alert_firing) {
  FiredAndResolved();
  EXPECT_TRUE(Decide(true, 1, 20).mirror_firing);
  const PolicyResult r = Decide(false, 0, 30, PolicyInput{/*muted=*/true, false});
  EXPECT_TRUE(r.mirror_resolved);
}

TEST_F(CooldownMirrorPolicyTest, a_refire_of_an_alert_still_announced_sends_the_mirrors_nothing) {
  ASSERT_TRUE(Decide(true, 1, 0).send_firing);
  // Traffic came back and left again between two evaluations: still firing for everyone.
  const PolicyResult r = Decide(true, 1, 10);
  EXPECT_EQ(r.decision, Decision::kSuppressedCooldown);
  EXPECT_FALSE(r.mirror_firing);
  EXPECT_FALSE(r.mirror_resolved);
}

TEST_F(CooldownMirrorPolicyTest, muted_or_inhibited_firings_are_not_mirrored) {
  FiredAndResolved();
  EXPECT_FALSE(Decide(true, 1, 20, PolicyInput{true, false}).mirror_firing);
  EXPECT_FALSE(Decide(true, 0, 30, PolicyInput{false, true}).mirror_firing);
}

std::vector<std::string> Statuses(const std::vector<Notification>& notifications) {
  std::vector<std::string> out;
  for (const Notification& n : notifications) {
    out.push_back(std::string(n.status == AlertStatus::kFiring ? "firing" : "resolved") +
                  (n.state_only ? " (state only)" : ""));
  }
  return out;
}

class CooldownMirrorEngineTest : public ::testing::Test {
 protected:
  std::vector<Notification> At(double t, std::string_view pool) {
    engine_->Observe(Request(t, pool));
    return engine_->Evaluate(poolwatch::testing::At(t)).notifications;
  }
  void Start(AlertingConfig config) { engine_ = std::make_unique<AlertEngine>(std::move(config)); }

  std::unique_ptr<AlertEngine> engine_;
};

TEST_F(CooldownMirrorEngineTest, a_second_failover_within_the_cooldown_reaches_only_mirrors) {
  Start(SeedResolvingAtOnce());  // cooldown 300 s
  EXPECT_THAT(Statuses(At(0, "green")), ElementsAre("firing"));
  EXPECT_THAT(Statuses(At(1, "blue")), ElementsAre("resolved"));
  const std::vector<Notification> again = At(10, "green");
  ASSERT_THAT(Statuses(again), ElementsAre("firing (state only)"));
  EXPECT_EQ(again[0].Key(), "failover{pool=blue}");
  EXPECT_THAT(At(11, "green"), IsEmpty());
  EXPECT_THAT(Statuses(At(20, "blue")), ElementsAre("resolved (state only)"));
  EXPECT_THAT(At(21, "blue"), IsEmpty());
}

TEST_F(CooldownMirrorEngineTest, notifications_carry_their_rules_notify_list) {
  AlertingConfig config = SeedResolvingAtOnce();
  for (RuleConfig& rule : config.rules) {
    if (rule.kind == RuleKind::kFailover) rule.notify = {"alertmanager", "console"};
  }
  Start(config);
  const std::vector<Notification> fired = At(0, "green");
  ASSERT_THAT(fired, SizeIs(1));
  EXPECT_THAT(fired[0].notifiers, ElementsAre("alertmanager", "console"));
  At(1, "blue");
  const std::vector<Notification> held = At(10, "green");
  ASSERT_THAT(held, SizeIs(1));
  EXPECT_THAT(held[0].notifiers, ElementsAre("alertmanager", "console"));
}

TEST_F(CooldownMirrorEngineTest, removing_a_rule_resolves_its_mirrored_alert_for_the_mirrors) {
  AlertingConfig config = SeedResolvingAtOnce();
  Start(config);
  At(0, "green");
  At(1, "blue");
  ASSERT_THAT(Statuses(At(10, "green")), ElementsAre("firing (state only)"));
  AlertingConfig without = config;
  std::erase_if(without.rules, [](const RuleConfig& r) { return r.kind == RuleKind::kFailover; });
  engine_->Reconfigure(without);
  const std::vector<Notification> out = engine_->Evaluate(poolwatch::testing::At(11)).notifications;
  ASSERT_THAT(Statuses(out), ElementsAre("resolved (state only)"));
  EXPECT_EQ(out[0].rule, "failover");
}

}  // namespace
}  // namespace poolwatch
