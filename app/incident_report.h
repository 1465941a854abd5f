#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alerting/alert_engine.h"

namespace poolwatch {

// One alert (rule + label set) from the evaluation its condition was first seen active (fired,
// held back, muted: RuleStatus::firing) to the one that saw it clear, with what people were
// told about it. An episode that began and ended between two evaluations (the engine latched
// it) is an incident too, marked `latched`: its times are the evaluation's, not the log's.
struct Incident {
  std::string rule;
  RuleKind kind = RuleKind::kFailover;
  Labels labels;
  TimePoint start{};
  std::optional<TimePoint> end;  // none: still firing when the evaluations stopped
  bool latched = false;
  // The highest RuleStatus::value seen while active: the error rate in percent for error_rate,
  // the quantile in seconds for latency.
  double peak_value = 0;
  // failover: the pools traffic was on while active, in the order seen (the primary aside).
  std::vector<std::string> pools;
  // Messages handed to people (state-only mirrors for Alertmanager are not counted).
  int firing_sent = 0;  // first firing and re-fires (traffic moved, new episode)
  int repeats_sent = 0;
  int resolved_sent = 0;
  // The evaluation that first saw it, and the one that sent its first firing message (none:
  // never announced). Replay evaluates once a log second, so "announced at the first look" is
  // what says it was not held back, not a zero delay.
  TimePoint first_seen{};
  std::optional<TimePoint> announced_at;
  // Decisions that held a message back, by reason. The engine reports a decision when it
  // changes or when the count of swallowed firings grows, so each one is a message not sent.
  int held_by_cooldown = 0;
  int held_by_maintenance = 0;
  int held_by_inhibition = 0;

  int Sent() const { return firing_sent + repeats_sent + resolved_sent; }
  int Suppressed() const { return held_by_cooldown + held_by_maintenance + held_by_inhibition; }
  // Up to `end_of_log` when still firing.
  Clock::duration Duration(TimePoint end_of_log) const;
};

struct RuleReport {
  std::string rule;
  int incidents = 0;
  int not_announced = 0;
  int sent = 0;
  int suppressed = 0;
  Clock::duration firing{};  // total time of its incidents
};

// Builds the incident timeline of a replay from the engine's evaluations, each with the engine's
// Status() taken right after it. Pure: time comes with the evaluations, no I/O.
//
// Active and cleared are read from RuleStatus::firing, not from the decision names, so new
// decisions (a "resolving" stretch that still counts as firing) need nothing here; decisions
// only count what was held back, and the messages say what was sent.
class IncidentReport {
 public:
  // `status` is AlertEngine::Status(now) right after the evaluation at `now`.
  void Add(TimePoint now, const Evaluation& evaluation, const EngineStatus& status);

  // In the order the evaluations found them (a latched one after those open at that time).
  const std::vector<Incident>& incidents() const { return incidents_; }
  // By start, ties in the order found: the order of the report.
  std::vector<const Incident*> Timeline() const;
  // One entry per rule the engine reported, in the engine's order, with or without incidents.
  std::vector<RuleReport> Rules(TimePoint end_of_log) const;
  std::optional<TimePoint> first_evaluation() const { return first_evaluation_; }

 private:
  struct Track {
    std::string rule;
    Labels labels;
    std::optional<size_t> open;  // index into incidents_
    std::optional<size_t> last;  // the latest incident, open or not
    bool closed_now = false;     // `last` ended at the evaluation being added
  };
  Track& TrackOf(const std::string& rule, const Labels& labels);
  // The incident a message or decision of this evaluation belongs to: the open one, the one
  // that ended at this evaluation, or else a latched one opened for it (`opens`; otherwise the
  // alert's latest, e.g. for a resolution held back by maintenance). `start`: when the episode
  // began, if the message says.
  Incident* IncidentFor(const std::string& rule, const Labels& labels, bool opens,
                        std::optional<TimePoint> start, TimePoint now, const EngineStatus& status);

  std::optional<TimePoint> first_evaluation_;
  std::vector<Incident> incidents_;
  std::vector<Track> tracks_;
  std::vector<std::string> rule_order_;
};

// The report as aligned text: one line per incident, then one per rule. Times RFC 3339 UTC.
std::string FormatIncidentReportText(const IncidentReport& report, TimePoint end_of_log);
// The same as one JSON document (machine-readable, for scripts comparing tunings).
std::string FormatIncidentReportJson(const IncidentReport& report, TimePoint end_of_log);

}  // namespace poolwatch
