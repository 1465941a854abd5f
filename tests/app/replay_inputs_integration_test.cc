// `poolwatch replay` on what operators have: gzip'd rotations (made here by the gzip program),
// standard input through a pipe, a week of rotated logs given in shell glob order, and damaged
// gzip files. Whatever the packaging, the notifications, the report and the metrics are those
// of the plain log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Log(const std::string& name) {
  return std::string(POOLWATCH_SOURCE_DIR) + "/tests/testdata/replay/" + name;
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

// Runs a shell command line; for pipes into `poolwatch replay -`.
ReplayRun Shell(const std::string& command_line) {
  ReplayRun run;
  run.exit_code = RunCommand({"sh", "-c", command_line}, &run.output);
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.front() == '{') {
      run.notifications.push_back(nlohmann::json::parse(line));
    }
  }
  return run;
}

// `gzip` itself, not zlib through the test's own code: what logrotate's compress writes.
void GzipFile(const std::filesystem::path& plain, const std::filesystem::path& gz) {
  std::string output;
  ASSERT_EQ(RunCommand({"sh", "-c", "gzip -c " + Quoted(plain) + " > " + Quoted(gz)}, &output), 0)
      << output;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line + "\n");
  return out;
}

// The rotations of one log as logrotate leaves them with `compress` and `delaycompress`:
// access.log (newest), access.log.1, then access.log.2.gz … access.log.N.gz (oldest). Returns
// the paths in the order a shell glob `access.log*` lists them (byte order).
std::vector<std::string> Rotate(const std::string& text, int parts, const TempDir& dir) {
  const std::vector<std::string> lines = Lines(text);
  const size_t per_part = (lines.size() + parts - 1) / parts;
  std::vector<std::string> paths;
  for (int part = 0; part < parts; ++part) {
    std::string chunk;
    for (size_t i = part * per_part; i < std::min(lines.size(), (part + 1) * per_part); ++i) {
      chunk += lines[i];
    }
    const int number = parts - 1 - part;  // the oldest part has the highest number
    const std::string name = number == 0 ? "access.log" : "access.log." + std::to_string(number);
    if (number >= 2) {
      WriteFile(dir / ("plain." + std::to_string(number)), chunk);
      GzipFile(dir / ("plain." + std::to_string(number)), dir / (name + ".gz"));
      paths.push_back((dir / (name + ".gz")).string());
    } else {
      WriteFile(dir / name, chunk);
      paths.push_back((dir / name).string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

std::string AfterReplayed(const std::string& output) {
  // The summary's figures without its timing ("in 0.0012 s").
  const size_t at = output.find("replayed ");
  if (at == std::string::npos) return "";
  std::string summary = output.substr(at, output.find('\n', at) - at);
  const size_t in = summary.find(" in ");
  const size_t s = summary.find(" s;");
  if (in != std::string::npos && s != std::string::npos) summary.erase(in, s + 2 - in);
  return summary;
}

TEST(ReplayInputs, AGzipLogGivesTheSameNotificationsReportAndMetricsAsThePlainOne) {
  TempDir dir;
  GzipFile(Log("both_failing.log"), dir / "both_failing.log.gz");
  auto run_on = [&](const std::string& log, const std::string& tag) {
    return Replay({"--metrics-out", (dir / (tag + ".prom")).string(), "--report-format", "json",
                   "--report-file", (dir / (tag + ".json")).string(), log});
  };
  ReplayRun plain = run_on(Log("both_failing.log"), "plain");
  ReplayRun gz = run_on((dir / "both_failing.log.gz").string(), "gz");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  ASSERT_EQ(gz.exit_code, 0) << gz.output;
  ASSERT_EQ(plain.notifications.size(), 4u) << plain.output;
  EXPECT_EQ(gz.notifications, plain.notifications);
  EXPECT_EQ(ReadFile(dir / "gz.json"), ReadFile(dir / "plain.json"));
  EXPECT_THAT(ReadFile(dir / "plain.json"), HasSubstr("error_rate"));
  const std::string exposition = ReadFile(dir / "gz.prom");
  EXPECT_EQ(exposition, ReadFile(dir / "plain.prom"));
  // The bytes of log, not of the compressed file.
  EXPECT_EQ(MetricValue(exposition, "poolwatch_log_bytes_read_total"),
            static_cast<double>(std::filesystem::file_size(Log("both_failing.log"))));
  EXPECT_EQ(AfterReplayed(gz.output), AfterReplayed(plain.output));
}

TEST(ReplayInputs, StandardInputThroughAPipePlainOrGzipd) {
  ReplayRun file = Replay({Log("both_failing.log")});
  ASSERT_EQ(file.exit_code, 0) << file.output;
  const std::string poolwatch = Quoted(POOLWATCH_BINARY);
  ReplayRun plain =
      Shell("cat " + Quoted(Log("both_failing.log")) + " | " + poolwatch + " replay -");
  ReplayRun gz =
      Shell("gzip -c " + Quoted(Log("both_failing.log")) + " | " + poolwatch + " replay -");
  for (const ReplayRun* run : {&plain, &gz}) {
    ASSERT_EQ(run->exit_code, 0) << run->output;
    EXPECT_EQ(run->notifications, file.notifications);
    EXPECT_EQ(AfterReplayed(run->output), AfterReplayed(file.output));
  }
}

TEST(ReplayInputs, StandardInputAmongFilesTakesItsPlaceInTime) {
  // The middle of the log on standard input, its start and end in files given after it.
  TempDir dir;
  const std::vector<std::string> lines = Lines(ReadFile(Log("both_failing.log")));
  std::string head, middle, tail;
  for (size_t i = 0; i < lines.size(); ++i) {
    (i < 1000 ? head : i < 2500 ? middle : tail) += lines[i];
  }
  WriteFile(dir / "head.log", head);
  WriteFile(dir / "middle.log", middle);
  WriteFile(dir / "tail.log", tail);
  GzipFile(dir / "tail.log", dir / "tail.log.gz");
  ReplayRun whole = Replay({Log("both_failing.log")});
  ReplayRun split =
      Shell("gzip -c " + Quoted((dir / "middle.log").string()) + " | " + Quoted(POOLWATCH_BINARY) +
            " replay - " + Quoted((dir / "tail.log.gz").string()) + " " +
            Quoted((dir / "head.log").string()));
  ASSERT_EQ(split.exit_code, 0) << split.output;
  EXPECT_EQ(split.notifications, whole.notifications);
  EXPECT_THAT(split.output, HasSubstr("3760 parsed"));
}

TEST(ReplayInputs, RotatedLogsInShellGlobOrderAreReadOldestFirst) {
  // Twelve rotations: the glob puts access.log.10.gz before access.log.2.gz and the newest
  // first; replay reads them by the time of their first line and tells the same story as the
  // whole log.
  for (const char* name : {"both_failing.log", "flapping.log"}) {
    TempDir dir;
    const std::vector<std::string> glob = Rotate(ReadFile(Log(name)), 12, dir);
    ASSERT_EQ(glob.size(), 12u);
    ASSERT_EQ(std::filesystem::path(glob[0]).filename(), "access.log");
    ASSERT_EQ(std::filesystem::path(glob[2]).filename(), "access.log.10.gz");
    ReplayRun whole = Replay({Log(name)});
    ReplayRun rotated = Replay(glob);
    ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
    ASSERT_FALSE(whole.notifications.empty()) << name;
    EXPECT_EQ(rotated.notifications, whole.notifications) << name << "\n" << rotated.output;
    EXPECT_EQ(AfterReplayed(rotated.output),
              AfterReplayed(whole.output)
                  .replace(AfterReplayed(whole.output).find("1 file"), 6, "12 file"))
        << name;
    // The order used is shown, oldest first.
    EXPECT_THAT(rotated.output, HasSubstr("reading the logs by the time of their first line"));
    const size_t oldest = rotated.output.find("access.log.11.gz ");
    const size_t newest = rotated.output.find((dir / "access.log ").string());
    EXPECT_NE(oldest, std::string::npos) << rotated.output;
    EXPECT_LT(oldest, newest) << rotated.output;
    EXPECT_THAT(rotated.output, Not(HasSubstr("starts before the end")));
  }
}

TEST(ReplayInputs, TheOrderGivenIsKeptWhenAskedAndGoingBackInTimeIsWarnedAbout) {
  TempDir dir;
  const std::vector<std::string> glob = Rotate(ReadFile(Log("both_failing.log")), 4, dir);
  std::vector<std::string> args = {"--order", "given"};
  args.insert(args.end(), glob.begin(), glob.end());
  ReplayRun given = Replay(args);
  ASSERT_EQ(given.exit_code, 0) << given.output;
  EXPECT_THAT(given.output, Not(HasSubstr("reading the logs by the time")));
  // access.log (the newest) came first: each rotation read after it goes back in time.
  EXPECT_THAT(given.output, HasSubstr("starts before the end of the log read before it"));
  EXPECT_THAT(given.output, HasSubstr("log=" + (dir / "access.log.1").string() + " starts="));
  EXPECT_THAT(given.output, HasSubstr("previous_log=" + (dir / "access.log").string() +
                                      " previous_ends=2026-11-26T07:06:15Z"));
  EXPECT_THAT(given.output, HasSubstr("log=" + (dir / "access.log.3.gz").string() +
                                      " starts=2026-11-26T07:00:00Z previous_log=" +
                                      (dir / "access.log.2.gz").string()));
  // And the story is not the whole log's: the reason the default is the log's time.
  EXPECT_NE(given.notifications, Replay({Log("both_failing.log")}).notifications);
}

TEST(ReplayInputs, ALogWithNoLineOfTheFormatIsReadLastWithAWarning) {
  TempDir dir;
  WriteFile(dir / "access.log.1", "{\"json\": \"not this format\"}\n");
  ReplayRun run = Replay({(dir / "access.log.1").string(), Log("both_failing.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.notifications, Replay({Log("both_failing.log")}).notifications);
  EXPECT_THAT(run.output, HasSubstr("no line of this log near its start matches log.format; it "
                                    "is read after the logs whose time is known\" log=" +
                                    (dir / "access.log.1").string()));
  EXPECT_THAT(run.output, HasSubstr((dir / "access.log.1").string() + "  no time found"));
  EXPECT_THAT(run.output, HasSubstr("3761 lines (3760 parsed, 1 malformed)"));
}

TEST(ReplayInputs, GzipIsRecognisedWithoutItsSuffixAndMembersFollowOneAnother) {
  TempDir dir;
  const std::vector<std::string> lines = Lines(ReadFile(Log("both_failing.log")));
  std::string first, second;
  for (size_t i = 0; i < lines.size(); ++i) (i < 1800 ? first : second) += lines[i];
  WriteFile(dir / "first", first);
  WriteFile(dir / "second", second);
  std::string output;
  ASSERT_EQ(RunCommand({"sh", "-c",
                        "cd " + Quoted(dir.path().string()) +
                            " && gzip -c first > joined && gzip -c second >> joined"},
                       &output),
            0)
      << output;
  ReplayRun joined = Replay({(dir / "joined").string()});
  ASSERT_EQ(joined.exit_code, 0) << joined.output;
  EXPECT_EQ(joined.notifications, Replay({Log("both_failing.log")}).notifications);
  EXPECT_THAT(joined.output, HasSubstr("3760 parsed, 0 malformed"));
}

TEST(ReplayInputs, ATruncatedGzipStopsWithTheFileAndHowFarItGot) {
  TempDir dir;
  GzipFile(Log("both_failing.log"), dir / "full.gz");
  const std::string gz = ReadFile(dir / "full.gz");
  WriteFile(dir / "access.log.2.gz", gz.substr(0, gz.size() / 2));
  // A later log exists: it must not be read past the damage.
  WriteFile(dir / "access.log.1", DefaultFormatLine(3600, 200) + "\n");
  ReplayRun run = Replay({(dir / "access.log.2.gz").string(), (dir / "access.log.1").string()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr((dir / "access.log.2.gz").string() +
                                    ": the gzip data ends in the middle of member 1 (truncated "
                                    "file?) after " +
                                    std::to_string(gz.size() / 2) + " of " +
                                    std::to_string(gz.size() / 2) + " bytes of the file"));
  EXPECT_THAT(run.output, HasSubstr("replay stopped: "));
  EXPECT_THAT(run.output, HasSubstr("lines of it were replayed"));
  EXPECT_THAT(run.output, HasSubstr("the logs after it were not read"));
  EXPECT_THAT(run.output, Not(HasSubstr("replayed 3")));  // no summary as if all went well
  // What was decoded before the damage was replayed: the failover at 07:00:10 is in it.
  ASSERT_FALSE(run.notifications.empty()) << run.output;
  EXPECT_EQ(run.notifications[0]["rule"], "failover");
}

TEST(ReplayInputs, CorruptGzipDataFailsWithTheFileNamed) {
  TempDir dir;
  GzipFile(Log("both_failing.log"), dir / "corrupt.gz");
  std::string gz = ReadFile(dir / "corrupt.gz");
  // Header intact (gzip(1) stores the file name after its 10 fixed bytes), the deflate data
  // after it scrambled: zlib sees it at once.
  const size_t data = gz.find('\0', 10) + 1;
  for (size_t i = data; i < data + 40; ++i) gz[i] = static_cast<char>(0xff);
  WriteFile(dir / "corrupt.gz", gz);
  ReplayRun run = Replay({(dir / "corrupt.gz").string()});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr((dir / "corrupt.gz").string() + ": corrupt gzip data in member 1 ("));
  EXPECT_THAT(run.output, Not(HasSubstr("replayed 3")));
}

TEST(ReplayInputs, AMissingLogFailsBeforeAnythingIsReplayed) {
  TempDir dir;
  ReplayRun run =
      Replay({Log("both_failing.log"), (dir / "access.log.7.gz").string(), Log("steady.log")});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("cannot read " + (dir / "access.log.7.gz").string() +
                                    ": No such file or directory"));
  EXPECT_TRUE(run.notifications.empty()) << run.output;
}

TEST(ReplayInputs, StandardInputNamedTwiceIsRefused) {
  ReplayRun run = Shell("true | " + Quoted(POOLWATCH_BINARY) + " replay - -");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("standard input (-) can be read only once"));
}

}  // namespace
}  // namespace poolwatch::testing
