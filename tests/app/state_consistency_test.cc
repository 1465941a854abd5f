// The state file written before each notification describes a line boundary: a backlog whose
// alerts fire and resolve in the middle of read blocks is caught up as the daemon does it
// (ReadLogsOnce), every state file written on the way is checked against the log, and a restart
// from each one (as after a kill -9 right after that write) ends with exactly the
// notifications of the run that was not interrupted: none lost, none repeated.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "app/pipeline.h"
#include "app/read_step.h"
#include "app/state_codec.h"
#include "app/state_keeper.h"
#include "tests/alerting/alerting_test_util.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

namespace fs = std::filesystem;
using ::poolwatch::testing::DefaultFormatLine;
using ::poolwatch::testing::ReadFile;
using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;

// 20,000 lines (about 4 MB), 20 a second, with a 40-error burst every 700 lines: error_rate
// fires and resolves about 30 times, at places that have nothing to do with read blocks.
std::string BacklogWithBursts() {
  std::string log;
  for (int i = 0; i < 20'000; ++i) {
    const bool burst = i % 700 >= 300 && i % 700 < 340;
    log += DefaultFormatLine(i / 20, burst ? 502 : 200) + "\n";
  }
  return log;
}

// Without the time: a restart starts with empty windows (the state file keeps alerts, not
// requests), so a resolution may come a few log seconds earlier than without the restart.
std::string Describe(const Notification& n) {
  return n.Key() + (n.status == AlertStatus::kFiring ? ":firing" : ":resolved");
}

// The daemon's state-keeping parts over one log, caught up from the start or from a saved state.
struct CatchUp {
  explicit CatchUp(const Config& config)
      : pipeline(config, registry), keeper(config, pipeline, &registry) {
    pipeline.SetBacklogBefore(TimePoint::max());
    // As the daemon's Dispatch: saved before anything is handed on.
    pipeline.SetDeliver(
        [this, path = config.state_path](std::vector<Pipeline::TimedEvaluation>& evaluations) {
          std::vector<Notification> notifications;
          for (const Pipeline::TimedEvaluation& e : evaluations) {
            notifications.insert(notifications.end(), e.evaluation.notifications.begin(),
                                 e.evaluation.notifications.end());
          }
          keeper.BeforeEnqueue(notifications);
          if (notifications.empty()) return;
          saved_states.push_back(ReadFile(path));
          for (const Notification& n : notifications) sent.push_back(Describe(n));
          handed_on.insert(handed_on.end(), notifications.begin(), notifications.end());
        });
    // A dispatcher that finishes nothing: every notification handed on stays in the outbox.
    StateKeeper::Exports exports;
    exports.outbox = [this] { return handed_on; };
    keeper.AttachExports(std::move(exports));
  }

  void Run(const std::string& log_path) {
    LogSetOptions logs;
    logs.patterns = {log_path};
    logs.follow.start_at_end = false;
    logs.use_inotify = false;
    // Several reads for the file, each of several blocks, as a longer backlog gets.
    logs.follow.max_bytes_per_poll = 600 * 1024;
    for (Notification& n : keeper.Restore(&logs).outbox) {
      sent.push_back(Describe(n));
      handed_on.push_back(std::move(n));
    }
    LogSet files(logs);
    keeper.Attach(&files);
    while (ReadLogsOnce(files, pipeline, keeper).bytes_read > 0) ++reads;
    pipeline.EvaluateAt(pipeline.last_record_time());
  }

  prometheus::Registry registry;
  Pipeline pipeline;
  StateKeeper keeper;
  std::vector<std::string> saved_states;
  std::vector<std::string> sent;
  std::vector<Notification> handed_on;
  int reads = 0;
};

TEST(StateConsistency, every_state_file_of_a_catch_up_is_at_a_line_boundary_and_resumes_exactly) {
  TempDir dir;
  const std::string log = BacklogWithBursts();
  WriteFile(dir / "access.log", log);
  Config config;
  config.log_paths = {(dir / "access.log").string()};
  config.state_path = (dir / "state.json").string();
  for (RuleConfig& rule : config.alerting.rules) {
    rule.cooldown = std::chrono::seconds(0);
    // Many short incidents: each resolves as soon as it clears.
    rule = poolwatch::testing::ResolvingAtOnce(rule);
  }

  CatchUp whole(config);
  whole.Run(config.log_paths.at(0));
  ASSERT_GE(whole.reads, 4) << "the backlog must take several reads";
  ASSERT_GE(whole.sent.size(), 40u) << "bursts must fire and resolve many times";
  ASSERT_GE(whole.saved_states.size(), 4u) << "saved before each read's notifications";

  std::set<uint64_t> offsets;
  for (size_t k = 0; k < whole.saved_states.size(); ++k) {
    SCOPED_TRACE("state file " + std::to_string(k));
    PersistedState saved;
    std::string error;
    ASSERT_TRUE(DecodeState(whole.saved_states[k], &saved, &error)) << error;
    ASSERT_TRUE(saved.position.has_value());
    const uint64_t offset = saved.position->offset;
    ASSERT_LE(offset, log.size());
    EXPECT_TRUE(offset == 0 || log[offset - 1] == '\n') << "offset " << offset << " is mid-line";
    EXPECT_EQ(saved.lines,
              static_cast<uint64_t>(std::count(log.begin(), log.begin() + offset, '\n')))
        << "the lines counted are not the lines before the offset";
    offsets.insert(offset);

    // A kill -9 right after this write: the next start resumes from it and must send exactly
    // what the uninterrupted run sent (the outbox holds those already handed on).
    Config resumed_config = config;
    resumed_config.state_path = (dir / ("resume-" + std::to_string(k) + ".json")).string();
    WriteFile(resumed_config.state_path, whole.saved_states[k]);
    CatchUp resumed(resumed_config);
    resumed.Run(config.log_paths.at(0));
    EXPECT_EQ(resumed.sent, whole.sent);
  }
  EXPECT_GE(offsets.size(), 3u) << "saved at several places in the file, not only at its end";
}

}  // namespace
}  // namespace poolwatch
