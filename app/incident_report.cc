#include "app/incident_report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace poolwatch {
namespace {

bool SameAlert(const std::string& rule, const Labels& labels, const std::string& other_rule,
               const Labels& other_labels) {
  return rule == other_rule && labels == other_labels;
}

const RuleStatus* FindStatus(const EngineStatus& status, const std::string& rule,
                             const Labels& labels) {
  for (const RuleStatus& rs : status.rules) {
    if (SameAlert(rs.name, rs.labels, rule, labels)) return &rs;
  }
  return nullptr;
}

// The held-back counter a decision adds to; none for every other decision, including kinds
// added after this was written.
int* HeldCounter(Decision decision, Incident& incident) {
  switch (decision) {
    case Decision::kSuppressedCooldown:
      return &incident.held_by_cooldown;
    case Decision::kMaintenance:
      return &incident.held_by_maintenance;
    case Decision::kInhibited:
      return &incident.held_by_inhibition;
    default:
      return nullptr;
  }
}

// Decisions that say an episode happened even when no evaluation saw it active.
bool MeansAnEpisode(Decision decision) {
  return decision == Decision::kFired || decision == Decision::kSuppressedCooldown ||
         decision == Decision::kMaintenance || decision == Decision::kInhibited;
}

std::string FormatLabels(const Labels& labels) {
  if (labels.empty()) return "-";
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ',';
    out.append(name).append("=").append(value);
  }
  return out;
}

// 1h2m3s, 4m0s, 45s; "<1s" for a moment that is not nothing.
std::string FormatSpan(Clock::duration d) {
  if (d > Clock::duration::zero() && d < std::chrono::seconds(1)) return "<1s";
  return FormatDuration(d, "");
}

std::string FormatPeak(const Incident& incident) {
  if (incident.kind == RuleKind::kLatency) return FormatLatency(incident.peak_value);
  if (incident.kind == RuleKind::kSlo) return FormatBurnRate(incident.peak_value);
  if (incident.kind == RuleKind::kErrorRate || incident.kind == RuleKind::kReleaseRegression) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f%%", incident.peak_value);
    return buf;
  }
  if (incident.pools.empty()) return "-";
  std::string out;
  for (const std::string& pool : incident.pools) {
    if (!out.empty()) out += ',';
    out += pool;
  }
  return out;
}

std::string FormatSuppressed(const Incident& incident) {
  const int total = incident.Suppressed();
  if (total == 0) return "0";
  std::string reasons;
  auto add = [&](int count, const char* reason) {
    if (count == 0) return;
    if (!reasons.empty()) reasons += ", ";
    // One reason needs no count of its own: it is the total.
    if (count != total) reasons += std::to_string(count) + " ";
    reasons += reason;
  };
  add(incident.held_by_cooldown, "cooldown");
  add(incident.held_by_maintenance, "maintenance");
  add(incident.held_by_inhibition, "inhibited");
  return std::to_string(total) + " (" + reasons + ")";
}

std::string FormatAnnounced(const Incident& incident) {
  if (!incident.announced_at) return "no";
  if (*incident.announced_at <= incident.first_seen) return "at once";
  return "after " + FormatSpan(*incident.announced_at - incident.start);
}

// Columns padded to the widest cell, two spaces apart; the last column is not padded.
void AppendTable(const std::vector<std::vector<std::string>>& rows, std::string& out) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out.append(line).append("\n");
  }
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Clock::duration Incident::Duration(TimePoint end_of_log) const {
  return std::max(Clock::duration::zero(), end.value_or(end_of_log) - start);
}

IncidentReport::Track& IncidentReport::TrackOf(const std::string& rule, const Labels& labels) {
  for (Track& track : tracks_) {
    if (SameAlert(track.rule, track.labels, rule, labels)) return track;
  }
  tracks_.push_back(Track{rule, labels, std::nullopt, std::nullopt, false});
  return tracks_.back();
}

Incident* IncidentReport::IncidentFor(const std::string& rule, const Labels& labels, bool opens,
                                      std::optional<TimePoint> start, TimePoint now,
                                      const EngineStatus& status) {
  Track& track = TrackOf(rule, labels);
  if (track.open) return &incidents_[*track.open];
  if (track.closed_now) return &incidents_[*track.last];
  if (!opens) return track.last ? &incidents_[*track.last] : nullptr;
  // Began and ended between two evaluations. The rule's `since` is where its inactive stretch
  // began: the end of that episode.
  Incident incident;
  incident.rule = rule;
  incident.labels = labels;
  incident.latched = true;
  incident.first_seen = now;
  TimePoint ended = now;
  if (const RuleStatus* rs = FindStatus(status, rule, labels)) {
    incident.kind = rs->kind;
    if (rs->since != TimePoint{} && rs->since <= now) ended = rs->since;
  }
  incident.start = std::min(start.value_or(ended), ended);
  incident.end = ended;
  incidents_.push_back(std::move(incident));
  track.last = incidents_.size() - 1;
  track.closed_now = true;
  return &incidents_.back();
}

void IncidentReport::Add(TimePoint now, const Evaluation& evaluation, const EngineStatus& status) {
  if (!first_evaluation_) first_evaluation_ = now;
  for (Track& track : tracks_) track.closed_now = false;

  // Active or not, from the engine's own view: whatever the decision is called.
  for (const RuleStatus& rs : status.rules) {
    if (std::find(rule_order_.begin(), rule_order_.end(), rs.name) == rule_order_.end()) {
      rule_order_.push_back(rs.name);
    }
    if (!rs.firing) {
      auto it = std::find_if(tracks_.begin(), tracks_.end(), [&](const Track& t) {
        return SameAlert(t.rule, t.labels, rs.name, rs.labels);
      });
      if (it == tracks_.end() || !it->open) continue;
      Incident& incident = incidents_[*it->open];
      // `since` is when the inactive stretch began (traffic back, rate cleared), which may be
      // between evaluations.
      incident.end = rs.since > incident.start && rs.since <= now ? rs.since : now;
      it->open.reset();
      it->closed_now = true;
      continue;
    }
    Track& track = TrackOf(rs.name, rs.labels);
    if (!track.open) {
      Incident incident;
      incident.rule = rs.name;
      incident.kind = rs.kind;
      incident.labels = rs.labels;
      incident.start = rs.since != TimePoint{} && rs.since <= now ? rs.since : now;
      incident.first_seen = now;
      incidents_.push_back(std::move(incident));
      track.open = track.last = incidents_.size() - 1;
    }
    Incident& incident = incidents_[*track.open];
    incident.peak_value = std::max(incident.peak_value, rs.value);
    if (rs.kind == RuleKind::kFailover && !rs.serving_pool.empty()) {
      auto primary = rs.labels.find("pool");
      const bool on_primary = primary != rs.labels.end() && primary->second == rs.serving_pool;
      if (!on_primary && std::find(incident.pools.begin(), incident.pools.end(), rs.serving_pool) ==
                             incident.pools.end()) {
        incident.pools.push_back(rs.serving_pool);
      }
    }
  }

  for (const Notification& n : evaluation.notifications) {
    if (n.state_only) {
      // Held back from people by the cooldown: nothing was sent, but an episode happened.
      if (n.status == AlertStatus::kFiring) IncidentFor(n.rule, n.labels, true, n.at, now, status);
      continue;
    }
    if (n.status == AlertStatus::kResolved) {
      Track& track = TrackOf(n.rule, n.labels);
      if (track.open) {
        // Resolved while the status still says active (it should not happen): the message
        // decides, a later active status is a new incident.
        incidents_[*track.open].end = now;
        track.open.reset();
        track.closed_now = true;
      }
      Incident* incident = IncidentFor(n.rule, n.labels, false, std::nullopt, now, status);
      if (incident != nullptr) ++incident->resolved_sent;
      continue;
    }
    Incident* incident = IncidentFor(n.rule, n.labels, true, n.at, now, status);
    const bool repeat = std::any_of(
        evaluation.decisions.begin(), evaluation.decisions.end(), [&](const DecisionRecord& d) {
          return d.decision == Decision::kRepeated && SameAlert(d.rule, d.labels, n.rule, n.labels);
        });
    ++(repeat ? incident->repeats_sent : incident->firing_sent);
    if (!incident->announced_at) incident->announced_at = now;
  }

  for (const DecisionRecord& d : evaluation.decisions) {
    Incident* incident =
        IncidentFor(d.rule, d.labels, MeansAnEpisode(d.decision), std::nullopt, now, status);
    if (incident == nullptr) continue;
    if (int* held = HeldCounter(d.decision, *incident)) ++*held;
  }
}

std::vector<const Incident*> IncidentReport::Timeline() const {
  std::vector<const Incident*> out;
  out.reserve(incidents_.size());
  for (const Incident& incident : incidents_) out.push_back(&incident);
  std::stable_sort(out.begin(), out.end(),
                   [](const Incident* a, const Incident* b) { return a->start < b->start; });
  return out;
}

std::vector<RuleReport> IncidentReport::Rules(TimePoint end_of_log) const {
  std::vector<RuleReport> out;
  auto entry = [&](const std::string& rule) -> RuleReport& {
    for (RuleReport& r : out) {
      if (r.rule == rule) return r;
    }
    out.push_back(RuleReport{rule, 0, 0, 0, 0, {}});
    return out.back();
  };
  for (const std::string& rule : rule_order_) entry(rule);
  for (const Incident& incident : incidents_) {
    RuleReport& r = entry(incident.rule);
    ++r.incidents;
    if (!incident.announced_at) ++r.not_announced;
    r.sent += incident.Sent();
    r.suppressed += incident.Suppressed();
    r.firing += incident.Duration(end_of_log);
  }
  return out;
}

std::string FormatIncidentReportText(const IncidentReport& report, TimePoint end_of_log) {
  std::string out = "incident report";
  if (report.first_evaluation()) {
    out += ": log time " + FormatRfc3339(*report.first_evaluation()) + " to " +
           FormatRfc3339(end_of_log);
  }
  out += ", " + std::to_string(report.incidents().size()) + " incident(s)\n";
  if (!report.incidents().empty()) {
    const bool any_latched = std::any_of(report.incidents().begin(), report.incidents().end(),
                                         [](const Incident& incident) { return incident.latched; });
    std::vector<std::vector<std::string>> rows = {{"RULE", "LABELS", "START", "END", "DURATION",
                                                   "PEAK", "FIRING", "RESOLVED", "REPEATS",
                                                   "SUPPRESSED", "ANNOUNCED"}};
    if (any_latched) rows[0].push_back("NOTE");
    for (const Incident* listed : report.Timeline()) {
      const Incident& incident = *listed;
      rows.push_back({
          incident.rule,
          FormatLabels(incident.labels),
          FormatRfc3339(incident.start),
          incident.end ? FormatRfc3339(*incident.end) : "still firing",
          FormatSpan(incident.Duration(end_of_log)),
          FormatPeak(incident),
          std::to_string(incident.firing_sent),
          std::to_string(incident.resolved_sent),
          std::to_string(incident.repeats_sent),
          FormatSuppressed(incident),
          FormatAnnounced(incident),
      });
      if (incident.latched) rows.back().push_back("began and ended between two evaluations");
    }
    AppendTable(rows, out);
  }
  out += "\n";
  std::vector<std::vector<std::string>> rows = {
      {"RULE", "INCIDENTS", "NOT ANNOUNCED", "SENT", "SUPPRESSED", "FIRING FOR"}};
  for (const RuleReport& r : report.Rules(end_of_log)) {
    rows.push_back({r.rule, std::to_string(r.incidents), std::to_string(r.not_announced),
                    std::to_string(r.sent), std::to_string(r.suppressed), FormatSpan(r.firing)});
  }
  AppendTable(rows, out);
  return out;
}

std::string FormatIncidentReportJson(const IncidentReport& report, TimePoint end_of_log) {
  nlohmann::ordered_json incidents = nlohmann::ordered_json::array();
  for (const Incident* listed : report.Timeline()) {
    const Incident& incident = *listed;
    nlohmann::ordered_json entry = {
        {"rule", incident.rule},
        {"labels", incident.labels},
        {"start", FormatRfc3339(incident.start)},
        {"end", incident.end ? nlohmann::ordered_json(FormatRfc3339(*incident.end))
                             : nlohmann::ordered_json()},
        {"still_firing", !incident.end},
        {"duration_seconds", Seconds(incident.Duration(end_of_log))},
        {"latched", incident.latched},
        {"sent",
         {{"firing", incident.firing_sent},
          {"resolved", incident.resolved_sent},
          {"repeats", incident.repeats_sent}}},
        {"suppressed",
         {{"cooldown", incident.held_by_cooldown},
          {"maintenance", incident.held_by_maintenance},
          {"inhibited", incident.held_by_inhibition}}},
        {"announced_at", incident.announced_at
                             ? nlohmann::ordered_json(FormatRfc3339(*incident.announced_at))
                             : nlohmann::ordered_json()},
    };
    if (incident.kind == RuleKind::kErrorRate || incident.kind == RuleKind::kReleaseRegression) {
      entry["peak_error_percent"] = incident.peak_value;
    } else if (incident.kind == RuleKind::kLatency) {
      entry["peak_seconds"] = incident.peak_value;
    } else if (incident.kind == RuleKind::kSlo) {
      entry["peak_burn_rate"] = incident.peak_value;
    } else {
      entry["pools"] = incident.pools;
    }
    incidents.push_back(std::move(entry));
  }
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  for (const RuleReport& r : report.Rules(end_of_log)) {
    rules.push_back({{"rule", r.rule},
                     {"incidents", r.incidents},
                     {"not_announced", r.not_announced},
                     {"sent", r.sent},
                     {"suppressed", r.suppressed},
                     {"firing_seconds", Seconds(r.firing)}});
  }
  nlohmann::ordered_json doc = {
      {"from", report.first_evaluation()
                   ? nlohmann::ordered_json(FormatRfc3339(*report.first_evaluation()))
                   : nlohmann::ordered_json()},
      {"to", FormatRfc3339(end_of_log)},
      {"incidents", std::move(incidents)},
      {"rules", std::move(rules)}};
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace poolwatch
