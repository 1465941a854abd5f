// The pipeline's evaluation schedule for lines read in a batch (a backlog in the daemon, every
// line in replay): log time, each log second, every few lines, never backwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "app/pipeline.h"
#include "config/config.h"
#include "tests/alerting/alerting_test_util.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::DefaultFormatLine;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const TimePoint kStart = TimePoint{} + std::chrono::seconds(1'795'676'400);  // 2026-11-26T07:00Z

// The defaults (failover and a 200-request error_rate), resolving as soon as the condition
// clears: these tests are about when evaluations happen, not about how long resolution waits.
Config ResolvingAtOnce() {
  Config config;
  for (RuleConfig& rule : config.alerting.rules) rule = poolwatch::testing::ResolvingAtOnce(rule);
  return config;
}

struct Feed {
  Feed() : pipeline(config, registry) {
    pipeline.SetDeliver([this](std::vector<Pipeline::TimedEvaluation>& evaluations) {
      for (Pipeline::TimedEvaluation& e : evaluations) {
        times.push_back(e.now);
        for (Notification& n : e.evaluation.notifications) sent.push_back(std::move(n));
      }
    });
  }
  std::vector<std::string> Keys() const {
    std::vector<std::string> out;
    for (const Notification& n : sent) {
      out.push_back(n.Key() + (n.status == AlertStatus::kFiring ? ":firing" : ":resolved"));
    }
    return out;
  }
  Config config = ResolvingAtOnce();
  prometheus::Registry registry;
  Pipeline pipeline;
  std::vector<TimePoint> times;
  std::vector<Notification> sent;
};

// 1,000 lines in one second with a 30-error burst in the middle: one evaluation after the whole
// batch (the daemon's old once per read) sees a clean 200-request window and misses it.
void FeedBurst(Pipeline& pipeline, int second) {
  for (int i = 0; i < 1000; ++i) {
    pipeline.ProcessLine(DefaultFormatLine(second, i >= 500 && i < 530 ? 500 : 200));
  }
}

TEST(CatchUp, a_burst_inside_one_read_of_a_backlog_is_seen) {
  Feed run;
  run.pipeline.SetBacklogBefore(TimePoint::max());
  FeedBurst(run.pipeline, 0);
  run.pipeline.DeliverPending();  // the owner, once the read is over
  // Fired while the burst was in the window, resolved once clean requests pushed it out.
  EXPECT_THAT(run.Keys(), ElementsAre("error_rate{}:firing", "error_rate{}:resolved"));
  EXPECT_LE(run.pipeline.EvaluateEveryLines(), 50u) << "well below the 200-request window";
}

TEST(CatchUp, what_a_read_leads_to_is_delivered_only_after_the_read_in_order) {
  Feed run;
  run.pipeline.SetBacklogBefore(TimePoint::max());
  FeedBurst(run.pipeline, 0);
  FeedBurst(run.pipeline, 1);
  EXPECT_THAT(run.times, IsEmpty()) << "delivered from inside the line callback";
  run.pipeline.DeliverPending();
  EXPECT_THAT(run.Keys(), ElementsAre("error_rate{}:firing", "error_rate{}:resolved",
                                      "error_rate{}:firing", "error_rate{}:resolved"));
  ASSERT_THAT(run.times, SizeIs(::testing::Gt(4u)));
  for (size_t i = 1; i < run.times.size(); ++i) EXPECT_LE(run.times[i - 1], run.times[i]);
  const size_t delivered = run.times.size();
  run.pipeline.DeliverPending();
  EXPECT_EQ(run.times.size(), delivered) << "each evaluation is delivered once";
}

TEST(CatchUp, live_lines_are_left_to_the_owner_s_ticks) {
  Feed run;
  run.pipeline.SetBacklogBefore(kStart - std::chrono::seconds(10));  // every line is fresh
  FeedBurst(run.pipeline, 0);
  run.pipeline.DeliverPending();
  EXPECT_THAT(run.times, IsEmpty()) << "no evaluation per line or per second for live traffic";
  EXPECT_FALSE(run.pipeline.InBacklog());
}

TEST(CatchUp, backlog_ages_in_log_time_and_resolves_when_the_daemon_would_have) {
  Feed run;
  run.pipeline.SetBacklogBefore(TimePoint::max());
  for (int i = 0; i < 100; ++i) {
    run.pipeline.ProcessLine(DefaultFormatLine(i / 10, i % 3 == 0 ? 500 : 200));
  }
  run.pipeline.DeliverPending();
  ASSERT_THAT(run.Keys(), ElementsAre("error_rate{}:firing"));
  EXPECT_LT(run.sent[0].at, kStart + std::chrono::seconds(10));
  EXPECT_TRUE(run.pipeline.InBacklog());
  // Caught up hours later (the wall clock): the burst ages out at its own time plus max_age
  // (300 s), not at once and not hours late.
  run.pipeline.EvaluateAt(kStart + std::chrono::hours(3));
  ASSERT_THAT(run.Keys(), ElementsAre("error_rate{}:firing", "error_rate{}:resolved"));
  EXPECT_GE(run.sent[1].at, kStart + std::chrono::seconds(300));
  EXPECT_LE(run.sent[1].at, kStart + std::chrono::seconds(310));
  // A three-hour gap stays a bounded number of evaluations.
  EXPECT_LT(run.times.size(), 3600u + 24 * 60 + 200);
}

TEST(CatchUp, engine_time_never_goes_back) {
  Feed run;
  run.pipeline.SetBacklogBefore(TimePoint::max());
  run.pipeline.EvaluateAt(kStart + std::chrono::seconds(30));  // e.g. the admin API
  FeedBurst(run.pipeline, 0);                                  // older lines after it
  run.pipeline.EvaluateAt(kStart);
  for (int s = 31; s < 35; ++s) run.pipeline.ProcessLine(DefaultFormatLine(s, 200));
  run.pipeline.EvaluateAt(kStart + std::chrono::seconds(40));
  ASSERT_THAT(run.times, SizeIs(::testing::Gt(4u)));
  for (size_t i = 1; i < run.times.size(); ++i) {
    EXPECT_LE(run.times[i - 1], run.times[i]) << "evaluation " << i;
  }
  EXPECT_EQ(run.times.back(), kStart + std::chrono::seconds(40));
}

TEST(CatchUp, each_log_second_is_evaluated_before_its_first_line) {
  Feed run;
  run.pipeline.SetBacklogBefore(TimePoint::max());
  run.pipeline.ProcessLine(DefaultFormatLine(0, 200));
  run.pipeline.ProcessLine(DefaultFormatLine(3, 200));
  run.pipeline.DeliverPending();
  // The first line sets the start; the jump to 07:00:03 evaluates 01, 02 and 03 first.
  EXPECT_THAT(run.times,
              ElementsAre(kStart, kStart + std::chrono::seconds(1),
                          kStart + std::chrono::seconds(2), kStart + std::chrono::seconds(3)));
}

}  // namespace
}  // namespace poolwatch
