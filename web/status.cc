#include "web/status.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/log_record.h"

namespace poolwatch {
namespace {

using nlohmann::json;

bool Known(TimePoint t) { return t != TimePoint{}; }

json Time(TimePoint t) { return Known(t) ? json(FormatRfc3339(t)) : json(nullptr); }

// Whole seconds from `since` to `now`; null when `since` is unknown. Never negative: log time
// may run a little ahead of the wall clock.
json Age(TimePoint since, TimePoint now) {
  if (!Known(since)) return nullptr;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - since).count();
  return std::max<int64_t>(seconds, 0);
}

// What `value` and `threshold` count.
std::string_view UnitOf(RuleKind kind) {
  switch (kind) {
    case RuleKind::kFailover:
      return "boolean";
    case RuleKind::kErrorRate:
      return "percent";
    case RuleKind::kTraffic:
      return "requests";  // in the window; fires below the threshold
    case RuleKind::kLatency:
      return "seconds";  // the window's quantile
    case RuleKind::kReleaseRegression:
      return "percent";  // the release's 5xx share against its bound from the baseline
    case RuleKind::kSlo:
      return "burn_rate";  // the first entry's long window against its rate, for each urgency
  }
  return "";
}

std::string Severity(const StatusSnapshot& s, const RuleStatus& r) {
  for (const RuleConfig& rc : s.rules) {
    if (rc.name != r.name) continue;
    // slo: the ticket has its own, lower severity.
    auto urgency = r.labels.find("urgency");
    if (rc.kind == RuleKind::kSlo && urgency != r.labels.end() && urgency->second == "ticket") {
      return rc.ticket_severity;
    }
    return rc.severity;
  }
  return "";
}

json RuleJson(const StatusSnapshot& s, const RuleStatus& r) {
  json out = {
      {"name", r.name},
      {"kind", RuleKindName(r.kind)},
      {"labels", r.labels},
      {"firing", r.firing},
      {"value", r.value},
      {"threshold", r.threshold},
      // error_rate: percent of errors in the window; failover: 1 while traffic is off the
      // primary, so "value ≥ threshold" reads the same way for both; traffic: requests in the
      // window, firing below the threshold; latency: the quantile.
      {"unit", UnitOf(r.kind)},
      {"window_fill", r.window_fill},
      {"window_size", r.window_size},
      {"since", Time(r.since)},
      {"for_seconds", Age(r.since, s.now)},
      {"announced", r.announced},
      {"suppressed", r.suppressed},
      {"decision", r.last_decision},
  };
  if (!r.serving_pool.empty()) out["serving_pool"] = r.serving_pool;
  // group_by (issue 17): one entry per group, its labels among `labels`; say which they are.
  for (const RuleConfig& rc : s.rules) {
    if (rc.name != r.name || rc.group_by.empty()) continue;
    json names = json::array();
    for (const RuleConfig::GroupLabel& label : rc.group_by) names.push_back(label.name);
    out["group_by"] = std::move(names);
  }
  return out;
}

json AlertJson(const StatusSnapshot& s, const RuleStatus& r) {
  return {
      {"rule", r.name},
      {"kind", RuleKindName(r.kind)},
      {"severity", Severity(s, r)},
      {"labels", r.labels},
      {"state", "firing"},
      {"active_since", Time(r.since)},
      {"age_seconds", Age(r.since, s.now)},
      {"value", r.value},
      {"threshold", r.threshold},
      {"announced", r.announced},
      {"suppressed", r.suppressed},
      {"decision", r.last_decision},
  };
}

json Alerts(const StatusSnapshot& s) {
  json alerts = json::array();
  for (const RuleStatus& r : s.engine.rules) {
    if (r.firing) alerts.push_back(AlertJson(s, r));
  }
  return alerts;
}

json DeliveryJson(const DeliveryRecord& d) {
  json out = {
      {"time", Time(d.at)},
      {"notifier", d.notifier},
      {"rule", d.rule},
      {"key", d.key},
      {"status", d.status == AlertStatus::kFiring ? "firing" : "resolved"},
      {"result", ResultName(d.result)},
      {"attempt", d.attempt},
      {"error", d.error},
  };
  out["http_status"] = d.http_status != 0 ? json(d.http_status) : json(nullptr);
  return out;
}

json FileJson(const FollowerHealth& f) {
  const FileFollowerStats& st = f.stats;
  return {
      {"path", f.path},
      {"healthy", f.problem.empty() && st.file_open},
      {"problem", f.problem},
      {"file_open", st.file_open},
      {"offset", st.offset},
      {"size", st.file_size},
      // What nginx wrote that poolwatch has not read yet; 0 right after a truncation.
      {"lag_bytes", st.file_size > st.offset ? st.file_size - st.offset : 0},
      {"last_rotation", Time(st.last_rotation)},
      {"rotations", st.rotations},
      {"truncations", st.truncations},
      {"bytes_read", st.bytes_read},
      {"lines", st.lines},
      {"open_errors", st.open_errors},
      {"read_errors", st.read_errors},
      {"overlong_lines", st.overlong_lines},
  };
}

// The one file the status showed before there could be several (kept for its readers): the
// first with a problem, else the first; null when no file is followed (syslog only).
json FollowerJson(const StatusSnapshot& s) {
  if (s.files.empty()) return nullptr;
  for (const FollowerHealth& f : s.files) {
    if (!f.problem.empty() || !f.stats.file_open) return FileJson(f);
  }
  return FileJson(s.files.front());
}

json InputsJson(const StatusSnapshot& s) {
  json files = json::array();
  for (const FollowerHealth& f : s.files) files.push_back(FileJson(f));
  json syslog = json::array();
  for (const SyslogListenerHealth& l : s.syslog) {
    syslog.push_back({
        {"address", l.address},
        {"received", l.stats.received},
        {"malformed", l.stats.malformed},
        {"oversized", l.stats.oversized},
        {"dropped", l.stats.dropped},
    });
  }
  return {{"patterns", s.log_patterns}, {"files", files}, {"syslog", syslog}};
}

// Pool names, labels and receivers' error bodies come from outside and may hold invalid
// UTF-8; a status answer must never throw over that.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string StatusJson(const StatusSnapshot& s) {
  const EngineStatus& e = s.engine;
  json rules = json::array();
  for (const RuleStatus& r : e.rules) rules.push_back(RuleJson(s, r));

  json recent = json::array();
  size_t first =
      s.deliveries.size() > kStatusDeliveries ? s.deliveries.size() - kStatusDeliveries : 0;
  for (size_t i = s.deliveries.size(); i > first; --i)
    recent.push_back(DeliveryJson(s.deliveries[i - 1]));

  json alerts = Alerts(s);
  json out = {
      {"time", Time(s.now)},
      {"instance", s.instance},
      {"version", s.version},
      {"admin_api", s.admin_api},
      {"pools",
       {
           {"active", e.active_pool},
           {"serving", e.serving_pool.empty() ? json(nullptr) : json(e.serving_pool)},
           {"serving_since", e.serving_pool.empty() ? json(nullptr) : Time(e.serving_since)},
           {"serving_for_seconds",
            e.serving_pool.empty() ? json(nullptr) : Age(e.serving_since, s.now)},
           {"on_primary", e.serving_pool.empty() || e.serving_pool == e.active_pool},
       }},
      {"maintenance",
       {
           {"enabled", e.maintenance},
           {"until",
            e.maintenance && e.maintenance_until ? Time(*e.maintenance_until) : json(nullptr)},
       }},
      {"firing", alerts.size()},
      {"alerts", alerts},
      {"rules", rules},
      {"notifications", {{"destinations", s.destinations}, {"recent", recent}}},
      {"inputs", InputsJson(s)},
      {"follower", FollowerJson(s)},
      {"log",
       {
           {"lines_parsed", s.lines_parsed},
           {"lines_malformed", s.lines_malformed},
           {"last_record_time", Time(s.last_record_time)},
       }},
  };
  return Dump(out);
}

std::string AlertsJson(const StatusSnapshot& s) { return Dump(json{{"alerts", Alerts(s)}}); }

}  // namespace poolwatch
