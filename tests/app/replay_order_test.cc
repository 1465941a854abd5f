// OrderByFirstLine: the order replay reads its logs in.
#include "app/replay_order.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace poolwatch {
namespace {

using ::testing::ElementsAre;

TimePoint Minute(int m) {
  return TimePoint{} + std::chrono::hours(490000) + std::chrono::minutes(m);
}

TEST(OrderByFirstLine, ShellGlobOrderOfRotationsBecomesOldestFirst) {
  // access.log, access.log.1, access.log.10.gz, access.log.2.gz … as `ls` lists them; the
  // higher the number, the older.
  const std::vector<std::optional<TimePoint>> glob = {Minute(110), Minute(100), Minute(0),
                                                      Minute(90),  Minute(80),  Minute(10)};
  EXPECT_THAT(OrderByFirstLine(glob), ElementsAre(2, 5, 4, 3, 1, 0));
}

TEST(OrderByFirstLine, LogsInTimeOrderStayAsGiven) {
  const std::vector<std::optional<TimePoint>> times = {Minute(0), Minute(5), Minute(9)};
  EXPECT_THAT(OrderByFirstLine(times), ElementsAre(0, 1, 2));
}

TEST(OrderByFirstLine, EqualTimesKeepTheOrderGiven) {
  const std::vector<std::optional<TimePoint>> times = {Minute(3), Minute(1), Minute(3), Minute(1)};
  EXPECT_THAT(OrderByFirstLine(times), ElementsAre(1, 3, 0, 2));
}

TEST(OrderByFirstLine, LogsWithoutATimeComeLastInTheOrderGiven) {
  const std::vector<std::optional<TimePoint>> times = {std::nullopt, Minute(7), std::nullopt,
                                                       Minute(2)};
  EXPECT_THAT(OrderByFirstLine(times), ElementsAre(3, 1, 0, 2));
}

TEST(OrderByFirstLine, NoLogsNoOrder) {
  EXPECT_TRUE(OrderByFirstLine(std::vector<std::optional<TimePoint>>{}).empty());
}

}  // namespace
}  // namespace poolwatch
