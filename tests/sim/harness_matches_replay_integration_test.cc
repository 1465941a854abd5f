// The simulation harness runs lines through the pipeline in-process "as replay does": this
// checks it against `poolwatch replay` itself, on the same simulated log written to files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/sim/replay_harness.h"
#include "tests/sim/scenarios.h"
#include "tests/support/test_support.h"

namespace poolwatch::sim {
namespace {

using ::poolwatch::testing::TempDir;

// One line per notification, with everything replay prints about it.
std::string Render(const std::string& at, const std::string& rule, bool firing,
                   const nlohmann::json& labels, int suppressed, const std::string& text) {
  return at + " " + rule + (firing ? " firing " : " resolved ") + labels.dump() + " suppressed " +
         std::to_string(suppressed) + "\n" + text;
}

TEST(SimulationHarness, SendsWhatPoolwatchReplaySendsForTheSameLog) {
  Scenario s;
  s.phases = {Traffic(Minutes(3), 10, 0.005),      AsIncident(Traffic(Minutes(2), 10, 0.10)),
              Traffic(Minutes(5), 10, 0.005),      AsIncident(PrimaryDown(Minutes(1), 10)),
              Traffic(Minutes(3), 10, 0.005),      Quiet(Minutes(12)),
              AfterRotation(Requests(30, 10, 10)), Traffic(Minutes(5), 10, 0.005)};
  TempDir dir;
  const WrittenLog log = WriteScenarioLog(s, 11, (dir / "access.log").string());
  ASSERT_EQ(log.paths.size(), 2u);

  const poolwatch::testing::ReplayRun replay = poolwatch::testing::Replay(log.paths);
  const std::string& output = replay.output;
  ASSERT_EQ(replay.exit_code, 0) << output;
  std::vector<std::string> from_replay;
  for (const nlohmann::json& n : replay.notifications) {
    from_replay.push_back(Render(n["at"], n["rule"], n["status"] == "firing", n["labels"],
                                 n["suppressed"].get<int>(), n["message"]));
  }

  const SimRun run = RunThroughReplayPipeline(s, 11, SimulationConfig());
  EXPECT_EQ(run.malformed, 0u);
  EXPECT_EQ(run.files, 2u);
  std::vector<std::string> from_harness;
  for (const SentNotification& n : run.notifications) {
    from_harness.push_back(Render(FormatRfc3339(n.at), n.rule, n.firing, nlohmann::json(n.labels),
                                  n.suppressed, n.text));
  }
  EXPECT_THAT(output, ::testing::HasSubstr(std::to_string(run.lines) + " parsed, 0 malformed"));
  // Both rules have something to say in this log.
  EXPECT_GE(from_harness.size(), 4u) << output;
  EXPECT_EQ(from_harness, from_replay);
}

}  // namespace
}  // namespace poolwatch::sim
