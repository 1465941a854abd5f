// Many access logs with the real daemon (issue 17 part 1): log.path with a glob and a fixed
// path, a label from the path on the request metrics, a file that appears while running, one
// rotated (with a late write to the renamed file) and one removed, then a restart that resumes
// every file at its own position; and a state file of one log, as written before, resumed by
// a configuration with a list.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using ::testing::HasSubstr;
constexpr auto kDeadline = seconds(20);

std::string Lines(int count, int first_second = 0) {
  std::string text;
  for (int i = 0; i < count; ++i) text += DefaultFormatLine(first_second + i, 200) + "\n";
  return text;
}

class ManyLogs : public ::testing::Test {
 protected:
  ManyLogs() {
    fs::create_directories(logs_);
    WriteFile(dir_ / "poolwatch.yml",
              "log:\n"
              "  path:\n"
              "    - " +
                  (logs_ / "*.access.log").string() +
                  "\n"
                  "    - " +
                  (dir_ / "main.log").string() +
                  "\n"
                  "  path_label:\n"
                  "    name: site\n"
                  "    regex: '.*/(\\w+)\\.access\\.log'\n"
                  "state:\n"
                  "  path: " +
                  (dir_ / "state.json").string() + "\n");
  }

  std::unique_ptr<Process> Start(const std::string& start_at) {
    std::vector<std::string> argv = {POOLWATCH_BINARY, "--config.file",
                                     (dir_ / "poolwatch.yml").string(), "--web.listen-address",
                                     "127.0.0.1:0"};
    if (!start_at.empty()) {
      argv.push_back("--log.start-at");
      argv.push_back(start_at);
    }
    auto process = std::make_unique<Process>(argv, dir_ / "poolwatch.out");
    port_ = WaitForListeningPort(*process);
    return process;
  }
  double Requests(const std::map<std::string, std::string>& labels) {
    return MetricValue(HttpGet("http://127.0.0.1:" + std::to_string(port_) + "/metrics").body,
                       "poolwatch_http_requests_total", labels);
  }
  bool RequestsReach(const std::map<std::string, std::string>& labels, double value) {
    return WaitUntil([&] { return Requests(labels) == value; }, kDeadline);
  }
  nlohmann::json State() { return nlohmann::json::parse(ReadFile(dir_ / "state.json")); }

  TempDir dir_;
  const fs::path logs_ = dir_ / "logs";
  int port_ = 0;
};

TEST_F(ManyLogs, GlobFilesComeAndGoEachLabelledAndEachResumesAtItsOwnPosition) {
  WriteFile(logs_ / "shop.access.log", Lines(3));
  WriteFile(logs_ / "api.access.log", Lines(2));
  WriteFile(logs_ / "api.access.log.1", Lines(50));  // rotated long ago: not a glob's file
  auto poolwatch = Start("beginning");
  ASSERT_NE(port_, 0) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "shop"}}, 3)) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "api"}}, 2)) << poolwatch->Output();

  // The fixed path appears: its lines have no site (the regex does not match it).
  WriteFile(dir_ / "main.log", Lines(1));
  ASSERT_TRUE(RequestsReach({{"site", "none"}}, 1)) << poolwatch->Output();

  // A new vhost's log: picked up while running, read from its beginning.
  WriteFile(logs_ / "blog.access.log", Lines(4));
  ASSERT_TRUE(RequestsReach({{"site", "blog"}}, 4)) << poolwatch->Output();
  EXPECT_THAT(poolwatch->Output(),
              HasSubstr("new log file: " + (logs_ / "blog.access.log").string()));

  // Rotated as logrotate does, with a line a slow worker still writes to the renamed file.
  fs::rename(logs_ / "shop.access.log", logs_ / "shop.access.log.1");
  AppendFile(logs_ / "shop.access.log.1", Lines(1, 10));
  WriteFile(logs_ / "shop.access.log", Lines(2, 20));
  ASSERT_TRUE(RequestsReach({{"site", "shop"}}, 6)) << poolwatch->Output();

  // A vhost removed: its last lines still count, then it is dropped.
  AppendFile(logs_ / "api.access.log", Lines(1, 30));
  fs::remove(logs_ / "api.access.log");
  ASSERT_TRUE(WaitUntil(
      [&] {
        return poolwatch->Output().find("log file gone, read to its end: " +
                                        (logs_ / "api.access.log").string()) != std::string::npos;
      },
      kDeadline))
      << poolwatch->Output();
  EXPECT_EQ(Requests({{"site", "api"}}), 3);
  // shop 3 + 3, api 2 + 1, main 1, blog 4.
  EXPECT_EQ(Requests({}), 14);
  ASSERT_EQ(poolwatch->Stop(), 0);

  // Every file still there has its position in the state file; the removed one is gone.
  nlohmann::json state = State();
  std::set<std::string> saved;
  for (const auto& file : state["log"]["files"]) saved.insert(file["path"].get<std::string>());
  EXPECT_EQ(saved, (std::set<std::string>{(dir_ / "main.log").string(),
                                          (logs_ / "blog.access.log").string(),
                                          (logs_ / "shop.access.log").string()}));
  EXPECT_EQ(state["log"]["lines"].get<uint64_t>(), 14u);

  // Written while poolwatch is down; the restart (at the end by default) resumes every file
  // where it stood, so it counts exactly these.
  AppendFile(logs_ / "shop.access.log", Lines(2, 40));
  AppendFile(logs_ / "blog.access.log", Lines(3, 40));
  AppendFile(dir_ / "main.log", Lines(1, 40));
  poolwatch = Start("");
  ASSERT_NE(port_, 0) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "blog"}}, 3)) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "shop"}}, 2)) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "none"}}, 1)) << poolwatch->Output();
  ASSERT_EQ(poolwatch->Stop(), 0);
  EXPECT_EQ(State()["log"]["lines"].get<uint64_t>(), 14u + 6u);
}

TEST_F(ManyLogs, AStateFileOfOneLogResumesThatLogInAList) {
  const fs::path main_log = dir_ / "main.log";
  WriteFile(main_log, Lines(5));
  {
    // One log, as before issue 17.
    Process one(
        {POOLWATCH_BINARY, "--log.path", main_log.string(), "--log.start-at", "beginning",
         "--state.path", (dir_ / "state.json").string(), "--web.listen-address", "127.0.0.1:0"},
        dir_ / "poolwatch.out");
    port_ = WaitForListeningPort(one);
    ASSERT_NE(port_, 0) << one.Output();
    ASSERT_TRUE(RequestsReach({}, 5)) << one.Output();
    ASSERT_EQ(one.Stop(), 0);
  }
  // The state file as an older poolwatch wrote it: one position, no list.
  nlohmann::json state = State();
  ASSERT_EQ(state["log"]["path"], main_log.string());
  ASSERT_FALSE(state["log"]["position"].is_null());
  state["log"].erase("files");
  WriteFile(dir_ / "state.json", state.dump());

  AppendFile(main_log, Lines(2, 10));
  WriteFile(logs_ / "shop.access.log", Lines(7));  // there at start-up, no position: at its end
  auto poolwatch = Start("");
  ASSERT_NE(port_, 0) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "none"}}, 2)) << poolwatch->Output();
  AppendFile(logs_ / "shop.access.log", Lines(1, 10));
  ASSERT_TRUE(RequestsReach({{"site", "shop"}}, 1)) << poolwatch->Output();
  EXPECT_EQ(Requests({}), 3);
  ASSERT_EQ(poolwatch->Stop(), 0);
}

// A site label from the path, and legacy.access.log in a format of its own.
void WriteSitesWithALegacyFormat(const fs::path& config, const fs::path& logs) {
  WriteFile(config,
            "log:\n"
            "  path: " +
                (logs / "*.access.log").string() +
                "\n"
                "  path_label: {name: site, regex: '.*/(\\w+)\\.access\\.log'}\n"
                "  files:\n"
                "    - path: " +
                (logs / "legacy.access.log").string() +
                "\n"
                "      format: '[$time_local] $status pool=$upstream_http_x_app_pool "
                "upstream_addr=$upstream_addr upstream_status=$upstream_status'\n");
}

std::string LegacyLines(int count) {
  std::string legacy;
  for (int i = 0; i < count; ++i) {
    legacy += "[26/Nov/2026:07:00:0" + std::to_string(i) +
              " +0000] 200 pool=green upstream_addr=127.0.0.1:8082 upstream_status=200\n";
  }
  return legacy;
}

// The lines of one family in an exposition, sorted: what two expositions are compared by.
std::vector<std::string> FamilyLines(const std::string& exposition, const std::string& name) {
  std::vector<std::string> kept;
  for (const std::string& line : SortedLines(exposition)) {
    if (line.rfind(name + "{", 0) == 0) kept.push_back(line);
  }
  return kept;
}

TEST_F(ManyLogs, AFileWithItsOwnFormatIsParsedWithIt) {
  WriteSitesWithALegacyFormat(dir_ / "poolwatch.yml", logs_);
  WriteFile(logs_ / "shop.access.log", Lines(2));
  const std::string legacy = LegacyLines(3);
  WriteFile(logs_ / "legacy.access.log", legacy);
  auto poolwatch = Start("beginning");
  ASSERT_NE(port_, 0) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "legacy"}, {"pool", "green"}}, 3)) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "shop"}, {"pool", "blue"}}, 2)) << poolwatch->Output();
  // A line in the other file's format is malformed here: each file has its own.
  AppendFile(logs_ / "shop.access.log", legacy.substr(0, legacy.find('\n') + 1));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return MetricValue(HttpGet("http://127.0.0.1:" + std::to_string(port_) + "/metrics").body,
                           "poolwatch_log_lines_total", {{"result", "malformed"}}) == 1;
      },
      kDeadline))
      << poolwatch->Output();
  EXPECT_EQ(Requests({}), 5);
  ASSERT_EQ(poolwatch->Stop(), 0);
}

// --log.path repeated is one list, as log.path's in the file, and replaces the environment's
// (flags > environment > file).
TEST_F(ManyLogs, RepeatedLogPathFlagsAreOneListThatWinsOverTheEnvironment) {
  WriteFile(logs_ / "shop.access.log", Lines(2));
  WriteFile(dir_ / "main.log", Lines(3));
  WriteFile(dir_ / "from-env.log", Lines(4));
  Process poolwatch({POOLWATCH_BINARY, "--log.path", (logs_ / "*.access.log").string(),
                     "--log.path", (dir_ / "main.log").string(), "--log.start-at", "beginning",
                     "--web.listen-address", "127.0.0.1:0"},
                    dir_ / "poolwatch.out",
                    {{"POOLWATCH_LOG_PATH", (dir_ / "from-env.log").string()}});
  port_ = WaitForListeningPort(poolwatch);
  ASSERT_NE(port_, 0) << poolwatch.Output();
  ASSERT_TRUE(RequestsReach({}, 5)) << poolwatch.Output();
  AppendFile(dir_ / "from-env.log", Lines(1, 10));
  AppendFile(dir_ / "main.log", Lines(1, 10));
  ASSERT_TRUE(RequestsReach({}, 6)) << poolwatch.Output();
  EXPECT_THAT(poolwatch.Output(), HasSubstr("following " + (logs_ / "*.access.log").string() +
                                            ", " + (dir_ / "main.log").string() + " (2 file(s)"));
  EXPECT_EQ(poolwatch.Output().find("from-env.log"), std::string::npos) << poolwatch.Output();
  ASSERT_EQ(poolwatch.Stop(), 0);
}

// Replay reads each log as the daemon did: with its own format (log.files) and its site label
// (log.path_label), also under the names logrotate gives the logs later (".1", ".2.gz").
TEST_F(ManyLogs, ReplayCountsEachLogUnderItsLabelAndFormatAsTheDaemonDid) {
  WriteSitesWithALegacyFormat(dir_ / "poolwatch.yml", logs_);
  WriteFile(logs_ / "shop.access.log", Lines(4));
  WriteFile(logs_ / "api.access.log", Lines(3, 4) + DefaultFormatLine(9, 502, "green") + "\n");
  WriteFile(logs_ / "legacy.access.log", LegacyLines(5));
  auto poolwatch = Start("beginning");
  ASSERT_NE(port_, 0) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "legacy"}}, 5)) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "shop"}}, 4)) << poolwatch->Output();
  ASSERT_TRUE(RequestsReach({{"site", "api"}}, 4)) << poolwatch->Output();
  const std::string daemon = HttpGet("http://127.0.0.1:" + std::to_string(port_) + "/metrics").body;
  ASSERT_EQ(poolwatch->Stop(), 0);

  // Rotated: shop's and legacy's logs only under their later names, api's as it was.
  fs::rename(logs_ / "shop.access.log", logs_ / "shop.access.log.1");
  WriteFile(logs_ / "legacy.access.log.2.gz", Gzip(ReadFile(logs_ / "legacy.access.log")));
  fs::remove(logs_ / "legacy.access.log");
  const fs::path metrics_out = dir_ / "replay.prom";
  ReplayRun run =
      Replay({"--config", (dir_ / "poolwatch.yml").string(), "--metrics-out", metrics_out.string(),
              (logs_ / "legacy.access.log.2.gz").string(), (logs_ / "shop.access.log.1").string(),
              (logs_ / "api.access.log").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("(13 parsed, 0 malformed)"));
  const std::string replayed = ReadFile(metrics_out);
  EXPECT_EQ(MetricValue(replayed, "poolwatch_http_requests_total",
                        {{"site", "legacy"}, {"pool", "green"}}),
            5);
  EXPECT_EQ(MetricValue(replayed, "poolwatch_http_requests_total",
                        {{"site", "api"}, {"pool", "green"}, {"status", "502"}}),
            1);
  for (const char* family : {"poolwatch_http_requests_total", "poolwatch_upstream_attempts_total",
                             "poolwatch_http_request_duration_seconds_count"}) {
    EXPECT_EQ(FamilyLines(replayed, family), FamilyLines(daemon, family)) << family;
  }
}

}  // namespace
}  // namespace poolwatch::testing
