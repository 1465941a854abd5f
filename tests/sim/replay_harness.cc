#include "tests/sim/replay_harness.h"

#include <prometheus/registry.h>

#include <deque>
#include <fstream>
#include <stdexcept>

#include "app/logger.h"
#include "app/pipeline.h"
#include "exporter/line_splitter.h"

namespace poolwatch::sim {

Config SimulationConfig(const std::string& yaml) {
  Config config = LoadConfigFromString(yaml, "simulation.yml", Environment{});
  config.instance = "simulation";
  ValidateConfig(config);
  return config;
}

SimRun RunThroughReplayPipeline(const Scenario& scenario, uint64_t seed, const Config& config) {
  // Replay's level: a malformed line still says so.
  Logger::SetLevel(LogLevel::kWarn);
  SimRun run;
  prometheus::Registry registry;
  // As replay: no verdict queries, so no verdict windows.
  Pipeline pipeline(config, registry, nullptr, AlertEngine::VerdictWindows::kSkipped);
  pipeline.SetFlushEvery(Pipeline::kBatchLines);
  pipeline.SetBacklogBefore(TimePoint::max());
  pipeline.SetDeliver([&run](std::vector<Pipeline::TimedEvaluation>& evaluations) {
    for (const Pipeline::TimedEvaluation& e : evaluations) {
      for (const Notification& n : e.evaluation.notifications) {
        if (n.state_only) continue;
        SentNotification sent;
        sent.at = n.at;
        sent.evaluated_at = e.now;
        sent.requests = run.lines;
        sent.rule = n.rule;
        sent.firing = n.status == AlertStatus::kFiring;
        sent.labels = n.labels;
        sent.suppressed = n.suppressed;
        sent.text = n.Text();
        run.notifications.push_back(std::move(sent));
      }
    }
  });
  TrafficSimulator simulator(scenario, seed);
  // As replay reads its files: one splitter per file, flushed at the file's end.
  LineSplitter splitter;
  size_t file = 0;
  auto on_line = [&](std::string_view line) { pipeline.ProcessLine(line); };
  auto on_overlong = [&]() { pipeline.CountOverlong(1); };
  while (simulator.Next()) {
    if (simulator.file_index() != file) {
      splitter.Flush(on_line);
      splitter = LineSplitter();
      file = simulator.file_index();
    }
    splitter.Feed(simulator.line_with_newline(), on_line, on_overlong);
    ++run.lines;
    // Replay delivers once per block read; delivering after every line changes nothing the
    // engine decides (evaluations are made inside ProcessLine either way) and tells how many
    // requests a page took.
    pipeline.DeliverPending();
  }
  splitter.Flush(on_line);
  if (pipeline.lines_parsed() > 0) pipeline.EvaluateAt(pipeline.last_record_time());
  pipeline.Flush();
  run.incidents = simulator.incidents();
  run.parsed = pipeline.lines_parsed();
  run.malformed = pipeline.lines_malformed();
  run.files = simulator.file_index() + 1;
  run.end = pipeline.last_record_time();
  return run;
}

WrittenLog WriteScenarioLog(const Scenario& scenario, uint64_t seed, const std::string& path) {
  WrittenLog written;
  std::ofstream out;
  TrafficSimulator simulator(scenario, seed);
  auto open_next = [&]() {
    if (out.is_open()) {
      out.close();
      if (!out) throw std::runtime_error("cannot write " + written.paths.back());
    }
    const size_t index = written.paths.size();
    written.paths.push_back(index == 0 ? path : path + "." + std::to_string(index));
    out.open(written.paths.back(), std::ios::binary | std::ios::trunc);
  };
  open_next();
  while (simulator.Next()) {
    while (simulator.file_index() >= written.paths.size()) open_next();
    out << simulator.line_with_newline();
  }
  out.close();
  if (!out) throw std::runtime_error("cannot write " + written.paths.back());
  written.incidents = simulator.incidents();
  return written;
}

RunOutcome Judge(const SimRun& run, std::string_view rule, Clock::duration grace) {
  RunOutcome report;
  for (const Incident& incident : run.incidents) {
    report.incidents.emplace_back();
    report.incidents.back().incident = incident;
  }
  // Lines show whole seconds: a page stamped in the second an incident began is inside it.
  auto starts_by = [](const Incident& incident, TimePoint t) {
    return std::chrono::floor<std::chrono::seconds>(incident.begin) <= t;
  };
  // Per alert (label set): the incident its announced firing belongs to; -1 a false page.
  std::map<std::map<std::string, std::string>, int> open;
  for (const SentNotification& n : run.notifications) {
    if (n.rule != rule) {
      if (n.firing) ++report.pages_of_other_rules;
      continue;
    }
    if (n.firing) {
      int owner = -1;
      for (size_t i = 0; i < run.incidents.size(); ++i) {
        const Incident& incident = run.incidents[i];
        if (starts_by(incident, n.at) && n.at <= incident.end + grace) owner = static_cast<int>(i);
      }
      open[n.labels] = owner;
      if (owner < 0) {
        ++report.false_pages;
        continue;
      }
      IncidentOutcome& r = report.incidents[static_cast<size_t>(owner)];
      if (r.firings++ == 0) {
        r.requests_to_page = n.requests - r.incident.first_request;
        r.time_to_page = n.at - r.incident.begin;
      }
      continue;
    }
    auto it = open.find(n.labels);
    const int owner = it == open.end() ? -1 : it->second;
    if (it != open.end()) open.erase(it);
    if (owner < 0) {
      ++report.stray_resolutions;
      continue;
    }
    IncidentOutcome& r = report.incidents[static_cast<size_t>(owner)];
    ++r.resolutions;
    // Still on at the resolution's log second: the all-clear came while it was failing.
    if (n.at < std::chrono::floor<std::chrono::seconds>(r.incident.end)) ++r.false_resolutions;
    r.resolved_after_end = n.at - r.incident.end;
  }
  return report;
}

ClearStretch LongestClearStretchWhileFailing(const Scenario& scenario, uint64_t seed, size_t window,
                                             size_t fire_above, size_t clear_at_most) {
  TrafficSimulator sim(scenario, seed);
  std::deque<bool> last;
  size_t errors = 0;
  bool fired = false;
  ClearStretch current, longest;
  TimePoint stretch_start{};
  while (sim.Next()) {
    last.push_back(sim.client_error());
    errors += sim.client_error();
    if (last.size() > window) {
      errors -= last.front();
      last.pop_front();
    }
    if (!sim.in_incident()) fired = false;
    if (sim.in_incident() && errors > fire_above) fired = true;
    if (!fired || errors > clear_at_most) {
      current = {};
      continue;
    }
    if (current.requests++ == 0) stretch_start = sim.time();
    current.duration = sim.time() - stretch_start;
    if (current.requests > longest.requests) longest = current;
  }
  return longest;
}

}  // namespace poolwatch::sim
