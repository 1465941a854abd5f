#include "alerting/clear_stretch.h"

#include <gtest/gtest.h>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;

RuleConfig Resolving(std::chrono::seconds after, size_t requests) {
  RuleConfig config;
  config.kind = RuleKind::kErrorRate;
  config.resolve_for = after;
  config.resolve_requests = requests;
  return config;
}

TEST(ClearStretch, needs_both_the_time_and_the_entries) {
  const RuleConfig config = Resolving(std::chrono::seconds(10), 5);
  ClearStretch stretch;
  stretch.Break();
  stretch.Continue(At(0));
  for (int i = 0; i < 4; ++i) stretch.Count(false);
  EXPECT_FALSE(stretch.LongEnough(At(100), config, {})) << "4 entries";
  stretch.Count(false);
  EXPECT_FALSE(stretch.LongEnough(At(9), config, {})) << "9 s";
  EXPECT_TRUE(stretch.LongEnough(At(10), config, {}));
}

TEST(ClearStretch, counts_from_the_last_unclear_evaluation_or_bad_entry_whichever_is_later) {
  const RuleConfig config = Resolving(std::chrono::seconds(0), 10);
  ClearStretch stretch;
  for (int i = 0; i < 3; ++i) stretch.Count(true);
  stretch.Break();  // an evaluation above the resolve threshold
  for (int i = 0; i < 6; ++i) stretch.Count(false);
  stretch.Continue(At(1));  // the first evaluation that sees it clear
  EXPECT_EQ(stretch.entries(), 6u) << "the good ones since the unclear evaluation";
  stretch.Count(true);  // a stray error while the window stays clear
  stretch.Count(false);
  stretch.Continue(At(2));
  EXPECT_EQ(stretch.entries(), 8u) << "a running stretch goes on";
  stretch.Break();
  for (int i = 0; i < 3; ++i) stretch.Count(false);
  stretch.Count(true);
  stretch.Count(false);
  stretch.Continue(At(3));
  EXPECT_EQ(stretch.entries(), 1u) << "a new stretch: only the one after the error";
}

TEST(ClearStretch, low_traffic_resolves_after_two_max_ages) {
  const RuleConfig config = Resolving(std::chrono::seconds(60), 400);
  ClearStretch stretch;
  stretch.Break();
  stretch.Continue(At(0));
  EXPECT_FALSE(stretch.LongEnough(At(599), config, std::chrono::seconds(300)));
  EXPECT_TRUE(stretch.LongEnough(At(600), config, std::chrono::seconds(300)));
  EXPECT_FALSE(stretch.LongEnough(At(6000), config, Clock::duration::zero()))
      << "no age bound: only entries resolve it";
  stretch.Break();
  EXPECT_FALSE(stretch.LongEnough(At(6000), config, std::chrono::seconds(300))) << "broken";
}

}  // namespace
}  // namespace poolwatch
