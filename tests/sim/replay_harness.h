#pragma once

// Runs simulated traffic through the pipeline exactly as `poolwatch replay` runs a log
// (app/replay.cc: every line a backlog, the log's clock, one last evaluation at the last line's
// time), in-process, and judges what people would have been told against the scenario's truth.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "tests/sim/traffic_sim.h"

namespace poolwatch::sim {

// A notification people would have got (replay skips the cooldown's state_only ones too).
struct SentNotification {
  TimePoint at{};            // Notification::at: when the condition was observed (log time)
  TimePoint evaluated_at{};  // engine time of the evaluation that produced it
  // Requests logged when it was delivered. Evaluations run inside the pipeline's per-line
  // call and are delivered right after it, so the page came after at most this many.
  uint64_t requests = 0;
  std::string rule;
  bool firing = true;
  std::map<std::string, std::string> labels;
  int suppressed = 0;
  std::string text;
};

struct SimRun {
  std::vector<SentNotification> notifications;
  std::vector<Incident> incidents;  // the truth
  uint64_t lines = 0;
  uint64_t parsed = 0;
  uint64_t malformed = 0;
  size_t files = 0;
  TimePoint end{};  // log time of the last line
};

// A configuration loaded as replay loads its file: `yaml` is the file's text ("" : every
// default), without the process environment so a developer's ERROR_RATE_THRESHOLD cannot
// change a test. Throws ConfigError.
Config SimulationConfig(const std::string& yaml = "");

SimRun RunThroughReplayPipeline(const Scenario& scenario, uint64_t seed, const Config& config);

// Writes the scenario's log: to `path`, and what follows each rotation to `path`.1, `path`.2...
// (the order replay takes them in).
struct WrittenLog {
  std::vector<std::string> paths;
  std::vector<Incident> incidents;  // the truth
};
WrittenLog WriteScenarioLog(const Scenario& scenario, uint64_t seed, const std::string& path);

// What one incident got from one rule.
struct IncidentOutcome {
  Incident incident;
  int firings = 0;      // firing messages attributed to it
  int resolutions = 0;  // resolutions of those firings
  // Resolutions sent while the truth still said the incident was on.
  int false_resolutions = 0;
  std::optional<uint64_t> requests_to_page;  // since its start, to the first firing's delivery
  std::optional<Clock::duration> time_to_page;
  std::optional<Clock::duration> resolved_after_end;  // the last resolution, after its end
};

struct RunOutcome {
  std::vector<IncidentOutcome> incidents;  // parallel to SimRun::incidents
  int false_pages = 0;           // firings of the rule outside every incident (and its grace)
  int stray_resolutions = 0;     // resolutions of those false pages
  int pages_of_other_rules = 0;  // firings of any other rule, wherever they fell
};

// Attributes `rule`'s messages to the incidents: a firing belongs to the incident it falls in,
// or that ended at most `grace` earlier (a late page is still that incident's); a resolution
// belongs to the firing before it.
RunOutcome Judge(const SimRun& run, std::string_view rule, Clock::duration grace);

// How long, by chance alone, a failing service looked healthy to a window of the last
// `window` requests after it had looked failing: the longest run of consecutive requests inside
// the scenario's incidents, once the window had held more than `fire_above` errors there, after
// each of which it held at most `clear_at_most` errors. (Defaults: the rule fires above 2 % and
// counts as clear at 1 % of 200.) The semantics resolve an error_rate alert only after such a
// stretch of 60 s and 400 requests. Computed from the simulator's draws, no pipeline involved.
struct ClearStretch {
  uint64_t requests = 0;
  Clock::duration duration{};
};
ClearStretch LongestClearStretchWhileFailing(const Scenario& scenario, uint64_t seed,
                                             size_t window = 200, size_t fire_above = 4,
                                             size_t clear_at_most = 2);

}  // namespace poolwatch::sim
