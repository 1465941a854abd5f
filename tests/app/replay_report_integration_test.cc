// `poolwatch replay --report` on checked-in logs (tests/testdata/make_logs.py) and on logs the
// test writes: one report line per incident, one per rule, and stdout unchanged by it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string Log(const std::string& name) {
  return std::string(POOLWATCH_SOURCE_DIR) + "/tests/testdata/replay/" + name;
}

struct ReportRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
  // The table's rows below its header, split into cells: incidents, then rules.
  std::vector<std::vector<std::string>> incidents, rules;
};

// A line split on runs of two spaces or more (cells hold single spaces: "after 1s").
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  size_t at = 0;
  while (at < line.size()) {
    const size_t gap = line.find("  ", at);
    cells.push_back(line.substr(at, gap - at));
    if (gap == std::string::npos) break;
    at = line.find_first_not_of(' ', gap);
  }
  return cells;
}

// The rows of the table under each "RULE" header, up to the blank line that ends it.
void ParseReport(const std::string& text, ReportRun& run) {
  std::istringstream lines(text);
  std::string line;
  std::vector<std::vector<std::string>>* table = nullptr;
  while (std::getline(lines, line)) {
    if (line.rfind("RULE ", 0) == 0) {
      table = line.find("INCIDENTS") != std::string::npos ? &run.rules : &run.incidents;
    } else if (line.empty()) {
      table = nullptr;
    } else if (table != nullptr) {
      table->push_back(Cells(line));
    }
  }
}

ReportRun ReplayWithReport(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {POOLWATCH_BINARY, "replay", "--report"};
  argv.insert(argv.end(), args.begin(), args.end());
  ReportRun run;
  run.exit_code = RunCommand(argv, &run.output);
  ParseReport(run.output, run);
  return run;
}

std::vector<std::string> Column(const std::vector<std::vector<std::string>>& rows, size_t i) {
  std::vector<std::string> out;
  for (const auto& row : rows) out.push_back(i < row.size() ? row[i] : "");
  return out;
}

// Incident columns: RULE LABELS START END DURATION PEAK FIRING RESOLVED REPEATS SUPPRESSED
// ANNOUNCED; rule columns: RULE INCIDENTS NOT-ANNOUNCED SENT SUPPRESSED FIRING-FOR.
constexpr size_t kRule = 0, kLabels = 1, kStart = 2, kPeak = 5, kFiring = 6, kSuppressed = 9,
                 kAnnounced = 10;
constexpr size_t kIncidents = 1, kNotAnnounced = 2;

TEST(ReplayReport, BothPoolsFailingIsOneFailoverAndOneErrorRateIncident) {
  ReportRun run = ReplayWithReport({Log("both_failing.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_THAT(run.incidents, SizeIs(2)) << run.output;
  EXPECT_THAT(Column(run.incidents, kRule), ElementsAre("failover", "error_rate"));
  EXPECT_THAT(Column(run.incidents, kLabels), ElementsAre("pool=blue", "-"));
  // Traffic went to green with the 101st line; the error rate is judged a second later.
  EXPECT_THAT(Column(run.incidents, kStart),
              ElementsAre("2026-11-26T07:00:10Z", "2026-11-26T07:00:11Z"));
  EXPECT_EQ(run.incidents[0][kPeak], "green");
  EXPECT_THAT(run.incidents[1][kPeak], ::testing::EndsWith("%"));
  EXPECT_GT(std::stod(run.incidents[1][kPeak]), 2.0);
  EXPECT_THAT(Column(run.incidents, kFiring), ElementsAre("1", "1"));
  EXPECT_THAT(Column(run.incidents, kAnnounced), ElementsAre("at once", "at once"));

  ASSERT_THAT(run.rules, SizeIs(2)) << run.output;
  EXPECT_THAT(Column(run.rules, kRule), ElementsAre("failover", "error_rate"));
  EXPECT_THAT(Column(run.rules, kIncidents), ElementsAre("1", "1"));
  EXPECT_THAT(Column(run.rules, kNotAnnounced), ElementsAre("0", "0"));
}

TEST(ReplayReport, SteadyTrafficHasNoIncidentButEveryRuleIsListed) {
  ReportRun run = ReplayWithReport({Log("steady.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("0 incident(s)"));
  EXPECT_THAT(run.incidents, SizeIs(0));
  EXPECT_THAT(Column(run.rules, kRule), ElementsAre("failover", "error_rate"));
  EXPECT_THAT(Column(run.rules, kIncidents), ElementsAre("0", "0"));
}

TEST(ReplayReport, AFailoverTheCooldownSwallowedIsListedAsNotAnnounced) {
  TempDir dir;
  std::string log;
  auto seconds = [&](int from, int to, const std::string& pool) {
    for (int s = from; s < to; ++s) {
      for (int i = 0; i < 10; ++i) log += DefaultFormatLine(s, 200, pool) + "\n";
    }
  };
  seconds(0, 60, "blue");
  seconds(60, 70, "green");
  seconds(70, 190, "blue");
  seconds(190, 200, "green");  // 130 s after the first page: inside the 300 s cooldown
  seconds(200, 500, "blue");
  WriteFile(dir / "twice.log", log);

  ReportRun run = ReplayWithReport({(dir / "twice.log").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_THAT(run.incidents, SizeIs(2)) << run.output;
  EXPECT_THAT(Column(run.incidents, kStart),
              ElementsAre("2026-11-26T07:01:00Z", "2026-11-26T07:03:10Z"));
  EXPECT_THAT(Column(run.incidents, kFiring), ElementsAre("1", "0"));
  EXPECT_EQ(run.incidents[0][kAnnounced], "at once");
  EXPECT_EQ(run.incidents[1][kAnnounced], "no");
  EXPECT_THAT(run.incidents[1][kSuppressed], HasSubstr("cooldown"));
  EXPECT_THAT(Column(run.rules, kIncidents), ElementsAre("2", "0"));
  EXPECT_THAT(Column(run.rules, kNotAnnounced), ElementsAre("1", "0"));
}

// The notification lines of a run (stdout's JSON objects).
std::vector<std::string> NotificationLines(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.front() == '{') out.push_back(line);
  }
  return out;
}

TEST(ReplayReport, AReportFileLeavesTheNotificationStreamAsItWas) {
  TempDir dir;
  std::string plain;
  ASSERT_EQ(RunCommand({POOLWATCH_BINARY, "replay", Log("both_failing.log")}, &plain), 0);
  std::string with_report;
  ASSERT_EQ(RunCommand({POOLWATCH_BINARY, "replay", "--report-file", (dir / "report.txt").string(),
                        Log("both_failing.log")},
                       &with_report),
            0)
      << with_report;
  EXPECT_THAT(NotificationLines(plain), SizeIs(4));
  EXPECT_EQ(NotificationLines(with_report), NotificationLines(plain));
  EXPECT_THAT(with_report, ::testing::Not(HasSubstr("incident report")));

  ReportRun from_file;
  ParseReport(ReadFile(dir / "report.txt"), from_file);
  EXPECT_THAT(Column(from_file.incidents, kRule), ElementsAre("failover", "error_rate"));
}

TEST(ReplayReport, JsonFormatHasTheSameIncidents) {
  TempDir dir;
  std::string output;
  ASSERT_EQ(RunCommand({POOLWATCH_BINARY, "replay", "--report-format", "json", "--report-file",
                        (dir / "report.json").string(), Log("both_failing.log")},
                       &output),
            0)
      << output;
  const auto doc = nlohmann::json::parse(ReadFile(dir / "report.json"));
  ASSERT_EQ(doc["incidents"].size(), 2u);
  EXPECT_EQ(doc["incidents"][0]["rule"], "failover");
  EXPECT_EQ(doc["incidents"][0]["start"], "2026-11-26T07:00:10Z");
  EXPECT_EQ(doc["incidents"][1]["rule"], "error_rate");
  EXPECT_GT(doc["incidents"][1]["peak_error_percent"].get<double>(), 2.0);
}

TEST(ReplayReport, AReportFileThatCannotBeWrittenFailsBeforeReplaying) {
  std::string output;
  EXPECT_NE(RunCommand({POOLWATCH_BINARY, "replay", "--report-file", "/nonexistent/report.txt",
                        Log("both_failing.log")},
                       &output),
            0);
  EXPECT_THAT(output, HasSubstr("cannot write /nonexistent/report.txt"));
  EXPECT_THAT(output, ::testing::Not(HasSubstr("replayed")));
}

TEST(ReplayReport, AnUnknownFormatIsRefused) {
  std::string output;
  EXPECT_NE(RunCommand({POOLWATCH_BINARY, "replay", "--report-format", "yaml", Log("steady.log")},
                       &output),
            0);
  EXPECT_THAT(output, HasSubstr("yaml"));
}

}  // namespace
}  // namespace poolwatch::testing
