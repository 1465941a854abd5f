// Writes the simulator's regression logs (tests/testdata/replay/sim_logs.txt tells their
// stories), or searches for the seeds that make the alerting of the code it is built from tell
// those stories wrongly.
//
//   poolwatch_make_sim_logs DIR                      writes DIR/thin_evidence.log and
//                                                    DIR/false_all_clear.log with the fixed seeds
//   poolwatch_make_sim_logs --search STORY FROM N    tries seeds FROM..FROM+N-1 through the
//                                                    in-process replay pipeline (STORY: thin or
//                                                    false) and prints those that reproduce it
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/sim/replay_harness.h"
#include "tests/sim/scenarios.h"

namespace poolwatch::sim {
namespace {

std::string Stamp(TimePoint t) { return FormatRfc3339(t); }

void PrintRun(const SimRun& run) {
  for (const Incident& incident : run.incidents) {
    std::printf("  incident %s .. %s, requests %llu..%llu\n", Stamp(incident.begin).c_str(),
                Stamp(incident.end).c_str(),
                static_cast<unsigned long long>(incident.first_request),
                static_cast<unsigned long long>(incident.end_request));
  }
  for (const SentNotification& n : run.notifications) {
    std::printf("  %s %s %s after %llu requests\n", Stamp(n.at).c_str(), n.rule.c_str(),
                n.firing ? "firing" : "resolved", static_cast<unsigned long long>(n.requests));
  }
}

bool IsErrorRateSequence(const SimRun& run, const std::vector<bool>& firings) {
  if (run.notifications.size() != firings.size()) return false;
  for (size_t i = 0; i < firings.size(); ++i) {
    if (run.notifications[i].rule != "error_rate" || run.notifications[i].firing != firings[i])
      return false;
  }
  return true;
}

// Old behaviour (seed semantics, min_requests 20): fires on the first judged window, 1 error in
// 21 requests, resolves seconds later, then pages for the real incident.
bool ReproducesThinEvidence(const SimRun& run) {
  if (!IsErrorRateSequence(run, {true, false, true, false}) || run.incidents.size() != 1) {
    return false;
  }
  const auto& n = run.notifications;
  const Incident& real = run.incidents[0];
  return n[0].text.find("5xx Errors: 1/21 requests") != std::string::npos &&
         n[0].text.find("Error Rate: 4.76%") != std::string::npos &&
         n[1].at - n[0].at < std::chrono::seconds(60) && n[2].at >= real.begin &&
         n[2].at <= real.end && n[3].at >= real.end;
}

// Old behaviour: fires, resolves while the POSTs still fail, fires again when the cooldown
// ends, resolves after the incident.
bool ReproducesFalseAllClear(const SimRun& run) {
  if (!IsErrorRateSequence(run, {true, false, true, false}) || run.incidents.size() != 1) {
    return false;
  }
  const auto& n = run.notifications;
  const Incident& incident = run.incidents[0];
  return n[0].at >= incident.begin && n[1].at < incident.end &&
         n[2].at >= n[0].at + std::chrono::seconds(300) && n[3].at > n[2].at;
}

int Search(const std::string& story, uint64_t from, uint64_t count) {
  const Config config = SimulationConfig();
  const Scenario scenario = story == "thin" ? ThinEvidenceStory() : FalseAllClearStory();
  for (uint64_t seed = from; seed < from + count; ++seed) {
    SimRun run = RunThroughReplayPipeline(scenario, seed, config);
    const bool found = story == "thin" ? ReproducesThinEvidence(run) : ReproducesFalseAllClear(run);
    if (!found) continue;
    // The new semantics resolve only after the window stayed at or below 1 % for 60 s and 400
    // requests: a seed whose longest such stretch inside the incident is far shorter keeps the
    // log's new expectation (one firing, one resolution) away from chance.
    const ClearStretch clear = LongestClearStretchWhileFailing(scenario, seed);
    std::printf(
        "seed %llu reproduces it; longest clear stretch in the incident: %llu requests, "
        "%lld s\n",
        static_cast<unsigned long long>(seed), static_cast<unsigned long long>(clear.requests),
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::seconds>(clear.duration).count()));
    PrintRun(run);
  }
  return 0;
}

int Write(const std::string& dir) {
  struct Log {
    const char* file;
    Scenario scenario;
    uint64_t seed;
  };
  const Log logs[] = {{"thin_evidence.log", ThinEvidenceStory(), kThinEvidenceSeed},
                      {"false_all_clear.log", FalseAllClearStory(), kFalseAllClearSeed}};
  for (const Log& log : logs) {
    const std::string path = dir + "/" + log.file;
    const WrittenLog written = WriteScenarioLog(log.scenario, log.seed, path);
    std::printf("%s (seed %llu)\n", path.c_str(), static_cast<unsigned long long>(log.seed));
    for (const Incident& incident : written.incidents) {
      std::printf("  incident %s .. %s\n", Stamp(incident.begin).c_str(),
                  Stamp(incident.end).c_str());
    }
  }
  return 0;
}

}  // namespace
}  // namespace poolwatch::sim

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "--search" && (args[1] == "thin" || args[1] == "false")) {
    return poolwatch::sim::Search(args[1], std::strtoull(args[2].c_str(), nullptr, 10),
                                  std::strtoull(args[3].c_str(), nullptr, 10));
  }
  if (args.size() == 1 && args[0].rfind("--", 0) != 0) return poolwatch::sim::Write(args[0]);
  std::fprintf(stderr,
               "usage: poolwatch_make_sim_logs DIR\n"
               "       poolwatch_make_sim_logs --search thin|false FROM COUNT\n");
  return 2;
}
