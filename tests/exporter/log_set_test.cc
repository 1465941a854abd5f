// LogSet: log.path's paths and globs, files found while running and dropped once read, each
// with its own follower and position; PathLabeler: the label taken from a file's path.
#include "exporter/log_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "exporter/path_label.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::AppendFile;
using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(LogPatterns, GlobsAndFixedPaths) {
  EXPECT_TRUE(IsGlobPattern("/var/log/nginx/*.access.log"));
  EXPECT_TRUE(IsGlobPattern("/var/log/nginx/site?.log"));
  EXPECT_TRUE(IsGlobPattern("/var/log/nginx/[ab].log"));
  EXPECT_FALSE(IsGlobPattern("/var/log/nginx/access.log"));

  EXPECT_TRUE(PathMatches("/var/log/nginx/access.log", "/var/log/nginx/access.log"));
  EXPECT_FALSE(PathMatches("/var/log/nginx/access.log", "/var/log/nginx/access.log.1"));
  EXPECT_TRUE(PathMatches("/var/log/nginx/*.access.log", "/var/log/nginx/shop.access.log"));
  // A rotated file is not one of the glob's files, and a wildcard never crosses a '/'.
  EXPECT_FALSE(PathMatches("/var/log/nginx/*.access.log", "/var/log/nginx/shop.access.log.1"));
  EXPECT_FALSE(PathMatches("/var/log/nginx/*.access.log", "/var/log/nginx/old/shop.access.log"));
  EXPECT_TRUE(PathMatches("/var/log/*/access.log", "/var/log/shop/access.log"));
}

TEST(PathLabeler, FirstGroupOfAWholeMatch) {
  PathLabelOptions options;
  options.name = "site";
  options.pattern = R"(/var/log/nginx/(.+)\.access\.log)";
  const PathLabeler labeler(options);
  ASSERT_TRUE(labeler.enabled());
  EXPECT_EQ(labeler.ValueFor("/var/log/nginx/shop.access.log"), "shop");
  EXPECT_EQ(labeler.ValueFor("/var/log/nginx/api.example.com.access.log"), "api.example.com");
  // Not the whole path: no value (the metrics label it "none").
  EXPECT_EQ(labeler.ValueFor("/var/log/nginx/shop.access.log.1"), "");
  EXPECT_EQ(labeler.ValueFor("/srv/var/log/nginx/shop.access.log"), "");

  options.pattern = R"(/var/log/nginx/\w+\.log)";  // no group: the whole path
  EXPECT_EQ(PathLabeler(options).ValueFor("/var/log/nginx/shop.log"), "/var/log/nginx/shop.log");

  EXPECT_FALSE(PathLabeler(PathLabelOptions{}).enabled());
  options.pattern = "(unclosed";
  EXPECT_THROW(PathLabeler{options}, std::regex_error);
}

// A LogSet over a temporary directory with a clock the test moves.
class LogSetTest : public ::testing::Test {
 protected:
  LogSetOptions Options(std::vector<std::string> patterns) {
    LogSetOptions options;
    options.patterns = std::move(patterns);
    options.follow.start_at_end = false;
    options.follow.steady_now = [this] { return now_; };
    options.follow.rotated_file_grace = std::chrono::seconds(2);
    options.steady_now = [this] { return now_; };
    options.vanish_grace = std::chrono::seconds(2);
    options.rescan_interval = std::chrono::seconds(1);
    options.source_of = [](const std::string& path) {
      return std::vector<std::string>{std::filesystem::path(path).stem().string()};
    };
    return options;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // One read of every file, as ReadLogsOnce does it: lines by file label.
  std::map<std::string, std::vector<std::string>> ReadAll(LogSet& logs) {
    std::map<std::string, std::vector<std::string>> lines;
    for (const auto& file : logs.files()) {
      auto result = file->follower->Poll(
          [&](std::string_view line) { lines[file->source.values.at(0)].emplace_back(line); });
      file->idle = result.bytes_read == 0 && !result.more;
    }
    return lines;
  }
  std::vector<std::string> Paths(const LogSet& logs) const {
    std::vector<std::string> paths;
    for (const auto& file : logs.files()) paths.push_back(file->path);
    return paths;
  }

  TempDir dir_;
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1)};
};

TEST_F(LogSetTest, FollowsEveryFileTheGlobsAndPathsName) {
  WriteFile(dir_ / "a.access.log", "a1\n");
  WriteFile(dir_ / "b.access.log", "b1\n");
  WriteFile(dir_ / "b.access.log.1", "rotated\n");
  WriteFile(dir_ / "other.log", "o1\n");
  LogSet logs(Options({Path("*.access.log"), Path("fixed.log")}));
  // The fixed path does not exist yet: followed anyway, as one file always was.
  EXPECT_THAT(Paths(logs),
              ElementsAre(Path("a.access.log"), Path("b.access.log"), Path("fixed.log")));
  auto lines = ReadAll(logs);
  EXPECT_THAT(lines["a.access"], ElementsAre("a1"));
  EXPECT_THAT(lines["b.access"], ElementsAre("b1"));
  EXPECT_EQ(lines.count("b.access.log"), 0u);
  EXPECT_TRUE(logs.Names(Path("c.access.log")));
  EXPECT_FALSE(logs.Names(Path("other.log")));

  WriteFile(dir_ / "fixed.log", "f1\n");
  EXPECT_THAT(ReadAll(logs)["fixed"], ElementsAre("f1"));
}

TEST_F(LogSetTest, PicksUpANewFileFromItsBeginning) {
  WriteFile(dir_ / "a.access.log", "a1\n");
  LogSetOptions options = Options({Path("*.access.log")});
  options.follow.start_at_end = true;  // for the files there at start-up only
  LogSet logs(options);
  EXPECT_THAT(ReadAll(logs), IsEmpty());
  WriteFile(dir_ / "c.access.log", "c1\nc2\n");
  AppendFile(dir_ / "a.access.log", "a2\n");
  // The directory's inotify event makes the next Refresh() rescan at once.
  ASSERT_GE(logs.WaitFd(), 0);
  logs.DrainWakeups();
  LogSet::Changes changes = logs.Refresh();
  EXPECT_THAT(changes.added, ElementsAre(Path("c.access.log")));
  auto lines = ReadAll(logs);
  EXPECT_THAT(lines["c.access"], ElementsAre("c1", "c2"));
  EXPECT_THAT(lines["a.access"], ElementsAre("a2"));
}

TEST_F(LogSetTest, BetweenFullReadsOnlyTheFilesWrittenToAreDirty) {
  WriteFile(dir_ / "a.access.log", "a1\n");
  WriteFile(dir_ / "b.access.log", "b1\n");
  LogSet logs(Options({Path("*.access.log")}));
  ASSERT_GE(logs.WaitFd(), 0);
  EXPECT_TRUE(logs.FullReadDue());  // the first read reads everything
  for (const auto& file : logs.files()) file->dirty = false;
  EXPECT_FALSE(logs.FullReadDue());  // the clock has not moved
  AppendFile(dir_ / "b.access.log", "b2\n");
  logs.DrainWakeups();
  ASSERT_EQ(logs.files().size(), 2u);
  EXPECT_FALSE(logs.files()[0]->dirty);
  EXPECT_TRUE(logs.files()[1]->dirty);
  now_ += LogSet::kFullReadInterval;
  EXPECT_TRUE(logs.FullReadDue());
}

TEST_F(LogSetTest, WithoutInotifyTheRescanIntervalFindsNewFiles) {
  LogSetOptions options = Options({Path("*.access.log")});
  options.use_inotify = false;
  LogSet logs(options);
  EXPECT_EQ(logs.WaitFd(), -1);
  EXPECT_TRUE(logs.FullReadDue());
  EXPECT_TRUE(logs.FullReadDue());  // every read reads every file
  WriteFile(dir_ / "d.access.log", "d1\n");
  EXPECT_THAT(logs.Refresh().added, IsEmpty());  // not due yet
  now_ += std::chrono::seconds(1);
  EXPECT_THAT(logs.Refresh().added, ElementsAre(Path("d.access.log")));
  EXPECT_THAT(ReadAll(logs)["d.access"], ElementsAre("d1"));
}

TEST_F(LogSetTest, AVanishedFileIsReadToItsEndThenDropped) {
  WriteFile(dir_ / "a.access.log", "a1\n");
  WriteFile(dir_ / "gone.access.log", "g1\n");
  LogSetOptions options = Options({Path("*.access.log")});
  options.use_inotify = false;
  LogSet logs(options);
  EXPECT_THAT(ReadAll(logs)["gone.access"], ElementsAre("g1"));
  // Renamed away, and nginx still writes to the renamed file for a while.
  std::filesystem::rename(dir_ / "gone.access.log", dir_ / "gone.access.log.1");
  AppendFile(dir_ / "gone.access.log.1", "g2\n");
  now_ += std::chrono::seconds(1);
  EXPECT_THAT(logs.Refresh().removed, IsEmpty());  // noticed missing: the grace starts
  AppendFile(dir_ / "gone.access.log.1", "g3\n");
  EXPECT_THAT(ReadAll(logs)["gone.access"], ElementsAre("g2", "g3"));
  now_ += std::chrono::seconds(1);
  EXPECT_THAT(logs.Refresh().removed, IsEmpty());  // within the grace
  now_ += std::chrono::seconds(2);
  ReadAll(logs);  // nothing new: idle
  EXPECT_THAT(logs.Refresh().removed, ElementsAre(Path("gone.access.log")));
  EXPECT_THAT(Paths(logs), ElementsAre(Path("a.access.log")));
  // A fixed path is never dropped, even when it is gone.
  std::filesystem::remove(dir_ / "a.access.log");
}

TEST_F(LogSetTest, EachFileResumesAtItsOwnPosition) {
  WriteFile(dir_ / "a.access.log", "a1\n");
  WriteFile(dir_ / "b.access.log", "b1\nb2\n");
  std::map<std::string, FilePosition> saved;
  uint64_t after = 0;
  {
    LogSet logs(Options({Path("*.access.log")}));
    ReadAll(logs);
    saved = logs.Positions();
    after = logs.LinesAfterPositions();
  }
  EXPECT_EQ(after, 0u);
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved.at(Path("a.access.log")).offset, 3u);
  EXPECT_EQ(saved.at(Path("b.access.log")).offset, 6u);
  AppendFile(dir_ / "a.access.log", "a2\n");
  AppendFile(dir_ / "b.access.log", "b3\n");
  LogSetOptions options = Options({Path("*.access.log")});
  options.resume_from = saved;
  LogSet logs(options);
  auto lines = ReadAll(logs);
  EXPECT_THAT(lines["a.access"], ElementsAre("a2"));
  EXPECT_THAT(lines["b.access"], ElementsAre("b3"));
}

}  // namespace
}  // namespace poolwatch
