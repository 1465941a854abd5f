#include "config/yaml_sections.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <set>
#include <string>

#include "config/value_parsers.h"
#include "remote_write/remote_writer.h"

namespace poolwatch {

namespace {

// The keys only a latency rule takes; anywhere else they would be ignored without a word
// (an error_rate rule with `threshold: 5` means threshold_percent).
void ReadLatencyKey(const YamlReader& r, RuleConfig& rule, const std::string& key,
                    const YAML::Node& v, const std::string& where) {
  // slo rules take a threshold too: the latency their SLI counts as too slow.
  const bool slo_threshold = rule.kind == RuleKind::kSlo && key == "threshold";
  if (rule.kind != RuleKind::kLatency && !slo_threshold) {
    r.Fail(v, where,
           "only latency" + std::string(key == "threshold" ? " and slo" : "") + " rules take " +
               key + (key == "threshold" ? " (error_rate rules take threshold_percent)" : ""));
  }
  if (key == "quantile") {
    rule.quantile = r.Number(v, where, 0, 1);
    if (rule.quantile <= 0 || rule.quantile >= 1) {
      r.Fail(v, where, "expected a quantile between 0 and 1, like 0.99, got " + r.Scalar(v));
    }
  } else if (key == "threshold" || key == "resolve_threshold") {
    const std::chrono::milliseconds duration = r.Duration(v, where);
    if (duration <= std::chrono::milliseconds(0)) {
      r.Fail(v, where, "must be above 0, got " + r.Scalar(v));
    }
    if (key == "threshold") {
      rule.latency_threshold = duration;
    } else {
      rule.latency_resolve_threshold = duration;
    }
  } else if (key == "min_slow") {
    rule.min_slow = r.Count(v, where, 1, 1000000);
  }
}

void CheckLatencyRule(const YamlReader& r, const YAML::Node& node, const std::string& path,
                      const RuleConfig& rule) {
  if (!node["threshold"]) {
    r.Fail(node, path + ".threshold",
           "a latency rule needs a threshold, " + std::string(kDurationExpected));
  }
  if (rule.latency_resolve_threshold && *rule.latency_resolve_threshold > rule.latency_threshold) {
    r.Fail(node["resolve_threshold"], path + ".resolve_threshold", "must not exceed threshold");
  }
}

// The keys only a release_regression rule takes, read like latency's.
void ReadReleaseRegressionKey(const YamlReader& r, RuleConfig& rule, const std::string& key,
                              const YAML::Node& v, const std::string& where) {
  if (rule.kind != RuleKind::kReleaseRegression) {
    r.Fail(v, where, "only release_regression rules take " + key);
  }
  if (key == "min_increase_points") {
    rule.min_increase_points = r.Number(v, where, 0, 100);
  } else if (key == "min_ratio") {
    rule.min_ratio = r.Number(v, where, 1, 1000000);
  } else if (key == "compare") {
    const std::string compare = r.String(v, where);
    const std::optional<RegressionBaseline> baseline = ParseRegressionBaseline(compare);
    if (!baseline) r.Fail(v, where, ExpectedGot(kRegressionBaselineExpected, compare));
    rule.compare = *baseline;
  }
}

void CheckReleaseRegressionRule(const YamlReader& r, const YAML::Node& node,
                                const std::string& path, const RuleConfig& rule) {
  // Both at their weakest would call any release with more errors than its baseline worse.
  if (rule.min_increase_points <= 0 && rule.min_ratio <= 1) {
    r.Fail(node["min_increase_points"] ? node["min_increase_points"] : node["min_ratio"],
           path + (node["min_increase_points"] ? ".min_increase_points" : ".min_ratio"),
           "min_increase_points 0 with min_ratio 1 would call any difference a regression: "
           "raise one of them");
  }
}
// ---- slo (kind: slo) ----

// One burn_rates entry: {long: 1h, short: 5m, burn_rate: 14.4, urgency: page}.
BurnRateWindows ReadBurnRate(const YamlReader& r, const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    r.Fail(node, path, "expected {long: 1h, short: 5m, burn_rate: 14.4, urgency: page}");
  }
  r.CheckKeys(node, path, {"long", "short", "burn_rate", "urgency"});
  BurnRateWindows out;
  for (const char* key : {"long", "short", "burn_rate"}) {
    if (!node[key])
      r.Fail(node, path + "." + key, "every burn_rates entry needs " + std::string(key));
  }
  auto window = [&](const char* key) {
    const auto d =
        std::chrono::duration_cast<std::chrono::seconds>(r.Duration(node[key], path + "." + key));
    // Below a minute is below the buckets' resolution; 35 days bounds a ring's memory.
    if (d < std::chrono::minutes(1) || d > std::chrono::hours(35 * 24)) {
      r.Fail(node[key], path + "." + key, "must be from 1m to 35d, got " + r.Scalar(node[key]));
    }
    return d;
  };
  out.long_window = window("long");
  out.short_window = window("short");
  if (out.short_window >= out.long_window) {
    r.Fail(node["short"], path + ".short", "must be shorter than long");
  }
  out.burn_rate = r.Number(node["burn_rate"], path + ".burn_rate", 0.001, 1e6);
  if (node["urgency"]) {
    const std::string urgency = r.String(node["urgency"], path + ".urgency");
    const std::optional<bool> page = ParseUrgencyIsPage(urgency);
    if (!page) r.Fail(node["urgency"], path + ".urgency", ExpectedGot(kUrgencyExpected, urgency));
    out.page = *page;
  }
  return out;
}

void ReadSloKey(const YamlReader& r, RuleConfig& rule, const std::string& key, const YAML::Node& v,
                const std::string& where) {
  if (rule.kind != RuleKind::kSlo) r.Fail(v, where, "only slo rules take " + key);
  if (key == "objective") {
    rule.objective_percent = r.Number(v, where, 0, 100);
    if (rule.objective_percent <= 0 || rule.objective_percent >= 100) {
      r.Fail(v, where,
             "expected a percentage above 0 and below 100, like 99.9 (100 leaves no error "
             "budget), got " +
                 r.Scalar(v));
    }
  } else if (key == "sli") {
    const std::string sli = r.String(v, where);
    const std::optional<SloIndicator> indicator = ParseSloIndicator(sli);
    if (!indicator) r.Fail(v, where, ExpectedGot(kSloIndicatorExpected, sli));
    rule.sli = *indicator;
  } else if (key == "ticket_severity") {
    rule.ticket_severity = r.String(v, where);
  } else if (key == "period") {
    const auto period = std::chrono::duration_cast<std::chrono::seconds>(r.Duration(v, where));
    if (period < std::chrono::minutes(1) || period > std::chrono::hours(35 * 24)) {
      r.Fail(v, where, "must be from 1m to 35d, got " + r.Scalar(v));
    }
    rule.slo_period = period;
  } else if (key == "burn_rates") {
    if (!v.IsSequence() || v.size() == 0 || v.size() > 4) {
      r.Fail(v, where,
             "expected a list of 1 to 4 entries like {long: 1h, short: 5m, burn_rate: 14.4}");
    }
    rule.burn_rates.clear();
    for (size_t i = 0; i < v.size(); ++i) {
      rule.burn_rates.push_back(ReadBurnRate(r, v[i], where + "[" + std::to_string(i) + "]"));
    }
  }
}

void CheckSloRule(const YamlReader& r, const YAML::Node& node, const std::string& path,
                  RuleConfig& rule) {
  if (!node["objective"]) {
    r.Fail(node, path + ".objective", "a slo rule needs an objective, a percentage like 99.9");
  }
  // The indicator follows from the threshold unless named; named, the two must agree.
  if (!node["sli"])
    rule.sli = node["threshold"] ? SloIndicator::kLatency : SloIndicator::kAvailability;
  if (rule.sli == SloIndicator::kLatency && !node["threshold"]) {
    r.Fail(node["sli"], path + ".threshold",
           "a latency slo needs a threshold (slower requests are bad), " +
               std::string(kDurationExpected));
  }
  if (rule.sli == SloIndicator::kAvailability && node["threshold"]) {
    r.Fail(node["threshold"], path + ".threshold",
           "an availability slo (5xx) takes no threshold; write sli: latency");
  }
  // Keys of the windowed kinds that mean nothing here, rather than be ignored without a word.
  for (const char* key :
       {"threshold_percent", "resolve_threshold_percent", "window_size", "max_age", "window"}) {
    if (node[key]) {
      r.Fail(node[key], path + "." + key,
             "slo rules do not take " + std::string(key) + " (see objective and burn_rates)");
    }
  }
  const std::vector<BurnRateWindows> entries =
      rule.burn_rates.empty() ? DefaultBurnRates() : rule.burn_rates;
  for (const BurnRateWindows& entry : entries) {
    if (rule.slo_period && *rule.slo_period < entry.long_window) {
      r.Fail(node["period"], path + ".period",
             "must be at least the longest long window of burn_rates (the budget covers them)");
    }
  }
  const double highest = 100 / (100 - rule.objective_percent);
  for (size_t i = 0; i < rule.burn_rates.size(); ++i) {
    if (rule.burn_rates[i].burn_rate >= highest) {
      const std::string where = path + ".burn_rates[" + std::to_string(i) + "].burn_rate";
      r.Fail(node["burn_rates"][i]["burn_rate"], where,
             "can never fire: with objective " + r.Scalar(node["objective"]) +
                 " every request failing is a burn rate of " + std::to_string(highest));
    }
  }
}

// A rule's group_by: a list of label names, each once. Whether they name source labels is
// checked once the log section is read too (ResolveGroupBy).
std::vector<RuleConfig::GroupLabel> ReadGroupBy(const YamlReader& r, const YAML::Node& node,
                                                const std::string& where) {
  const std::string expected = "expected a list of source label names, e.g. [site]";
  if (!node.IsSequence() || node.size() == 0) r.Fail(node, where, expected);
  std::vector<RuleConfig::GroupLabel> labels;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string name = r.String(node[i], where);
    if (name.empty()) r.Fail(node[i], where, expected + ", got ''");
    for (const RuleConfig::GroupLabel& seen : labels) {
      if (seen.name == name) r.Fail(node[i], where, "'" + name + "' is listed twice");
    }
    labels.push_back(RuleConfig::GroupLabel{name, 0});
  }
  return labels;
}

// Each group_by name's place among the source labels (LineSource::values).
void ResolveGroupBy(const YamlReader& r, const YAML::Node& rules, Config& config) {
  const std::vector<std::string> names = SourceLabelNames(config);
  std::string known;
  for (const std::string& name : names) known += (known.empty() ? "" : ", ") + name;
  for (size_t i = 0; i < config.alerting.rules.size() && i < rules.size(); ++i) {
    const std::string where = "alerting.rules[" + std::to_string(i) + "].group_by";
    std::vector<RuleConfig::GroupLabel>& group_by = config.alerting.rules[i].group_by;
    for (size_t k = 0; k < group_by.size(); ++k) {
      auto at = std::find(names.begin(), names.end(), group_by[k].name);
      if (at == names.end()) {
        r.Fail(rules[i]["group_by"][k], where,
               "'" + group_by[k].name + "' is not a source label " +
                   (names.empty() ? std::string("(there are none: set log.path_label, e.g. "
                                                "{name: site, regex: ...}, to group by file, or "
                                                "log.syslog.labels to group by sender)")
                                  : "(known: " + known + ")"));
      }
      group_by[k].value_index = static_cast<size_t>(at - names.begin());
    }
  }
}

}  // namespace

void ReadAlertingRule(const YamlReader& r, const YAML::Node& node, const std::string& path,
                      RuleConfig& rule) {
  // The keys of the seed's two kinds (and those every kind shares), then each later kind's own.
  std::set<std::string> keys({"name", "kind", "severity", "for", "scope", "threshold_percent",
                              "resolve_threshold_percent", "window_size", "max_age", "min_requests",
                              "min_errors", "confidence", "resolve_for", "resolve_requests",
                              "cooldown", "repeat_interval", "send_resolved",
                              "muted_in_maintenance", "notify"});
  keys.insert({"window", "pool"});                                          // traffic
  keys.insert({"quantile", "threshold", "resolve_threshold", "min_slow"});  // latency
  keys.insert({"min_increase_points", "min_ratio", "compare"});             // release_regression
  keys.insert({"objective", "sli", "burn_rates", "ticket_severity", "period"});  // slo
  keys.insert({"group_by"});  // every kind (issue 17)
  r.CheckKeys(node, path, keys);
  if (!node["name"]) r.Fail(node, path + ".name", "every rule needs a name");
  rule.name = r.String(node["name"], path + ".name");
  if (!node["kind"]) {
    r.Fail(node, path + ".kind",
           "every rule needs a kind (" + std::string(kRuleKindExpected) + ")");
  }
  const std::string kind = r.String(node["kind"], path + ".kind");
  const std::optional<RuleKind> rule_kind = ParseRuleKind(kind);
  if (!rule_kind) r.Fail(node["kind"], path + ".kind", ExpectedGot(kRuleKindExpected, kind));
  rule.kind = *rule_kind;
  // One request in the window is traffic; the error_rate's default of 5 is about a rate.
  if (rule.kind == RuleKind::kTraffic) rule.min_requests = 1;
  // release_regression: a share on each side of the comparison needs some volume.
  if (rule.kind == RuleKind::kReleaseRegression) rule.min_requests = 100;
  // slo: the volume guard on the long window. At 99.9 % one bad request in 100 is a burn rate
  // of 10: below the fastest page (14.4x) alone; it takes two, which chance gives a service at
  // its objective in about 1 of 200 hours of 100 requests, and never at ordinary traffic.
  if (rule.kind == RuleKind::kSlo) rule.min_requests = 100;
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    const std::string where = path + "." + key;
    const YAML::Node& v = entry.second;
    auto seconds = [&] {
      return std::chrono::duration_cast<std::chrono::seconds>(r.Duration(v, where));
    };
    if (key == "severity") {
      rule.severity = r.String(v, where);
    } else if (key == "for") {
      rule.for_duration = r.Duration(v, where);
    } else if (key == "scope") {
      const std::string scope = r.String(v, where);
      const std::optional<ErrorScope> error_scope = ParseErrorScope(scope);
      if (!error_scope) r.Fail(v, where, ExpectedGot(kErrorScopeExpected, scope));
      rule.scope = *error_scope;
    } else if (key == "threshold_percent") {
      rule.threshold_percent = r.Number(v, where, 0, 100);
    } else if (key == "resolve_threshold_percent") {
      rule.resolve_threshold_percent = r.Number(v, where, 0, 100);
    } else if (key == "window_size") {
      rule.window_size = r.Count(v, where, 1, 1000000);
    } else if (key == "max_age") {
      rule.max_age = seconds();
    } else if (key == "min_requests") {
      rule.min_requests = r.Count(v, where, 1, 1000000);
    } else if (key == "min_errors") {
      rule.min_errors = r.Count(v, where, 1, 1000000);
    } else if (key == "confidence") {
      rule.confidence_percent = r.Number(v, where, 50, 99.9999);
    } else if (key == "resolve_for") {
      rule.resolve_for = r.Duration(v, where);
    } else if (key == "resolve_requests") {
      rule.resolve_requests = r.Count(v, where, 0, 100000000);
    } else if (key == "cooldown") {
      rule.cooldown = seconds();
    } else if (key == "repeat_interval") {
      rule.repeat_interval = seconds();
    } else if (key == "send_resolved") {
      rule.send_resolved = r.Bool(v, where);
    } else if (key == "muted_in_maintenance") {
      rule.muted_in_maintenance = r.Bool(v, where);
    } else if (key == "notify") {
      rule.notify = r.NotifierKinds(v, where, /*empty_means_all=*/false);
    } else if (key == "window") {
      rule.window = seconds();
      // Per-second buckets: under a second there is nothing to count; a day is the most the
      // pipeline walks a gap of the log through.
      if (rule.window < std::chrono::seconds(1) || rule.window > std::chrono::hours(24)) {
        r.Fail(v, where, "must be from 1s to 24h");
      }
    } else if (key == "pool") {
      rule.pool = r.String(v, where);  // "": every request
    } else if (key == "quantile" || key == "threshold" || key == "resolve_threshold" ||
               key == "min_slow") {
      ReadLatencyKey(r, rule, key, v, where);
    } else if (key == "min_increase_points" || key == "min_ratio" || key == "compare") {
      ReadReleaseRegressionKey(r, rule, key, v, where);
    } else if (key == "objective" || key == "sli" || key == "burn_rates" ||
               key == "ticket_severity" || key == "period") {
      ReadSloKey(r, rule, key, v, where);
    } else if (key == "group_by") {
      rule.group_by = ReadGroupBy(r, v, where);
    }
  }
  if (rule.kind == RuleKind::kReleaseRegression) CheckReleaseRegressionRule(r, node, path, rule);
  if (node["pool"] && rule.kind != RuleKind::kTraffic && rule.kind != RuleKind::kSlo) {
    r.Fail(node["pool"], path + ".pool", "only rules of kind traffic and slo take a pool");
  }
  if (rule.kind == RuleKind::kSlo) CheckSloRule(r, node, path, rule);
  if (rule.kind == RuleKind::kLatency) CheckLatencyRule(r, node, path, rule);
  if (rule.kind == RuleKind::kErrorRate &&
      rule.resolve_threshold_percent > rule.threshold_percent) {
    r.Fail(node, path + ".resolve_threshold_percent", "must not exceed threshold_percent");
  }
  if (rule.kind != RuleKind::kTraffic && rule.kind != RuleKind::kReleaseRegression &&
      rule.kind != RuleKind::kSlo && rule.min_requests > rule.window_size) {
    r.Fail(node, path + ".min_requests", "must not exceed window_size");
  }
}

// A list of rules replaces the seed's; each name may appear once.
void ReadAlertingRules(const YamlReader& r, const YAML::Node& rules, std::vector<RuleConfig>& out,
                       KeyLocations& locations) {
  if (!rules.IsSequence()) r.Fail(rules, "alerting.rules", "expected a list of rules");
  out.clear();
  std::set<std::string> names;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string path = "alerting.rules[" + std::to_string(i) + "]";
    RuleConfig rule;
    ReadAlertingRule(r, rules[i], path, rule);
    if (rules[i]["notify"]) locations[path + ".notify"] = r.Where(rules[i]["notify"]);
    if (!names.insert(rule.name).second)
      r.Fail(rules[i], path + ".name", "duplicate rule name '" + rule.name + "'");
    out.push_back(rule);
  }
}

// log.syslog.labels: which of a datagram's tag and hostname become source labels. Read after
// log.path_label, whose name they must not take.
void ReadLogSyslogLabels(const YamlReader& r, const YAML::Node& labels, Config& config) {
  std::vector<YAML::Node> items;
  if (labels.IsSequence()) {
    for (const YAML::Node& item : labels) items.push_back(item);
  } else {
    items.push_back(labels);
  }
  config.syslog_labels.clear();
  for (const YAML::Node& item : items) {
    const std::string text = r.String(item, "log.syslog.labels");
    const std::optional<SyslogLabel> label = ParseSyslogLabel(text);
    if (!label) r.Fail(item, "log.syslog.labels", ExpectedGot(kSyslogLabelExpected, text));
    for (SyslogLabel seen : config.syslog_labels) {
      if (seen == *label) r.Fail(item, "log.syslog.labels", "'" + text + "' is listed twice");
    }
    if (text == config.path_label.name) {
      r.Fail(item, "log.syslog.labels",
             "'" + text + "' is also log.path_label's name: rename the path label");
    }
    config.syslog_labels.push_back(*label);
  }
}

// log.syslog (issue 17 part 2): `listen` is one address or a list of them.
void ReadLogSyslog(const YamlReader& r, const YAML::Node& syslog, Config& config) {
  if (!syslog.IsMap()) r.Fail(syslog, "log.syslog", "expected a mapping with listen");
  r.CheckKeys(syslog, "log.syslog", {"listen", "labels"});
  if (const YAML::Node labels = syslog["labels"]) ReadLogSyslogLabels(r, labels, config);
  const YAML::Node listen = syslog["listen"];
  if (!listen) r.Fail(syslog, "log.syslog.listen", "missing: where nginx sends to");
  std::vector<YAML::Node> items;
  if (listen.IsSequence()) {
    for (const YAML::Node& item : listen) items.push_back(item);
  } else {
    items.push_back(listen);
  }
  config.syslog_listen.clear();
  for (const YAML::Node& item : items) {
    const std::string text = r.String(item, "log.syslog.listen");
    const std::optional<SyslogEndpoint> endpoint = ParseSyslogListen(text);
    if (!endpoint) r.Fail(item, "log.syslog.listen", ExpectedGot(kSyslogListenExpected, text));
    for (const SyslogEndpoint& seen : config.syslog_listen) {
      if (seen == *endpoint) r.Fail(item, "log.syslog.listen", "'" + text + "' is listed twice");
    }
    config.syslog_listen.push_back(*endpoint);
  }
}

namespace {
bool IsLabelName(std::string_view name);  // with the remote_write section's helpers
}  // namespace

// log.path (issue 17 part 1): one path or glob, or a list of them.
void ReadLogPaths(const YamlReader& r, const YAML::Node& path, Config& config) {
  config.log_paths.clear();
  if (!path.IsSequence()) {
    // One path or glob; '' names none (as no log.path does).
    std::string pattern = r.String(path, "log.path");
    if (!pattern.empty()) config.log_paths.push_back(std::move(pattern));
    return;
  }
  if (path.size() == 0) r.Fail(path, "log.path", "expected at least one path or glob");
  for (const YAML::Node& item : path) {
    std::string pattern = r.String(item, "log.path");
    if (pattern.empty()) r.Fail(item, "log.path", "expected a path or glob, got ''");
    for (const std::string& seen : config.log_paths) {
      if (seen == pattern) r.Fail(item, "log.path", "'" + pattern + "' is listed twice");
    }
    config.log_paths.push_back(std::move(pattern));
  }
}

// log.path_label (issue 17 part 1): {name, regex, max_values}.
void ReadLogPathLabel(const YamlReader& r, const YAML::Node& label, Config& config) {
  if (!label.IsMap()) r.Fail(label, "log.path_label", "expected a mapping with name and regex");
  r.CheckKeys(label, "log.path_label", {"name", "regex", "max_values"});
  if (!label["name"]) r.Fail(label, "log.path_label.name", "missing: the label's name, e.g. site");
  if (!label["regex"]) {
    r.Fail(label, "log.path_label.regex",
           "missing: a regex over the whole path whose first group is the value");
  }
  PathLabelOptions options;
  options.name = r.String(label["name"], "log.path_label.name");
  if (!IsLabelName(options.name) || options.name.rfind("__", 0) == 0) {
    r.Fail(label["name"], "log.path_label.name",
           "expected a label name like site (letters, digits, _; not starting with __), got '" +
               options.name + "'");
  }
  // The request metrics' own labels, and the histograms' bucket label.
  for (const char* taken : {"pool", "release", "status", "upstream", "le"}) {
    if (options.name == taken) {
      r.Fail(label["name"], "log.path_label.name",
             "'" + options.name + "' is a label the request metrics already have");
    }
  }
  options.pattern = r.String(label["regex"], "log.path_label.regex");
  try {
    PathLabeler compiled(options);
  } catch (const std::regex_error& e) {
    r.Fail(label["regex"], "log.path_label.regex",
           "does not compile as an ECMAScript regex (" + std::string(e.what()) + "): '" +
               options.pattern + "'");
  }
  if (label["max_values"]) {
    options.max_values = r.Count(label["max_values"], "log.path_label.max_values", 1, 10000);
  }
  config.metrics.max_sources = options.max_values;
  config.path_label = std::move(options);
}

// log.files (issue 17 part 1): [{path, format, escape, pool_variable, release_variable}], each
// key not set taken from the log section (read before).
void ReadLogFiles(const YamlReader& r, const YAML::Node& files, Config& config) {
  if (!files.IsSequence()) {
    r.Fail(files, "log.files", "expected a list of {path, format, escape, pool_variable, …}");
  }
  config.log_files.clear();
  for (size_t i = 0; i < files.size(); ++i) {
    const YAML::Node entry = files[i];
    const std::string at = "log.files[" + std::to_string(i) + "]";
    if (!entry.IsMap()) r.Fail(entry, at, "expected a mapping with path and format");
    r.CheckKeys(entry, at, {"path", "format", "escape", "pool_variable", "release_variable"});
    if (!entry["path"]) r.Fail(entry, at + ".path", "missing: the file (or glob) it is for");
    LogFileFormat file;
    file.path = r.String(entry["path"], at + ".path");
    if (file.path.empty()) r.Fail(entry["path"], at + ".path", "expected a path or glob, got ''");
    for (const LogFileFormat& seen : config.log_files) {
      if (seen.path == file.path) {
        r.Fail(entry["path"], at + ".path", "'" + file.path + "' is listed twice");
      }
    }
    file.format = config.log_format;
    file.options = config.format_options;
    std::optional<LogEscape> explicit_escape;
    if (entry["escape"]) {
      const std::string escape = r.String(entry["escape"], at + ".escape");
      explicit_escape = ParseLogEscape(escape);
      if (!explicit_escape) {
        r.Fail(entry["escape"], at + ".escape", ExpectedGot(kLogEscapeExpected, escape));
      }
      file.options.escape = *explicit_escape;
    }
    if (entry["pool_variable"]) {
      file.options.pool_variable = r.String(entry["pool_variable"], at + ".pool_variable");
    }
    if (entry["release_variable"]) {
      file.options.release_variable = r.String(entry["release_variable"], at + ".release_variable");
    }
    std::string error;
    if (entry["format"]) {
      auto spec = ParseLogFormatText(r.String(entry["format"], at + ".format"), &error);
      if (!spec) r.Fail(entry["format"], at + ".format", error);
      if (spec->escape) {
        if (explicit_escape && *explicit_escape != *spec->escape) {
          r.Fail(entry["escape"], at + ".escape",
                 "contradicts the escape= of its format (nginx's directive without escape= "
                 "means escape=default)");
        }
        file.options.escape = *spec->escape;
      }
      file.format = spec->format;
    }
    if (!LogFormat::Compile(file.format, file.options, &error)) {
      r.Fail(entry["format"] ? entry["format"] : entry, at + ".format", error);
    }
    config.log_files.push_back(std::move(file));
  }
}

void ReadLogSection(const YamlReader& r, const YAML::Node& section, Config& config) {
  r.CheckKeys(section, "log",
              {"path", "start_at", "format", "escape", "pool_variable", "release_variable", "pools",
               "syslog", "path_label", "files"});
  if (const YAML::Node path = section["path"]) ReadLogPaths(r, path, config);
  if (const YAML::Node label = section["path_label"]) ReadLogPathLabel(r, label, config);
  if (const YAML::Node syslog = section["syslog"]) ReadLogSyslog(r, syslog, config);
  if (section["start_at"]) {
    const std::string start = r.String(section["start_at"], "log.start_at");
    const std::optional<StartAt> start_at = ParseStartAt(start);
    if (!start_at)
      r.Fail(section["start_at"], "log.start_at", ExpectedGot(kStartAtExpected, start));
    config.start_at_beginning = *start_at == StartAt::kBeginning;
  }
  std::optional<LogEscape> explicit_escape;
  if (section["escape"]) {
    const std::string escape = r.String(section["escape"], "log.escape");
    explicit_escape = ParseLogEscape(escape);
    if (!explicit_escape) {
      r.Fail(section["escape"], "log.escape", ExpectedGot(kLogEscapeExpected, escape));
    }
    config.format_options.escape = *explicit_escape;
  }
  if (section["format"]) {
    // Reported with the line of the format: the one place a user can fix it.
    std::string error;
    auto spec = ParseLogFormatText(r.String(section["format"], "log.format"), &error);
    if (!spec) r.Fail(section["format"], "log.format", error);
    if (spec->escape) {
      if (explicit_escape && *explicit_escape != *spec->escape) {
        r.Fail(section["escape"], "log.escape",
               "contradicts the escape= of log.format (nginx's directive without escape= means "
               "escape=default)");
      }
      config.format_options.escape = *spec->escape;
    }
    config.log_format = spec->format;
    LogFormatOptions options = config.format_options;
    if (section["pool_variable"])
      options.pool_variable = r.String(section["pool_variable"], "log.pool_variable");
    if (!LogFormat::Compile(config.log_format, options, &error))
      r.Fail(section["format"], "log.format", error);
  }
  if (section["pool_variable"])
    config.format_options.pool_variable = r.String(section["pool_variable"], "log.pool_variable");
  if (section["release_variable"])
    config.format_options.release_variable =
        r.String(section["release_variable"], "log.release_variable");
  if (const auto pools = section["pools"]) {
    if (!pools.IsMap())
      r.Fail(pools, "log.pools", "expected a mapping of upstream address to pool");
    r.CheckUnique(pools, "log.pools");
    for (const auto& entry : pools) {
      std::string address = entry.first.as<std::string>();
      config.pools[address] = r.String(entry.second, "log.pools." + address);
    }
  }
  // After the section's format and options: an entry inherits those it does not set.
  if (const YAML::Node files = section["files"]) ReadLogFiles(r, files, config);
}

void ReadWebSection(const YamlReader& r, const YAML::Node& section, Config& config) {
  r.CheckKeys(section, "web",
              {"listen_address", "telemetry_path", "enable_admin_api", "config_file"});
  if (section["config_file"])
    config.web_config_file = r.String(section["config_file"], "web.config_file");
  if (const YAML::Node listen = section["listen_address"]) {
    config.listen_addresses = r.ListenAddresses(listen, "web.listen_address");
  }
  if (section["telemetry_path"]) {
    config.telemetry_path = r.String(section["telemetry_path"], "web.telemetry_path");
    std::string problem = TelemetryPathProblem(config.telemetry_path);
    if (!problem.empty()) r.Fail(section["telemetry_path"], "web.telemetry_path", problem);
  }
  if (section["enable_admin_api"])
    config.enable_admin_api = r.Bool(section["enable_admin_api"], "web.enable_admin_api");
}

void ReadMetricsSection(const YamlReader& r, const YAML::Node& section, MetricsOptions& metrics) {
  r.CheckKeys(section, "metrics",
              {"request_duration_buckets", "upstream_duration_buckets", "max_releases_per_pool",
               "release_eviction_after", "max_pools", "max_upstreams", "allowed_pools"});
  if (section["request_duration_buckets"])
    metrics.request_duration_buckets =
        r.Buckets(section["request_duration_buckets"], "metrics.request_duration_buckets");
  if (section["upstream_duration_buckets"])
    metrics.upstream_duration_buckets =
        r.Buckets(section["upstream_duration_buckets"], "metrics.upstream_duration_buckets");
  if (section["max_releases_per_pool"])
    metrics.max_releases_per_pool =
        r.Count(section["max_releases_per_pool"], "metrics.max_releases_per_pool", 1, 10000);
  if (section["release_eviction_after"])
    metrics.release_eviction_after =
        r.Duration(section["release_eviction_after"], "metrics.release_eviction_after");
  if (section["max_pools"])
    metrics.max_pools = r.Count(section["max_pools"], "metrics.max_pools", 1, 10000);
  if (section["max_upstreams"])
    metrics.max_upstreams = r.Count(section["max_upstreams"], "metrics.max_upstreams", 1, 100000);
  if (const auto allowed = section["allowed_pools"]) {
    if (!allowed.IsSequence())
      r.Fail(allowed, "metrics.allowed_pools", "expected a list of pool names");
    for (size_t i = 0; i < allowed.size(); ++i) {
      metrics.allowed_pools.insert(r.String(allowed[i], "metrics.allowed_pools"));
    }
  }
}

void ReadAlertingSection(const YamlReader& r, const YAML::Node& section, AlertingConfig& alerting,
                         KeyLocations& locations) {
  r.CheckKeys(section, "alerting",
              {"active_pool", "maintenance", "maintenance_until",
               "inhibit_error_rate_during_failover", "rules"});
  if (section["active_pool"]) {
    alerting.active_pool = r.String(section["active_pool"], "alerting.active_pool");
    if (alerting.active_pool.empty()) {
      r.Fail(section["active_pool"], "alerting.active_pool", "must name the expected primary pool");
    }
  }
  if (section["maintenance"])
    alerting.maintenance = r.Bool(section["maintenance"], "alerting.maintenance");
  if (section["maintenance_until"]) {
    auto until =
        ParseTimeIso8601(r.String(section["maintenance_until"], "alerting.maintenance_until"));
    if (!until)
      r.Fail(section["maintenance_until"], "alerting.maintenance_until",
             "expected an RFC 3339 time like 2026-11-26T08:00:00Z");
    alerting.maintenance_until = until;
  }
  if (section["inhibit_error_rate_during_failover"])
    alerting.inhibit_error_rate_during_failover =
        r.Bool(section["inhibit_error_rate_during_failover"],
               "alerting.inhibit_error_rate_during_failover");
  if (const YAML::Node rules = section["rules"])
    ReadAlertingRules(r, rules, alerting.rules, locations);
}

void ReadNotifySection(const YamlReader& r, const YAML::Node& section, NotifyConfig& notify,
                       KeyLocations& locations) {
  r.CheckKeys(
      section, "notify",
      {"slack_webhook_url", "slack_webhook_url_file", "webhook_url", "dashboard_url", "runbook_url",
       "console", "queue_capacity", "slack_min_interval", "max_attempts", "timeout",
       "alertmanager_urls", "alertmanager_resend_interval", "generator_url", "default_notifiers",
       // Slack app mode (issue 16).
       "slack_bot_token", "slack_bot_token_file", "slack_channel", "slack_api_url"});
  if (section["slack_webhook_url"])
    notify.slack_webhook_url = r.String(section["slack_webhook_url"], "notify.slack_webhook_url");
  if (section["slack_webhook_url_file"]) {
    std::string path = r.String(section["slack_webhook_url_file"], "notify.slack_webhook_url_file");
    std::ifstream in(path);
    std::string url;
    if (!in || !std::getline(in, url))
      r.Fail(section["slack_webhook_url_file"], "notify.slack_webhook_url_file",
             "cannot read " + path);
    notify.slack_webhook_url = url;
  }
  // Slack app mode (issue 16): the token is a secret like the webhook URL, never echoed.
  // Where the Slack app's keys are, for the errors that need them together (config.cc).
  for (const char* key : {"slack_bot_token", "slack_bot_token_file", "slack_channel"}) {
    if (section[key]) locations[std::string("notify.") + key] = r.Where(section[key]);
  }
  if (section["slack_bot_token"])
    notify.slack_bot_token = r.String(section["slack_bot_token"], "notify.slack_bot_token");
  if (section["slack_bot_token_file"]) {
    std::string path = r.String(section["slack_bot_token_file"], "notify.slack_bot_token_file");
    std::ifstream in(path);
    std::string token;
    if (!in || !std::getline(in, token))
      r.Fail(section["slack_bot_token_file"], "notify.slack_bot_token_file", "cannot read " + path);
    notify.slack_bot_token = token;
  }
  if (section["slack_channel"])
    notify.slack_channel = r.String(section["slack_channel"], "notify.slack_channel");
  if (section["slack_api_url"]) {
    notify.slack_api_url = r.String(section["slack_api_url"], "notify.slack_api_url");
    if (!IsHttpUrl(notify.slack_api_url))
      r.Fail(section["slack_api_url"], "notify.slack_api_url",
             "expected an http:// or https:// URL like https://slack.com/api");
  }
  if (section["webhook_url"])
    notify.webhook_url = r.String(section["webhook_url"], "notify.webhook_url");
  if (section["dashboard_url"])
    notify.dashboard_url = r.String(section["dashboard_url"], "notify.dashboard_url");
  if (section["runbook_url"])
    notify.runbook_url = r.String(section["runbook_url"], "notify.runbook_url");
  if (section["console"]) notify.console = r.Bool(section["console"], "notify.console");
  if (section["queue_capacity"])
    notify.queue_capacity = r.Count(section["queue_capacity"], "notify.queue_capacity", 1, 1000000);
  if (section["slack_min_interval"])
    notify.slack_min_interval =
        r.Duration(section["slack_min_interval"], "notify.slack_min_interval");
  if (section["max_attempts"])
    notify.max_attempts =
        static_cast<int>(r.Count(section["max_attempts"], "notify.max_attempts", 1, 100));
  if (section["timeout"]) notify.timeout = r.Duration(section["timeout"], "notify.timeout");
  if (const auto urls = section["alertmanager_urls"]) {
    if (!urls.IsSequence())
      r.Fail(urls, "notify.alertmanager_urls",
             "expected a list of URLs like http://alertmanager:9093");
    notify.alertmanager_urls.clear();
    for (size_t i = 0; i < urls.size(); ++i) {
      const std::string key = "notify.alertmanager_urls[" + std::to_string(i) + "]";
      std::string url = r.String(urls[i], key);
      // The URL is not echoed: it may carry basic-auth credentials.
      if (!IsHttpUrl(url)) r.Fail(urls[i], key, "expected an http:// or https:// URL");
      notify.alertmanager_urls.push_back(url);
    }
  }
  if (section["alertmanager_resend_interval"]) {
    notify.alertmanager_resend_interval =
        r.Duration(section["alertmanager_resend_interval"], "notify.alertmanager_resend_interval");
    if (notify.alertmanager_resend_interval < std::chrono::seconds(1) ||
        notify.alertmanager_resend_interval > std::chrono::hours(1)) {
      r.Fail(section["alertmanager_resend_interval"], "notify.alertmanager_resend_interval",
             "must be between 1s and 1h");
    }
  }
  if (section["generator_url"])
    notify.generator_url = r.String(section["generator_url"], "notify.generator_url");
  if (const auto kinds = section["default_notifiers"]) {
    notify.default_notifiers = r.NotifierKinds(kinds, "notify.default_notifiers",
                                               /*empty_means_all=*/true);
    locations["notify.default_notifiers"] = r.Where(kinds);
  }
}

void ReadStateSection(const YamlReader& r, const YAML::Node& section, Config& config) {
  r.CheckKeys(section, "state", {"path", "checkpoint_interval"});
  if (section["path"]) config.state_path = r.String(section["path"], "state.path");
  if (section["checkpoint_interval"]) {
    config.state_interval = r.Duration(section["checkpoint_interval"], "state.checkpoint_interval");
    if (config.state_interval < std::chrono::milliseconds(100) ||
        config.state_interval > std::chrono::seconds(5)) {
      r.Fail(section["checkpoint_interval"], "state.checkpoint_interval",
             "must be between 100ms and 5s (a change must reach the disk within 5 s)");
    }
  }
}

namespace {

// A secret kept in a file (password_file, bearer_token_file): its content without the
// surrounding white space, as Prometheus reads it. The content is never echoed.
std::string ReadSecretFile(const YamlReader& r, const YAML::Node& node, const std::string& key) {
  const std::string path = r.String(node, key);
  std::ifstream in(path);
  if (!in) r.Fail(node, key, "cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t begin = text.find_first_not_of(" \t\r\n");
  const size_t end = text.find_last_not_of(" \t\r\n");
  if (begin == std::string::npos) r.Fail(node, key, path + " is empty");
  return text.substr(begin, end - begin + 1);
}

// A file the TLS client needs; missing is a start-up mistake rather than a failed push later.
std::string ReadableFile(const YamlReader& r, const YAML::Node& node, const std::string& key) {
  const std::string path = r.String(node, key);
  if (!std::ifstream(path)) r.Fail(node, key, "cannot read " + path);
  return path;
}

bool IsLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Headers the remote-write protocol or the client sets itself (Prometheus refuses the same).
bool IsReservedHeader(std::string_view name) {
  static const std::set<std::string> kReserved = {"authorization",
                                                  "host",
                                                  "content-encoding",
                                                  "content-length",
                                                  "content-type",
                                                  "user-agent",
                                                  "connection",
                                                  "keep-alive",
                                                  "proxy-authenticate",
                                                  "proxy-authorization",
                                                  "www-authenticate",
                                                  "transfer-encoding",
                                                  "x-prometheus-remote-write-version"};
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return kReserved.count(lower) > 0;
}

bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

void ReadRemoteWriteEntry(const YamlReader& r, const YAML::Node& node, const std::string& path,
                          RemoteWriteOptions& out) {
  r.CheckKeys(node, path,
              {"url", "name", "interval", "remote_timeout", "headers", "basic_auth", "bearer_token",
               "bearer_token_file", "tls_config", "external_labels", "queue_config"});
  const std::string url_key = YamlReader::Join(path, "url");
  if (!node["url"]) r.Fail(node, url_key, "is required");
  out.url = r.String(node["url"], url_key);
  // Not echoed: the URL may carry credentials.
  if (!IsHttpUrl(out.url)) r.Fail(node["url"], url_key, "expected an http:// or https:// URL");
  if (node["name"]) out.name = r.String(node["name"], YamlReader::Join(path, "name"));
  if (const auto v = node["interval"]) {
    const std::string key = YamlReader::Join(path, "interval");
    out.interval = r.Duration(v, key);
    if (out.interval < std::chrono::milliseconds(100) || out.interval > std::chrono::hours(1))
      r.Fail(v, key, "must be between 100ms and 1h, got " + r.Scalar(v));
  }
  if (const auto v = node["remote_timeout"]) {
    const std::string key = YamlReader::Join(path, "remote_timeout");
    out.remote_timeout = r.Duration(v, key);
    if (out.remote_timeout < std::chrono::milliseconds(100) ||
        out.remote_timeout > std::chrono::minutes(5))
      r.Fail(v, key, "must be between 100ms and 5m, got " + r.Scalar(v));
  }
  if (const auto headers = node["headers"]) {
    const std::string key = YamlReader::Join(path, "headers");
    if (!headers.IsMap()) r.Fail(headers, key, "expected a mapping of header names to values");
    r.CheckUnique(headers, key);
    for (const auto& entry : headers) {
      const std::string name = entry.first.as<std::string>();
      const std::string header_key = YamlReader::Join(key, name);
      if (!IsHeaderName(name)) r.Fail(entry.first, header_key, "is not a valid header name");
      if (IsReservedHeader(name))
        r.Fail(entry.first, header_key,
               "is set by poolwatch itself (use basic_auth or bearer_token for credentials)");
      // The value may be a secret: never echoed.
      const std::string value = r.String(entry.second, header_key);
      if (value.find_first_of("\r\n") != std::string::npos)
        r.Fail(entry.second, header_key, "must be on one line");
      out.headers.emplace_back(name, value);
    }
  }
  if (const auto auth = node["basic_auth"]) {
    const std::string key = YamlReader::Join(path, "basic_auth");
    r.CheckKeys(auth, key, {"username", "password", "password_file"});
    if (!auth["username"]) r.Fail(auth, YamlReader::Join(key, "username"), "is required");
    out.basic_auth_username = r.String(auth["username"], YamlReader::Join(key, "username"));
    if (auth["password"] && auth["password_file"])
      r.Fail(auth["password_file"], YamlReader::Join(key, "password_file"),
             "give password or password_file, not both");
    if (auth["password"])
      out.basic_auth_password = r.String(auth["password"], YamlReader::Join(key, "password"));
    if (auth["password_file"])
      out.basic_auth_password =
          ReadSecretFile(r, auth["password_file"], YamlReader::Join(key, "password_file"));
  }
  if (node["bearer_token"] && node["bearer_token_file"])
    r.Fail(node["bearer_token_file"], YamlReader::Join(path, "bearer_token_file"),
           "give bearer_token or bearer_token_file, not both");
  if (node["bearer_token"])
    out.bearer_token = r.String(node["bearer_token"], YamlReader::Join(path, "bearer_token"));
  if (node["bearer_token_file"])
    out.bearer_token =
        ReadSecretFile(r, node["bearer_token_file"], YamlReader::Join(path, "bearer_token_file"));
  if (node["basic_auth"] && (node["bearer_token"] || node["bearer_token_file"]))
    r.Fail(node["basic_auth"], YamlReader::Join(path, "basic_auth"),
           "give basic_auth or a bearer token, not both");
  if (const auto tls = node["tls_config"]) {
    const std::string key = YamlReader::Join(path, "tls_config");
    r.CheckKeys(tls, key,
                {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"});
    if (tls["ca_file"])
      out.tls.ca_file = ReadableFile(r, tls["ca_file"], YamlReader::Join(key, "ca_file"));
    if (tls["cert_file"])
      out.tls.cert_file = ReadableFile(r, tls["cert_file"], YamlReader::Join(key, "cert_file"));
    if (tls["key_file"])
      out.tls.key_file = ReadableFile(r, tls["key_file"], YamlReader::Join(key, "key_file"));
    if (out.tls.cert_file.empty() != out.tls.key_file.empty())
      r.Fail(tls, key, "cert_file and key_file go together (a client certificate needs its key)");
    if (tls["server_name"])
      out.tls.server_name = r.String(tls["server_name"], YamlReader::Join(key, "server_name"));
    if (tls["insecure_skip_verify"])
      out.tls.insecure_skip_verify =
          r.Bool(tls["insecure_skip_verify"], YamlReader::Join(key, "insecure_skip_verify"));
  }
  if (const auto labels = node["external_labels"]) {
    const std::string key = YamlReader::Join(path, "external_labels");
    if (!labels.IsMap()) r.Fail(labels, key, "expected a mapping of label names to values");
    r.CheckUnique(labels, key);
    for (const auto& entry : labels) {
      const std::string name = entry.first.as<std::string>();
      const std::string label_key = YamlReader::Join(key, name);
      if (!IsLabelName(name) || name.rfind("__", 0) == 0)
        r.Fail(entry.first, label_key,
               "expected a label name like region (letters, digits, _; not starting with __)");
      const std::string value = r.String(entry.second, label_key);
      if (value.empty()) r.Fail(entry.second, label_key, "must not be empty");
      out.external_labels[name] = value;
    }
  }
  if (const auto queue = node["queue_config"]) {
    const std::string key = YamlReader::Join(path, "queue_config");
    r.CheckKeys(queue, key, {"capacity", "max_samples_per_send", "min_backoff", "max_backoff"});
    if (queue["capacity"])
      out.capacity = r.Count(queue["capacity"], YamlReader::Join(key, "capacity"), 1, 100000000);
    if (queue["max_samples_per_send"])
      out.max_samples_per_send = r.Count(queue["max_samples_per_send"],
                                         YamlReader::Join(key, "max_samples_per_send"), 1, 1000000);
    if (queue["min_backoff"])
      out.min_backoff = r.Duration(queue["min_backoff"], YamlReader::Join(key, "min_backoff"));
    if (queue["max_backoff"])
      out.max_backoff = r.Duration(queue["max_backoff"], YamlReader::Join(key, "max_backoff"));
    if (out.min_backoff <= std::chrono::milliseconds(0))
      r.Fail(queue["min_backoff"] ? queue["min_backoff"] : queue,
             YamlReader::Join(key, "min_backoff"), "must be above 0");
    if (out.max_backoff < out.min_backoff)
      r.Fail(queue["max_backoff"] ? queue["max_backoff"] : queue,
             YamlReader::Join(key, "max_backoff"), "must not be below min_backoff");
  }
}

}  // namespace

void ReadRemoteWriteSection(const YamlReader& r, const YAML::Node& section,
                            std::vector<RemoteWriteOptions>& out) {
  if (!section.IsSequence())
    r.Fail(section, "remote_write", "expected a list of receivers, each with a url");
  out.clear();
  std::set<std::string> remotes;
  for (size_t i = 0; i < section.size(); ++i) {
    const std::string path = "remote_write[" + std::to_string(i) + "]";
    RemoteWriteOptions options;
    ReadRemoteWriteEntry(r, section[i], path, options);
    // The self-metrics tell receivers apart by this name.
    const std::string remote =
        options.name.empty() ? RemoteWriter::DefaultRemoteName(options.url) : options.name;
    if (!remotes.insert(remote).second)
      r.Fail(section[i], YamlReader::Join(path, "name"),
             "two receivers would both be called " + remote + ": give each a name");
    out.push_back(std::move(options));
  }
}

void ReadYaml(const YAML::Node& root, const YamlReader& r, Config& config) {
  if (root.IsNull()) return;
  r.CheckKeys(root, "",
              {"log", "web", "metrics", "alerting", "notify", "state", "instance", "log_level",
               "remote_write"});

  if (const YAML::Node section = root["log"]) ReadLogSection(r, section, config);
  if (const YAML::Node section = root["web"]) ReadWebSection(r, section, config);
  if (const YAML::Node section = root["metrics"]) ReadMetricsSection(r, section, config.metrics);
  if (const YAML::Node section = root["alerting"])
    ReadAlertingSection(r, section, config.alerting, config.key_locations);
  if (const YAML::Node section = root["notify"])
    ReadNotifySection(r, section, config.notify, config.key_locations);
  if (const YAML::Node section = root["state"]) ReadStateSection(r, section, config);
  if (const YAML::Node section = root["remote_write"])
    ReadRemoteWriteSection(r, section, config.remote_write);
  // After the log section whatever the order in the file: group_by names its labels.
  if (const YAML::Node section = root["alerting"]) {
    if (const YAML::Node rules = section["rules"]) ResolveGroupBy(r, rules, config);
  }

  if (root["instance"]) config.instance = r.String(root["instance"], "instance");
  if (root["log_level"]) {
    config.log_level = r.String(root["log_level"], "log_level");
    if (!ParseLogLevel(config.log_level)) {
      r.Fail(root["log_level"], "log_level", ExpectedGot(kLogLevelExpected, config.log_level));
    }
  }
}

}  // namespace poolwatch
