#include "app/incident_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Request;
using poolwatch::testing::Retried;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const Labels kBlue = {{"pool", "blue"}};

RuleStatus Failover(bool firing, TimePoint since, const std::string& serving = "blue") {
  RuleStatus rs;
  rs.name = "failover";
  rs.kind = RuleKind::kFailover;
  rs.labels = kBlue;
  rs.firing = firing;
  rs.value = firing ? 1 : 0;
  rs.since = since;
  rs.serving_pool = serving;
  return rs;
}

RuleStatus ErrorRate(bool firing, double value, TimePoint since) {
  RuleStatus rs;
  rs.name = "error_rate";
  rs.kind = RuleKind::kErrorRate;
  rs.firing = firing;
  rs.value = value;
  rs.since = since;
  return rs;
}

EngineStatus StatusOf(std::vector<RuleStatus> rules) {
  EngineStatus status;
  status.rules = std::move(rules);
  return status;
}

Notification Message(const std::string& rule, const Labels& labels, AlertStatus status,
                     TimePoint at, bool state_only = false) {
  Notification n;
  n.rule = rule;
  n.labels = labels;
  n.status = status;
  n.at = at;
  n.state_only = state_only;
  return n;
}

DecisionRecord Decided(const std::string& rule, const Labels& labels, Decision decision) {
  return DecisionRecord{rule, decision, "", labels};
}

TEST(IncidentReport, AnIncidentRunsFromWhenTheConditionBeganToWhenItCleared) {
  IncidentReport report;
  report.Add(At(10), {}, StatusOf({ErrorRate(false, 0.5, At(0))}));
  report.Add(At(11), {}, StatusOf({ErrorRate(true, 4.0, At(11))}));
  report.Add(At(12), {}, StatusOf({ErrorRate(true, 9.5, At(11))}));
  report.Add(At(13), {}, StatusOf({ErrorRate(true, 3.0, At(11))}));
  report.Add(At(20), {}, StatusOf({ErrorRate(false, 0.5, At(20))}));

  ASSERT_THAT(report.incidents(), SizeIs(1));
  const Incident& incident = report.incidents()[0];
  EXPECT_EQ(incident.rule, "error_rate");
  EXPECT_EQ(incident.start, At(11));
  EXPECT_EQ(incident.end, At(20));
  EXPECT_EQ(incident.Duration(At(100)), std::chrono::seconds(9));
  EXPECT_DOUBLE_EQ(incident.peak_value, 9.5);
  EXPECT_FALSE(incident.latched);
}

TEST(IncidentReport, TheRulesSinceDatesTheIncidentBetweenEvaluations) {
  // Failover is judged per record: traffic left at 10.3 s and came back at 15.6 s.
  IncidentReport report;
  report.Add(At(11), {}, StatusOf({Failover(true, At(10.3), "green")}));
  report.Add(At(16), {}, StatusOf({Failover(false, At(15.6))}));
  ASSERT_THAT(report.incidents(), SizeIs(1));
  EXPECT_EQ(report.incidents()[0].start, At(10.3));
  EXPECT_EQ(report.incidents()[0].end, At(15.6));
}

TEST(IncidentReport, DecisionsItDoesNotKnowLeaveTheIncidentToTheStatus) {
  // A decision kind added later (say "resolving") while the status still says firing: the
  // incident stays open; it ends when the status says so.
  const auto resolving = static_cast<Decision>(1000);
  IncidentReport report;
  report.Add(At(1), {{}, {Decided("error_rate", {}, Decision::kFired)}},
             StatusOf({ErrorRate(true, 5, At(1))}));
  report.Add(At(2), {{}, {Decided("error_rate", {}, resolving)}},
             StatusOf({ErrorRate(true, 1, At(1))}));
  report.Add(At(30), {}, StatusOf({ErrorRate(true, 0.5, At(1))}));
  ASSERT_THAT(report.incidents(), SizeIs(1));
  EXPECT_FALSE(report.incidents()[0].end.has_value());
  report.Add(At(61), {}, StatusOf({ErrorRate(false, 0.5, At(61))}));
  ASSERT_THAT(report.incidents(), SizeIs(1));
  EXPECT_EQ(report.incidents()[0].end, At(61));
  EXPECT_EQ(report.incidents()[0].Suppressed(), 0);
}

TEST(IncidentReport, CountsTheMessagesSentForTheIncident) {
  IncidentReport report;
  report.Add(At(1),
             {{Message("failover", kBlue, AlertStatus::kFiring, At(0.5))},
              {Decided("failover", kBlue, Decision::kFired)}},
             StatusOf({Failover(true, At(0.5), "green")}));
  report.Add(At(3601),
             {{Message("failover", kBlue, AlertStatus::kFiring, At(3601))},
              {Decided("failover", kBlue, Decision::kRepeated)}},
             StatusOf({Failover(true, At(0.5), "green")}));
  report.Add(At(4000),
             {{Message("failover", kBlue, AlertStatus::kResolved, At(3999))},
              {Decided("failover", kBlue, Decision::kResolved)}},
             StatusOf({Failover(false, At(3999))}));

  ASSERT_THAT(report.incidents(), SizeIs(1));
  const Incident& incident = report.incidents()[0];
  EXPECT_EQ(incident.firing_sent, 1);
  EXPECT_EQ(incident.repeats_sent, 1);
  EXPECT_EQ(incident.resolved_sent, 1);
  EXPECT_EQ(incident.Sent(), 3);
  EXPECT_EQ(incident.announced_at, At(1));
  EXPECT_THAT(incident.pools, ElementsAre("green"));
}

TEST(IncidentReport, AnEpisodeTheCooldownSwallowedIsAnIncidentWithNothingSent) {
  IncidentReport report;
  // Held back: people get nothing, only the Alertmanager mirror a state-only firing.
  report.Add(At(100),
             {{Message("failover", kBlue, AlertStatus::kFiring, At(99.5), /*state_only=*/true)},
              {Decided("failover", kBlue, Decision::kSuppressedCooldown)}},
             StatusOf({Failover(true, At(99.5), "green")}));
  report.Add(At(105),
             {{Message("failover", kBlue, AlertStatus::kResolved, At(104), /*state_only=*/true)},
              {Decided("failover", kBlue, Decision::kBelowThreshold)}},
             StatusOf({Failover(false, At(104))}));

  ASSERT_THAT(report.incidents(), SizeIs(1));
  const Incident& incident = report.incidents()[0];
  EXPECT_EQ(incident.Sent(), 0);
  EXPECT_FALSE(incident.announced_at.has_value());
  EXPECT_EQ(incident.held_by_cooldown, 1);
  EXPECT_EQ(incident.Suppressed(), 1);
  EXPECT_EQ(incident.end, At(104));
}

TEST(IncidentReport, AFiringHeldBackThenSentCountsBothAndTheDelay) {
  IncidentReport report;
  report.Add(At(100), {{}, {Decided("error_rate", {}, Decision::kSuppressedCooldown)}},
             StatusOf({ErrorRate(true, 5, At(100))}));
  report.Add(At(300),
             {{Message("error_rate", {}, AlertStatus::kFiring, At(300))},
              {Decided("error_rate", {}, Decision::kFired)}},
             StatusOf({ErrorRate(true, 5, At(100))}));
  ASSERT_THAT(report.incidents(), SizeIs(1));
  EXPECT_EQ(report.incidents()[0].held_by_cooldown, 1);
  EXPECT_EQ(report.incidents()[0].firing_sent, 1);
  EXPECT_EQ(report.incidents()[0].announced_at, At(300));
  EXPECT_THAT(FormatIncidentReportText(report, At(400)), HasSubstr("after 3m20s"));
}

TEST(IncidentReport, AnEpisodeBetweenTwoEvaluationsIsALatchedIncident) {
  // The rule latched an episode that began at 10.2 s and ended at 10.7 s: the status never
  // showed it active, the messages did.
  IncidentReport report;
  report.Add(At(10), {}, StatusOf({Failover(false, At(0))}));
  report.Add(At(11),
             {{Message("failover", kBlue, AlertStatus::kFiring, At(10.2)),
               Message("failover", kBlue, AlertStatus::kResolved, At(10.7))},
              {Decided("failover", kBlue, Decision::kFired),
               Decided("failover", kBlue, Decision::kResolved)}},
             StatusOf({Failover(false, At(10.7))}));

  ASSERT_THAT(report.incidents(), SizeIs(1));
  const Incident& incident = report.incidents()[0];
  EXPECT_TRUE(incident.latched);
  EXPECT_EQ(incident.start, At(10.2));
  EXPECT_EQ(incident.end, At(10.7));
  EXPECT_EQ(incident.firing_sent, 1);
  EXPECT_EQ(incident.resolved_sent, 1);
}

TEST(IncidentReport, ALatchedEpisodeTheCooldownSwallowedIsStillAnIncident) {
  IncidentReport report;
  report.Add(At(11),
             {{Message("failover", kBlue, AlertStatus::kFiring, At(10.2), /*state_only=*/true),
               Message("failover", kBlue, AlertStatus::kResolved, At(10.7), /*state_only=*/true)},
              {Decided("failover", kBlue, Decision::kSuppressedCooldown)}},
             StatusOf({Failover(false, At(10.7))}));
  ASSERT_THAT(report.incidents(), SizeIs(1));
  const Incident& incident = report.incidents()[0];
  EXPECT_TRUE(incident.latched);
  EXPECT_EQ(incident.start, At(10.2));
  EXPECT_EQ(incident.end, At(10.7));
  EXPECT_EQ(incident.Sent(), 0);
  EXPECT_EQ(incident.held_by_cooldown, 1);
  EXPECT_THAT(FormatIncidentReportText(report, At(20)),
              HasSubstr("began and ended between two evaluations"));
}

TEST(IncidentReport, MaintenanceAndInhibitionCountAsHeldBack) {
  IncidentReport report;
  report.Add(At(1), {{}, {Decided("failover", kBlue, Decision::kMaintenance)}},
             StatusOf({Failover(true, At(0.5), "green")}));
  // Ends during maintenance: the resolution waits too (the same decision, not reported again).
  report.Add(At(5), {}, StatusOf({Failover(false, At(4.5))}));
  // Maintenance over: nothing to announce, the resolution is not sent since nothing was.
  report.Add(At(60), {{}, {Decided("failover", kBlue, Decision::kBelowThreshold)}},
             StatusOf({Failover(false, At(4.5))}));
  const Labels green = {{"pool", "green"}};
  RuleStatus upstream = ErrorRate(true, 50, At(2));
  upstream.name = "upstream_error_rate";
  upstream.labels = green;
  report.Add(At(61), {{}, {Decided("upstream_error_rate", green, Decision::kInhibited)}},
             StatusOf({Failover(false, At(4.5)), upstream}));

  ASSERT_THAT(report.incidents(), SizeIs(2));
  EXPECT_EQ(report.incidents()[0].held_by_maintenance, 1);
  EXPECT_EQ(report.incidents()[0].Sent(), 0);
  EXPECT_EQ(report.incidents()[1].held_by_inhibition, 1);
  EXPECT_EQ(report.incidents()[1].labels, green);
}

TEST(IncidentReport, AResolutionSentLateBelongsToTheIncidentItEnds) {
  IncidentReport report;
  report.Add(At(1),
             {{Message("failover", kBlue, AlertStatus::kFiring, At(1))},
              {Decided("failover", kBlue, Decision::kFired)}},
             StatusOf({Failover(true, At(1), "green")}));
  report.Add(At(5), {{}, {Decided("failover", kBlue, Decision::kMaintenance)}},
             StatusOf({Failover(false, At(4))}));
  report.Add(At(60),
             {{Message("failover", kBlue, AlertStatus::kResolved, At(60))},
              {Decided("failover", kBlue, Decision::kResolved)}},
             StatusOf({Failover(false, At(4))}));
  ASSERT_THAT(report.incidents(), SizeIs(1));
  EXPECT_EQ(report.incidents()[0].end, At(4));
  EXPECT_EQ(report.incidents()[0].resolved_sent, 1);
  EXPECT_EQ(report.incidents()[0].held_by_maintenance, 1);
}

TEST(IncidentReport, AnIncidentStillFiringAtTheEndRunsToTheEndOfTheLog) {
  IncidentReport report;
  report.Add(At(1), {}, StatusOf({Failover(false, At(0)), ErrorRate(false, 0, At(0))}));
  report.Add(At(5), {}, StatusOf({Failover(true, At(5), "green"), ErrorRate(false, 0, At(0))}));
  ASSERT_THAT(report.incidents(), SizeIs(1));
  EXPECT_FALSE(report.incidents()[0].end.has_value());
  EXPECT_EQ(report.incidents()[0].Duration(At(65)), std::chrono::seconds(60));

  const std::vector<RuleReport> rules = report.Rules(At(65));
  ASSERT_THAT(rules, SizeIs(2));
  EXPECT_EQ(rules[0].rule, "failover");
  EXPECT_EQ(rules[0].incidents, 1);
  EXPECT_EQ(rules[0].not_announced, 1);
  EXPECT_EQ(rules[0].firing, std::chrono::seconds(60));
  EXPECT_EQ(rules[1].rule, "error_rate");
  EXPECT_EQ(rules[1].incidents, 0);
}

TEST(IncidentReport, TheRuleSummaryAddsUpItsIncidents) {
  IncidentReport report;
  for (int i = 0; i < 3; ++i) {
    const double t = 100.0 * i;
    Evaluation fired;
    if (i == 0) {
      fired.notifications = {Message("failover", kBlue, AlertStatus::kFiring, At(t))};
    } else {
      fired.decisions = {Decided("failover", kBlue, Decision::kSuppressedCooldown)};
    }
    report.Add(At(t + 1), fired, StatusOf({Failover(true, At(t), "green")}));
    report.Add(At(t + 11), {}, StatusOf({Failover(false, At(t + 10))}));
  }
  const std::vector<RuleReport> rules = report.Rules(At(1000));
  ASSERT_THAT(rules, SizeIs(1));
  EXPECT_EQ(rules[0].incidents, 3);
  EXPECT_EQ(rules[0].not_announced, 2);
  EXPECT_EQ(rules[0].sent, 1);
  EXPECT_EQ(rules[0].suppressed, 2);
  EXPECT_EQ(rules[0].firing, std::chrono::seconds(30));
}

TEST(IncidentReport, TheTimelineIsInStartOrder) {
  // The failover episode latched between 10 and 11 began before the error rate the evaluation
  // at 11 found active, though the report learns of both at once.
  IncidentReport report;
  report.Add(
      At(11),
      {{Message("failover", kBlue, AlertStatus::kFiring, At(10.2), /*state_only=*/true)}, {}},
      StatusOf({Failover(false, At(10.7)), ErrorRate(true, 5, At(11))}));
  ASSERT_THAT(report.incidents(), SizeIs(2));
  EXPECT_EQ(report.incidents()[0].rule, "error_rate");
  const std::vector<const Incident*> timeline = report.Timeline();
  ASSERT_THAT(timeline, SizeIs(2));
  EXPECT_EQ(timeline[0]->rule, "failover");
  EXPECT_EQ(timeline[1]->rule, "error_rate");
  const std::string text = FormatIncidentReportText(report, At(20));
  EXPECT_LT(text.find("failover  "), text.find("error_rate  "));
}

// The columns of the line that starts with `first_cell`, split on runs of two spaces or more.
std::vector<std::string> CellsOf(const std::string& text, const std::string& first_cell) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(first_cell + " ", 0) != 0) continue;
    std::vector<std::string> cells;
    size_t at = 0;
    while (at < line.size()) {
      size_t gap = line.find("  ", at);
      cells.push_back(line.substr(at, gap - at));
      if (gap == std::string::npos) break;
      at = line.find_first_not_of(' ', gap);
    }
    return cells;
  }
  return {};
}

TEST(IncidentReport, TextHasOneAlignedLinePerIncidentAndOnePerRule) {
  IncidentReport report;
  report.Add(At(0), {}, StatusOf({Failover(false, At(0)), ErrorRate(false, 0, At(0))}));
  report.Add(At(11),
             {{Message("failover", kBlue, AlertStatus::kFiring, At(10))},
              {Decided("failover", kBlue, Decision::kFired)}},
             StatusOf({Failover(true, At(10), "green"), ErrorRate(true, 37.5, At(11))}));
  report.Add(At(20), {{Message("failover", kBlue, AlertStatus::kResolved, At(20))}, {}},
             StatusOf({Failover(false, At(20)), ErrorRate(true, 12.25, At(11))}));
  const std::string text = FormatIncidentReportText(report, At(95));

  EXPECT_THAT(text, HasSubstr("2 incident(s)"));
  EXPECT_THAT(CellsOf(text, "RULE"),
              ElementsAre("RULE", "LABELS", "START", "END", "DURATION", "PEAK", "FIRING",
                          "RESOLVED", "REPEATS", "SUPPRESSED", "ANNOUNCED"));
  EXPECT_THAT(CellsOf(text, "failover"),
              ElementsAre("failover", "pool=blue", "2023-11-14T22:13:30Z", "2023-11-14T22:13:40Z",
                          "10s", "green", "1", "1", "0", "0", "at once"));
  EXPECT_THAT(CellsOf(text, "error_rate"),
              ElementsAre("error_rate", "-", "2023-11-14T22:13:31Z", "still firing", "1m24s",
                          "37.50%", "0", "0", "0", "0", "no"));
  // Aligned: every incident line has its start where the header has START.
  const size_t column = text.find("START") - text.rfind('\n', text.find("START")) - 1;
  std::istringstream lines(text);
  std::string line;
  int incident_lines = 0;
  while (std::getline(lines, line)) {
    if (line.find("2023-11-14T") == std::string::npos) continue;
    if (line.rfind("incident report", 0) == 0) continue;
    ++incident_lines;
    EXPECT_EQ(line.find("2023-11-14T"), column) << line;
  }
  EXPECT_EQ(incident_lines, 2);
  // Per rule: incidents, not announced, sent, suppressed, firing for.
  EXPECT_THAT(text, HasSubstr("FIRING FOR"));
  std::string summary = text.substr(text.find("INCIDENTS"));
  EXPECT_THAT(CellsOf(summary, "failover"), ElementsAre("failover", "1", "0", "2", "0", "10s"));
  EXPECT_THAT(CellsOf(summary, "error_rate"),
              ElementsAre("error_rate", "1", "1", "0", "0", "1m24s"));
}

TEST(IncidentReport, JsonCarriesTheSameIncidents) {
  IncidentReport report;
  report.Add(At(11), {{Message("failover", kBlue, AlertStatus::kFiring, At(10))}, {}},
             StatusOf({Failover(true, At(10), "green")}));
  auto doc = nlohmann::json::parse(FormatIncidentReportJson(report, At(20)));
  ASSERT_EQ(doc["incidents"].size(), 1u);
  EXPECT_EQ(doc["incidents"][0]["rule"], "failover");
  EXPECT_EQ(doc["incidents"][0]["start"], "2023-11-14T22:13:30Z");
  EXPECT_TRUE(doc["incidents"][0]["end"].is_null());
  EXPECT_EQ(doc["incidents"][0]["still_firing"], true);
  EXPECT_EQ(doc["incidents"][0]["pools"], nlohmann::json::array({"green"}));
  EXPECT_EQ(doc["incidents"][0]["sent"]["firing"], 1);
  EXPECT_DOUBLE_EQ(doc["rules"][0]["firing_seconds"].get<double>(), 10.0);
}

TEST(IncidentReport, AnSloIncidentPeaksAtItsBurnRate) {
  RuleStatus page;
  page.name = "checkout_slo";
  page.kind = RuleKind::kSlo;
  page.labels = {{"urgency", "page"}};
  page.threshold = 14.4;
  IncidentReport report;
  report.Add(At(0), {}, StatusOf({page}));
  page.firing = true;
  page.since = At(52);
  for (const double burn : {15.0, 91.5, 40.0}) {
    page.value = burn;
    report.Add(At(60 + burn), {}, StatusOf({page}));
  }
  const std::string text = FormatIncidentReportText(report, At(200));
  EXPECT_THAT(CellsOf(text, "checkout_slo"),
              ElementsAre("checkout_slo", "urgency=page", "2023-11-14T22:14:12Z", "still firing",
                          "2m28s", "91.5x", "0", "0", "0", "0", "no"));
  auto doc = nlohmann::json::parse(FormatIncidentReportJson(report, At(200)));
  ASSERT_EQ(doc["incidents"].size(), 1u);
  EXPECT_DOUBLE_EQ(doc["incidents"][0]["peak_burn_rate"].get<double>(), 91.5);
}

// The real engine, evaluated each second as replay does. Timings leave room for the slower
// resolution being built (resolve_for, resolve_requests): each stretch back on the primary is
// minutes long with ten requests a second.
class IncidentReportOnTheEngine : public ::testing::Test {
 protected:
  void Run(double from, double to, const std::function<LogRecord(double)>& record) {
    for (double t = from; t < to; t += 0.1) {
      if (t >= next_evaluation_) {
        Evaluate(next_evaluation_);
        next_evaluation_ += 1;
      }
      engine_.Observe(record(t));
    }
  }
  void Evaluate(double t) {
    const Evaluation evaluation = engine_.Evaluate(At(t));
    report_.Add(At(t), evaluation, engine_.Status(At(t)));
  }

  AlertEngine engine_{AlertingConfig::SeedDefaults()};
  IncidentReport report_;
  double next_evaluation_ = 0;
};

TEST_F(IncidentReportOnTheEngine, ASecondFailoverInsideTheCooldownIsReportedUnannounced) {
  auto blue = [](double t) { return Request(t, "blue"); };
  auto green = [](double t) { return Request(t, "green", 200, {}, "v2.0.0"); };
  Run(0, 10, blue);
  Run(10, 10.1, Retried);
  Run(10.1, 20, green);
  Run(20, 120, blue);
  Run(120, 130, green);  // 110 s after the first firing: the 300 s cooldown holds it back
  Run(130, 400, blue);
  Evaluate(next_evaluation_);

  ASSERT_THAT(report_.incidents(), SizeIs(2));
  const Incident& first = report_.incidents()[0];
  EXPECT_EQ(first.rule, "failover");
  EXPECT_EQ(first.start, At(10));
  EXPECT_EQ(first.firing_sent, 1);
  EXPECT_EQ(first.resolved_sent, 1);
  EXPECT_THAT(first.pools, ElementsAre("green"));
  const Incident& second = report_.incidents()[1];
  EXPECT_EQ(second.start, At(120));
  EXPECT_TRUE(second.end.has_value());
  EXPECT_EQ(second.Sent(), 0);
  EXPECT_FALSE(second.announced_at.has_value());
  EXPECT_GE(second.held_by_cooldown, 1);
}

TEST_F(IncidentReportOnTheEngine, AnErrorBurstPeaksAboveTheThreshold) {
  auto blue = [](double t) { return Request(t, "blue"); };
  // A full 200-request window first, then half of the next 100 requests fail.
  Run(0, 30, blue);
  Run(30, 40,
      [](double t) { return Request(t, "blue", static_cast<int>(t * 10) % 2 == 0 ? 500 : 200); });
  Run(40, 600, blue);
  Evaluate(next_evaluation_);

  std::vector<Incident> error_rate;
  for (const Incident& incident : report_.incidents()) {
    if (incident.rule == "error_rate") error_rate.push_back(incident);
  }
  ASSERT_THAT(error_rate, SizeIs(1));
  EXPECT_GE(error_rate[0].start, At(30));
  EXPECT_LE(error_rate[0].start, At(32));
  EXPECT_GT(error_rate[0].peak_value, 20.0);
  EXPECT_TRUE(error_rate[0].end.has_value());
  EXPECT_EQ(error_rate[0].firing_sent, 1);
  EXPECT_EQ(error_rate[0].resolved_sent, 1);
}

}  // namespace
}  // namespace poolwatch
