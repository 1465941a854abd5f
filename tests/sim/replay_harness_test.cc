// How the harness judges a run's notifications against its truth.
#include "tests/sim/replay_harness.h"

#include <gtest/gtest.h>

namespace poolwatch::sim {
namespace {

using Seconds = std::chrono::seconds;

TimePoint At(int seconds) { return DefaultStart() + Seconds(seconds); }

SentNotification Sent(int seconds, const std::string& rule, bool firing, uint64_t requests = 0) {
  SentNotification n;
  n.at = At(seconds);
  n.rule = rule;
  n.firing = firing;
  n.requests = requests;
  if (rule == "failover") n.labels = {{"pool", "blue"}};
  return n;
}

SimRun RunWith(std::vector<SentNotification> notifications) {
  SimRun run;
  // Two incidents: 100-200 s (requests 1000-2000) and 500-600 s (requests 5000-6000).
  run.incidents = {Incident{At(100), At(200), 1000, 2000}, Incident{At(500), At(600), 5000, 6000}};
  run.notifications = std::move(notifications);
  return run;
}

TEST(Judge, AttributesFiringsToTheirIncidentAndResolutionsToTheirFiring) {
  const RunOutcome report =
      Judge(RunWith({Sent(105, "error_rate", true, 1050), Sent(260, "error_rate", false),
                     Sent(520, "error_rate", true, 5300), Sent(700, "error_rate", false)}),
            "error_rate", Seconds(30));
  ASSERT_EQ(report.incidents.size(), 2u);
  EXPECT_EQ(report.incidents[0].firings, 1);
  EXPECT_EQ(report.incidents[0].resolutions, 1);
  EXPECT_EQ(report.incidents[0].false_resolutions, 0);
  EXPECT_EQ(report.incidents[0].requests_to_page, 50u);
  EXPECT_EQ(report.incidents[0].time_to_page, Seconds(5));
  EXPECT_EQ(report.incidents[0].resolved_after_end, Seconds(60));
  EXPECT_EQ(report.incidents[1].requests_to_page, 300u);
  EXPECT_EQ(report.false_pages, 0);
  EXPECT_EQ(report.stray_resolutions, 0);
}

TEST(Judge, CountsFalsePagesFalseResolutionsAndOtherRules) {
  const RunOutcome report = Judge(
      RunWith({Sent(10, "error_rate", true),                                   // before anything
               Sent(40, "error_rate", false),                                  // its resolution
               Sent(120, "error_rate", true),                                  // the incident
               Sent(150, "error_rate", false),                                 // while still on
               Sent(170, "error_rate", true),                                  // again
               Sent(229, "error_rate", true),                                  // late, within grace
               Sent(231, "error_rate", false), Sent(300, "error_rate", true),  // past the grace
               Sent(510, "failover", true)}),
      "error_rate", Seconds(30));
  EXPECT_EQ(report.incidents[0].firings, 3);
  EXPECT_EQ(report.incidents[0].resolutions, 2);
  EXPECT_EQ(report.incidents[0].false_resolutions, 1);
  EXPECT_EQ(report.incidents[1].firings, 0);
  EXPECT_EQ(report.false_pages, 2);
  EXPECT_EQ(report.stray_resolutions, 1);
  EXPECT_EQ(report.pages_of_other_rules, 1);
}

TEST(Judge, KeepsAlertsWithDifferentLabelsApart) {
  SentNotification green = Sent(150, "failover", true);
  green.labels = {{"pool", "green"}};
  SentNotification green_resolved = Sent(160, "failover", false);
  green_resolved.labels = {{"pool", "green"}};
  const RunOutcome report = Judge(
      RunWith({Sent(110, "failover", true), green, green_resolved, Sent(230, "failover", false)}),
      "failover", Seconds(0));
  // Blue's firing stays open across green's resolution, and resolves after the end.
  EXPECT_EQ(report.incidents[0].firings, 2);
  EXPECT_EQ(report.incidents[0].resolutions, 2);
  EXPECT_EQ(report.incidents[0].false_resolutions, 1);  // green's, at 160 s
  EXPECT_EQ(report.incidents[0].resolved_after_end, Seconds(30));
}

}  // namespace
}  // namespace poolwatch::sim
