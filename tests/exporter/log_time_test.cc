#include "exporter/log_time.h"

#include <gtest/gtest.h>

#include <chrono>

namespace poolwatch {
namespace {

TEST(LogTime, AcceptsMsecTimestamps) {
  auto t = ParseMsec("1764140811.123");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->time_since_epoch(), std::chrono::milliseconds(1764140811123));
  EXPECT_FALSE(ParseMsec("17641x"));
}

TEST(LogTime, RejectsImpossibleTimestamps) {
  EXPECT_FALSE(ParseTimeLocal("26/Foo/2026:07:06:51 +0000"));
  EXPECT_FALSE(ParseTimeLocal("26/Nov/2026:25:06:51 +0000"));
  EXPECT_FALSE(ParseTimeIso8601("2026-13-26T07:06:51+00:00"));
  EXPECT_TRUE(ParseTimeIso8601("2026-11-26T07:06:51Z"));
}

}  // namespace
}  // namespace poolwatch
