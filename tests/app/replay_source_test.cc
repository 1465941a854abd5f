// ReplaySourceOf: replay gives a log the format and source values the daemon gave it while it
// was live, under the names logrotate gives it later too.
#include "app/replay_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"

namespace poolwatch {
namespace {

using ::testing::ElementsAre;

TEST(LiveLogPath, RemovesTheGzipEndingAndTheRotationNumberOrDate) {
  EXPECT_EQ(LiveLogPath("/var/log/nginx/shop.access.log"), "/var/log/nginx/shop.access.log");
  EXPECT_EQ(LiveLogPath("/var/log/nginx/shop.access.log.1"), "/var/log/nginx/shop.access.log");
  EXPECT_EQ(LiveLogPath("/var/log/nginx/shop.access.log.12.gz"), "/var/log/nginx/shop.access.log");
  EXPECT_EQ(LiveLogPath("/var/log/nginx/access.log-20261126.gz"), "/var/log/nginx/access.log");
  EXPECT_EQ(LiveLogPath("/var/log/nginx/access.log-2026112614"), "/var/log/nginx/access.log");
  // Not a rotation: digits that are the name, a short "-N", a bare ".gz".
  EXPECT_EQ(LiveLogPath("/var/log/nginx/2026"), "/var/log/nginx/2026");
  EXPECT_EQ(LiveLogPath("/var/log/nginx/site-2"), "/var/log/nginx/site-2");
  EXPECT_EQ(LiveLogPath("access.log.gz"), "access.log");
}

class ReplaySourceOfTest : public ::testing::Test {
 protected:
  ReplaySourceOfTest() {
    config_.path_label.name = "site";
    config_.path_label.pattern = "/var/log/nginx/(\\w+)\\.access\\.log";
    LogFileFormat legacy;
    legacy.path = "/var/log/nginx/legacy*.access.log";
    legacy.format = "$status";
    config_.log_files.push_back(legacy);
    config_.syslog_labels = {SyslogLabel::kTag, SyslogLabel::kHost};
  }
  Config config_;
};

TEST_F(ReplaySourceOfTest, ALiveLogHasItsLabelItsFormatAndEmptySyslogValues) {
  const PathLabeler labeler(config_.path_label);
  const ReplaySource shop = ReplaySourceOf(config_, labeler, "/var/log/nginx/shop.access.log");
  EXPECT_EQ(shop.format, 0u);
  EXPECT_THAT(shop.values, ElementsAre("shop", "", ""));
  const ReplaySource legacy = ReplaySourceOf(config_, labeler, "/var/log/nginx/legacy.access.log");
  EXPECT_EQ(legacy.format, 1u);
  EXPECT_THAT(legacy.values, ElementsAre("legacy", "", ""));
}

TEST_F(ReplaySourceOfTest, ARotatedLogIsTakenForTheLogItWas) {
  const PathLabeler labeler(config_.path_label);
  const ReplaySource old =
      ReplaySourceOf(config_, labeler, "/var/log/nginx/legacy.access.log.3.gz");
  EXPECT_EQ(old.format, 1u);
  EXPECT_THAT(old.values, ElementsAre("legacy", "", ""));
}

TEST_F(ReplaySourceOfTest, ARelativePathIsMatchedAsAnAbsoluteOne) {
  config_.path_label.pattern = ".*/(\\w+)\\.access\\.log";
  config_.log_files[0].path = (std::filesystem::current_path() / "legacy.access.log").string();
  const PathLabeler labeler(config_.path_label);
  const ReplaySource legacy = ReplaySourceOf(config_, labeler, "legacy.access.log.1");
  EXPECT_EQ(legacy.format, 1u);
  EXPECT_THAT(legacy.values, ElementsAre("legacy", "", ""));
}

TEST_F(ReplaySourceOfTest, StandardInputAndUnmatchedLogsHaveTheSectionsFormatAndNoValues) {
  const PathLabeler labeler(config_.path_label);
  const ReplaySource in = ReplaySourceOf(config_, labeler, "-");
  EXPECT_EQ(in.format, 0u);
  EXPECT_THAT(in.values, ElementsAre("", "", ""));
  const ReplaySource other = ReplaySourceOf(config_, labeler, "/srv/logs/main.log");
  EXPECT_EQ(other.format, 0u);
  EXPECT_THAT(other.values, ElementsAre("", "", ""));
}

TEST(ReplaySourceOf, WithoutSourceLabelsThereAreNoValues) {
  Config config;
  const PathLabeler labeler(config.path_label);
  EXPECT_TRUE(ReplaySourceOf(config, labeler, "/var/log/nginx/access.log").values.empty());
}

}  // namespace
}  // namespace poolwatch
