#include <gtest/gtest.h>

#include "alerting/policy.h"
#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::Active;
using poolwatch::testing::At;
using poolwatch::testing::Inactive;
using std::chrono::seconds;

RuleConfig PolicyConfig() {
  RuleConfig c;
  c.name = "error_rate";
  c.kind = RuleKind::kErrorRate;
  c.cooldown = seconds(300);
  return c;
}

class NotificationPolicyTest : public ::testing::Test {
 protected:
  PolicyResult Decide(const AlertCondition& c, double t, PolicyInput in = {}) {
    return policy_.Decide(c, in, At(t), state_);
  }
  void Use(const RuleConfig& config) { policy_ = NotificationPolicy(config); }

  NotificationPolicy policy_{PolicyConfig()};
  AlertPolicyState state_;
};

TEST_F(NotificationPolicyTest, fires_once_then_reports_still_firing) {
  PolicyResult r = Decide(Active(1), 0);
  EXPECT_EQ(r.decision, Decision::kFired);
  EXPECT_TRUE(r.send_firing);
  EXPECT_FALSE(r.send_resolved);
  r = Decide(Active(), 1);
  EXPECT_EQ(r.decision, Decision::kFiring);
  EXPECT_FALSE(r.send_firing);
  EXPECT_TRUE(state_.announced);
}

TEST_F(NotificationPolicyTest, resolves_an_announced_alert) {
  Decide(Active(1), 0);
  const PolicyResult r = Decide(Inactive(), 10);
  EXPECT_EQ(r.decision, Decision::kResolved);
  EXPECT_TRUE(r.send_resolved);
  EXPECT_FALSE(state_.announced);
}

TEST_F(NotificationPolicyTest, does_not_refire_within_cooldown_and_counts_the_swallowed) {
  Decide(Active(1), 0);
  Decide(Inactive(), 10);  // resolved (sent)
  PolicyResult r = Decide(Active(1), 20);
  EXPECT_EQ(r.decision, Decision::kSuppressedCooldown);
  EXPECT_FALSE(r.send_firing);
  r = Decide(Inactive(), 30);  // the held episode ended unannounced: counted, and no resolved
  EXPECT_FALSE(r.send_resolved);
  EXPECT_EQ(r.decision, Decision::kBelowThreshold);
  EXPECT_EQ(state_.suppressed, 1);
  Decide(Active(1), 40);
  Decide(Inactive(), 50);
  EXPECT_EQ(state_.suppressed, 2);
  r = Decide(Active(1), 301);  // cooldown over
  EXPECT_EQ(r.decision, Decision::kFired);
  EXPECT_EQ(r.suppressed, 2);
  EXPECT_EQ(state_.suppressed, 0);
}

TEST_F(NotificationPolicyTest, held_episode_is_announced_when_the_cooldown_ends) {
  Decide(Active(1), 0);
  Decide(Inactive(), 10);
  EXPECT_EQ(Decide(Active(1), 20).decision, Decision::kSuppressedCooldown);
  EXPECT_EQ(Decide(Active(), 200).decision, Decision::kSuppressedCooldown);
  const PolicyResult r = Decide(Active(), 300);
  EXPECT_EQ(r.decision, Decision::kFired);
  EXPECT_EQ(r.suppressed, 0) << "delayed, not swallowed";
}

TEST_F(NotificationPolicyTest, cooldown_starts_only_when_a_message_is_handed_out) {
  EXPECT_EQ(Decide(Active(1), 0, {.muted = true}).decision, Decision::kMaintenance);
  EXPECT_EQ(Decide(Active(), 5, {.inhibited = true}).decision, Decision::kInhibited);
  EXPECT_FALSE(state_.last_fired.has_value());
  EXPECT_FALSE(policy_.InCooldown(state_, At(6)));
  EXPECT_EQ(Decide(Active(), 6).decision, Decision::kFired);
  EXPECT_TRUE(policy_.InCooldown(state_, At(7)));
}

TEST_F(NotificationPolicyTest, latched_episode_fires_then_resolves) {
  const PolicyResult r = Decide(Inactive(1), 0);
  EXPECT_EQ(r.decision, Decision::kFired);
  EXPECT_TRUE(r.send_firing);
  EXPECT_TRUE(r.send_resolved);
  EXPECT_FALSE(state_.announced);
  EXPECT_TRUE(policy_.InCooldown(state_, At(1)));
}

TEST_F(NotificationPolicyTest, send_resolved_off_sends_no_resolution) {
  RuleConfig config = PolicyConfig();
  config.send_resolved = false;
  Use(config);
  Decide(Active(1), 0);
  const PolicyResult r = Decide(Inactive(), 10);
  EXPECT_EQ(r.decision, Decision::kResolved);
  EXPECT_FALSE(r.send_resolved);
  EXPECT_FALSE(state_.announced);
  EXPECT_FALSE(Decide(Inactive(1), 400).send_resolved);  // latched: firing only
}

TEST_F(NotificationPolicyTest, repeat_interval_resends_a_still_firing_alert) {
  RuleConfig config = PolicyConfig();
  config.repeat_interval = seconds(3600);
  Use(config);
  Decide(Active(1), 0);
  EXPECT_EQ(Decide(Active(), 3599).decision, Decision::kFiring);
  PolicyResult r = Decide(Active(), 3600);
  EXPECT_EQ(r.decision, Decision::kRepeated);
  EXPECT_TRUE(r.send_firing);
  EXPECT_TRUE(r.repeat);
  EXPECT_EQ(Decide(Active(), 3601).decision, Decision::kFiring);
  EXPECT_EQ(Decide(Active(), 7200).decision, Decision::kRepeated);
}

TEST_F(NotificationPolicyTest, no_repeat_without_repeat_interval) {
  Decide(Active(1), 0);
  EXPECT_EQ(Decide(Active(), 1e6).decision, Decision::kFiring);
}

TEST_F(NotificationPolicyTest, maintenance_holds_the_resolution_until_it_ends) {
  Decide(Active(1), 0);
  EXPECT_EQ(Decide(Inactive(), 10, {.muted = true}).decision, Decision::kMaintenance);
  EXPECT_TRUE(state_.announced);
  const PolicyResult r = Decide(Inactive(), 20);
  EXPECT_EQ(r.decision, Decision::kResolved);
  EXPECT_TRUE(r.send_resolved);
}

TEST_F(NotificationPolicyTest, inhibition_does_not_hold_back_a_resolution) {
  Decide(Active(1), 0);
  const PolicyResult r = Decide(Inactive(), 10, {.inhibited = true});
  EXPECT_EQ(r.decision, Decision::kResolved);
  EXPECT_TRUE(r.send_resolved);
}

TEST_F(NotificationPolicyTest, refire_between_evaluations_outside_cooldown_is_announced) {
  Decide(Active(1), 0);
  const PolicyResult r = Decide(Active(1), 400);  // resolved and fired again since
  EXPECT_EQ(r.decision, Decision::kFired);
  EXPECT_TRUE(r.send_firing);
}

TEST_F(NotificationPolicyTest, change_within_cooldown_is_counted_not_sent) {
  Decide(Active(1), 0);
  AlertCondition moved = Active();
  moved.changed = true;
  const PolicyResult r = Decide(moved, 10);
  EXPECT_EQ(r.decision, Decision::kSuppressedCooldown);
  EXPECT_FALSE(r.send_firing);
  EXPECT_EQ(state_.suppressed, 1);
  const PolicyResult resolved = Decide(Inactive(), 20);
  EXPECT_TRUE(resolved.send_resolved);
  EXPECT_EQ(resolved.suppressed, 1);
}

TEST_F(NotificationPolicyTest, restored_alert_waits_for_data_before_resolving) {
  state_.announced = true;
  state_.restored = true;
  state_.last_fired = At(0);
  PolicyResult r = Decide(Inactive(0, Decision::kTooFewRequests), 10);
  EXPECT_EQ(r.decision, Decision::kFiring);
  EXPECT_FALSE(r.send_resolved);
  r = Decide(Active(1), 11);  // the rule finds the condition again: same incident
  EXPECT_EQ(r.decision, Decision::kFiring);
  EXPECT_FALSE(r.send_firing);
}

TEST_F(NotificationPolicyTest, restored_alert_resolves_after_max_age_without_data) {
  state_.announced = true;
  state_.restored = true;
  EXPECT_EQ(Decide(Inactive(0, Decision::kTooFewRequests), 10).decision, Decision::kFiring);
  const PolicyResult r = Decide(Inactive(0, Decision::kTooFewRequests), 310);
  EXPECT_EQ(r.decision, Decision::kResolved);
  EXPECT_TRUE(r.send_resolved);
}

TEST_F(NotificationPolicyTest, inactive_alert_reports_the_rule_reason) {
  EXPECT_EQ(Decide(Inactive(0, Decision::kTooFewRequests), 0).decision, Decision::kTooFewRequests);
  EXPECT_EQ(Decide(Inactive(0, Decision::kPending), 1).decision, Decision::kPending);
  EXPECT_EQ(Decide(Inactive(), 2).decision, Decision::kBelowThreshold);
}

TEST(DecisionName, names_are_stable_snake_case) {
  EXPECT_EQ(DecisionName(Decision::kFired), "fired");
  EXPECT_EQ(DecisionName(Decision::kResolved), "resolved");
  EXPECT_EQ(DecisionName(Decision::kRepeated), "repeated");
  EXPECT_EQ(DecisionName(Decision::kFiring), "firing");
  EXPECT_EQ(DecisionName(Decision::kSuppressedCooldown), "in_cooldown");
  EXPECT_EQ(DecisionName(Decision::kBelowThreshold), "below_threshold");
  EXPECT_EQ(DecisionName(Decision::kTooFewRequests), "too_few_requests");
  EXPECT_EQ(DecisionName(Decision::kPending), "pending");
  EXPECT_EQ(DecisionName(Decision::kMaintenance), "in_maintenance");
  EXPECT_EQ(DecisionName(Decision::kInhibited), "inhibited");
}

}  // namespace
}  // namespace poolwatch

namespace poolwatch {
namespace {

using poolwatch::testing::Resolving;

class HeldFiringPolicyTest : public ::testing::Test {
 protected:
  PolicyResult Decide(const AlertCondition& c, double t) {
    return policy_.Decide(c, {}, At(t), state_);
  }
  // Fired at 0, resolved at 10; fires again at 20, held by the cooldown until 300.
  void HeldEpisode() {
    ASSERT_TRUE(Decide(Active(1), 0).send_firing);
    ASSERT_TRUE(Decide(Inactive(), 10).send_resolved);
    ASSERT_EQ(Decide(Active(1), 20).decision, Decision::kSuppressedCooldown);
  }

  NotificationPolicy policy_{PolicyConfig()};
  AlertPolicyState state_;
};

TEST_F(HeldFiringPolicyTest, a_held_firing_clearing_when_the_cooldown_ends_is_not_sent) {
  HeldEpisode();
  PolicyResult r = Decide(Resolving(), 301);
  EXPECT_FALSE(r.send_firing) << "a page about something going away";
  EXPECT_EQ(r.decision, Decision::kResolving);
  r = Decide(Inactive(), 400);
  EXPECT_FALSE(r.send_resolved) << "people never heard of it";
  EXPECT_EQ(state_.suppressed, 1) << "counted for the next message";
  r = Decide(Active(1), 500);
  EXPECT_TRUE(r.send_firing);
  EXPECT_EQ(r.suppressed, 1);
}

TEST_F(HeldFiringPolicyTest, a_held_firing_breaching_again_after_the_cooldown_is_sent) {
  HeldEpisode();
  EXPECT_FALSE(Decide(Resolving(), 301).send_firing);
  const PolicyResult r = Decide(Active(), 302);
  EXPECT_TRUE(r.send_firing);
  EXPECT_EQ(r.decision, Decision::kFired);
}

TEST_F(HeldFiringPolicyTest, no_repeat_while_clearing) {
  RuleConfig config = PolicyConfig();
  config.repeat_interval = seconds(60);
  policy_ = NotificationPolicy(config);
  ASSERT_TRUE(Decide(Active(1), 0).send_firing);
  PolicyResult r = Decide(Resolving(), 100);
  EXPECT_FALSE(r.send_firing);
  EXPECT_EQ(r.decision, Decision::kResolving);
  EXPECT_TRUE(Decide(Active(), 110).repeat);
}

}  // namespace
}  // namespace poolwatch
