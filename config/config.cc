#include "config/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "config/listen_address.h"
#include "web/http_server.h"

extern char** environ;

namespace poolwatch {
namespace {

std::optional<size_t> ParseWholeNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  size_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// What is wrong with a whole list of listen addresses (from the environment or flags, where
// there is no line to point at), or "".
std::string ListenAddressesProblem(const std::vector<std::string>& addresses) {
  if (addresses.empty()) return "expected at least one address";
  for (const std::string& address : addresses) {
    if (std::string problem = ListenAddressProblem(address, CivetwebSupportsIpv6());
        !problem.empty()) {
      return problem;
    }
  }
  if (const int i = RepeatedListenAddress(addresses); i >= 0) {
    return "'" + addresses[static_cast<size_t>(i)] + "' is given twice";
  }
  return "";
}

std::string TelemetryPathProblem(const std::string& path) {
  if (path.empty() || path.front() != '/') return "must start with /, got '" + path + "'";
  for (char c : path) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '?' || c == '#') {
      return "must be a plain path (no spaces, ? or #), got '" + path + "'";
    }
  }
  return "";
}

bool IsLogLevel(const std::string& level) {
  return level == "debug" || level == "info" || level == "warn" || level == "error";
}

// Walks the YAML tree, remembering the dotted key path so every error names file, line and key.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key,
                         const std::string& problem) const {
    std::ostringstream msg;
    msg << (source_.empty() ? "config" : source_);
    if (node.IsDefined() && node.Mark().line >= 0) msg << ":" << node.Mark().line + 1;
    msg << ": " << key << ": " << problem;
    throw ConfigError(msg.str());
  }

  void CheckKeys(const YAML::Node& map, const std::string& path,
                 const std::set<std::string>& allowed) const {
    if (!map.IsMap()) Fail(map, path, "expected a mapping");
    CheckUnique(map, path);
    for (const auto& entry : map) {
      std::string key = entry.first.as<std::string>();
      if (allowed.count(key) == 0) {
        std::string known;
        for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
        Fail(entry.first, Join(path, key), "unknown key (known: " + known + ")");
      }
    }
  }

  // yaml-cpp keeps both entries of a repeated key and lookups see the first, so the second
  // would be ignored without a word.
  void CheckUnique(const YAML::Node& map, const std::string& path) const {
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) Fail(entry.first, path, "keys must be plain names");
      const std::string key = entry.first.Scalar();
      if (!seen.insert(key).second) {
        Fail(entry.first, Join(path, key), "appears twice in the same mapping");
      }
    }
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // One address, or a list of them (each listener served alike), as --web.listen-address
  // repeated.
  std::vector<std::string> ListenAddresses(const YAML::Node& node, const std::string& key) const {
    const bool list = node.IsSequence();
    if (list && node.size() == 0) Fail(node, key, "expected at least one address");
    std::vector<std::string> addresses;
    for (size_t i = 0; i < (list ? node.size() : 1); ++i) {
      const YAML::Node item = list ? node[i] : node;
      const std::string item_key = list ? key + "[" + std::to_string(i) + "]" : key;
      std::string address = String(item, item_key);
      if (std::string problem = ListenAddressProblem(address, CivetwebSupportsIpv6());
          !problem.empty()) {
        Fail(item, item_key, problem);
      }
      addresses.push_back(std::move(address));
      if (RepeatedListenAddress(addresses) == static_cast<int>(i)) {
        Fail(item, item_key, "'" + addresses.back() + "' is given twice");
      }
    }
    return addresses;
  }

  std::string String(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) Fail(node, key, "expected a string");
    return node.Scalar();
  }

  bool Bool(const YAML::Node& node, const std::string& key) const {
    bool value;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      Fail(node, key, "expected true or false, got '" + Scalar(node) + "'");
    }
    return value;
  }

  double Number(const YAML::Node& node, const std::string& key, double min, double max) const {
    double value = 0;
    const std::string text = Scalar(node);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!node.IsScalar() || ec != std::errc() || ptr != text.data() + text.size()) {
      Fail(node, key, "expected a number, got '" + text + "'");
    }
    if (value < min || value > max) {
      std::ostringstream range;
      range << "must be between " << min << " and " << max << ", got " << text;
      Fail(node, key, range.str());
    }
    return value;
  }

  // Digits only: "200.9" or "1e2" for a count is a typo, not something to round.
  size_t Count(const YAML::Node& node, const std::string& key, size_t min, size_t max) const {
    const std::string text = Scalar(node);
    auto value = node.IsScalar() ? ParseWholeNumber(text) : std::nullopt;
    if (!value) Fail(node, key, "expected a whole number, got '" + text + "'");
    if (*value < min || *value > max) {
      Fail(node, key,
           "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
               text);
    }
    return *value;
  }

  std::chrono::milliseconds Duration(const YAML::Node& node, const std::string& key) const {
    auto d = node.IsScalar() ? ParseDuration(node.Scalar()) : std::nullopt;
    if (!d)
      Fail(node, key, "expected a duration like 30s, 5m or 250ms, got '" + Scalar(node) + "'");
    return *d;
  }

  std::vector<double> Buckets(const YAML::Node& node, const std::string& key) const {
    if (!node.IsSequence() || node.size() == 0) Fail(node, key, "expected a list of numbers");
    std::vector<double> out;
    for (size_t i = 0; i < node.size(); ++i) {
      double b = Number(node[i], key + "[" + std::to_string(i) + "]", 0, 1e9);
      if (!out.empty() && b <= out.back()) Fail(node[i], key, "buckets must increase");
      out.push_back(b);
    }
    return out;
  }

  static std::string Scalar(const YAML::Node& node) {
    return node.IsScalar() ? node.Scalar() : std::string("<not a scalar>");
  }

  // "file:line" of a node, for the errors only found once everything is merged.
  std::string Where(const YAML::Node& node) const {
    std::string where = source_.empty() ? "config" : source_;
    if (node.IsDefined() && node.Mark().line >= 0) {
      where.append(":").append(std::to_string(node.Mark().line + 1));
    }
    return where;
  }

 private:
  std::string source_;
};

bool IsHttpUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() > scheme.size() && url.substr(0, scheme.size()) == scheme) return true;
  }
  return false;
}

// What a `notify` list may name: Notifier::Kind() of the notifiers BuildNotifiers makes.
constexpr std::string_view kNotifierKinds[] = {"slack", "webhook", "console", "alertmanager"};
constexpr std::string_view kNotifierKindList = "slack, webhook, console, alertmanager";

bool IsNotifierKind(std::string_view kind) {
  for (std::string_view known : kNotifierKinds) {
    if (kind == known) return true;
  }
  return false;
}

// A rule's `notify` or notify.default_notifiers: a list of known kinds, each once. Empty only
// where it means "every notifier" (the default's default), never for a rule: nowhere.
std::vector<std::string> NotifierKinds(const Reader& r, const YAML::Node& node,
                                       const std::string& key, bool empty_means_all) {
  const std::string expected =
      std::string("expected a list of notifier kinds, some of: ").append(kNotifierKindList);
  if (!node.IsSequence()) r.Fail(node, key, expected);
  if (node.size() == 0 && !empty_means_all) {
    r.Fail(node, key, expected + " (an empty list would send this rule's alerts nowhere)");
  }
  std::vector<std::string> kinds;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string where = key + "[" + std::to_string(i) + "]";
    std::string kind = r.String(node[i], where);
    if (!IsNotifierKind(kind)) {
      r.Fail(node[i], where,
             "unknown notifier '" + kind + "' (known: " + std::string(kNotifierKindList) + ")");
    }
    if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) {
      r.Fail(node[i], where, "'" + kind + "' is listed twice");
    }
    kinds.push_back(std::move(kind));
  }
  return kinds;
}

std::optional<TimePoint> ParseRfc3339(const std::string& text) { return ParseTimeIso8601(text); }

void ReadRule(const Reader& r, const YAML::Node& node, const std::string& path, RuleConfig& rule) {
  r.CheckKeys(node, path,
              {"name", "kind", "severity", "for", "scope", "threshold_percent",
               "resolve_threshold_percent", "window_size", "max_age", "min_requests", "cooldown",
               "repeat_interval", "send_resolved", "muted_in_maintenance", "notify"});
  if (!node["name"]) r.Fail(node, path + ".name", "every rule needs a name");
  rule.name = r.String(node["name"], path + ".name");
  if (!node["kind"])
    r.Fail(node, path + ".kind", "every rule needs a kind (failover or error_rate)");
  std::string kind = r.String(node["kind"], path + ".kind");
  if (kind == "failover") {
    rule.kind = RuleKind::kFailover;
  } else if (kind == "error_rate") {
    rule.kind = RuleKind::kErrorRate;
  } else {
    r.Fail(node["kind"], path + ".kind", "expected failover or error_rate, got '" + kind + "'");
  }
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
      std::string scope = r.String(v, where);
      if (scope == "client") {
        rule.scope = ErrorScope::kClient;
      } else if (scope == "upstream") {
        rule.scope = ErrorScope::kUpstream;
      } else {
        r.Fail(v, where, "expected client or upstream, got '" + scope + "'");
      }
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
    } else if (key == "cooldown") {
      rule.cooldown = seconds();
    } else if (key == "repeat_interval") {
      rule.repeat_interval = seconds();
    } else if (key == "send_resolved") {
      rule.send_resolved = r.Bool(v, where);
    } else if (key == "muted_in_maintenance") {
      rule.muted_in_maintenance = r.Bool(v, where);
    } else if (key == "notify") {
      rule.notify = NotifierKinds(r, v, where, /*empty_means_all=*/false);
    }
  }
  if (rule.kind == RuleKind::kErrorRate &&
      rule.resolve_threshold_percent > rule.threshold_percent) {
    r.Fail(node, path + ".resolve_threshold_percent", "must not exceed threshold_percent");
  }
  if (rule.min_requests > rule.window_size) {
    r.Fail(node, path + ".min_requests", "must not exceed window_size");
  }
}

void ReadYaml(const YAML::Node& root, const Reader& r, Config& config) {
  if (root.IsNull()) return;
  r.CheckKeys(root, "",
              {"log", "web", "metrics", "alerting", "notify", "state", "instance", "log_level"});

  if (const auto log = root["log"]) {
    r.CheckKeys(
        log, "log",
        {"path", "start_at", "format", "escape", "pool_variable", "release_variable", "pools"});
    if (log["path"]) config.log_path = r.String(log["path"], "log.path");
    if (log["start_at"]) {
      std::string start = r.String(log["start_at"], "log.start_at");
      if (start != "end" && start != "beginning") {
        r.Fail(log["start_at"], "log.start_at", "expected end or beginning, got '" + start + "'");
      }
      config.start_at_beginning = start == "beginning";
    }
    std::optional<LogEscape> explicit_escape;
    if (log["escape"]) {
      std::string escape = r.String(log["escape"], "log.escape");
      if (escape == "default") {
        explicit_escape = LogEscape::kDefault;
      } else if (escape == "json") {
        explicit_escape = LogEscape::kJson;
      } else if (escape == "none") {
        explicit_escape = LogEscape::kNone;
      } else {
        r.Fail(log["escape"], "log.escape", "expected default, json or none, got '" + escape + "'");
      }
      config.format_options.escape = *explicit_escape;
    }
    if (log["format"]) {
      // Reported with the line of the format: the one place a user can fix it.
      std::string error;
      auto spec = ParseLogFormatText(r.String(log["format"], "log.format"), &error);
      if (!spec) r.Fail(log["format"], "log.format", error);
      if (spec->escape) {
        if (explicit_escape && *explicit_escape != *spec->escape) {
          r.Fail(log["escape"], "log.escape",
                 "contradicts the escape= of log.format (nginx's directive without escape= means "
                 "escape=default)");
        }
        config.format_options.escape = *spec->escape;
      }
      config.log_format = spec->format;
      LogFormatOptions options = config.format_options;
      if (log["pool_variable"])
        options.pool_variable = r.String(log["pool_variable"], "log.pool_variable");
      if (!LogFormat::Compile(config.log_format, options, &error))
        r.Fail(log["format"], "log.format", error);
    }
    if (log["pool_variable"])
      config.format_options.pool_variable = r.String(log["pool_variable"], "log.pool_variable");
    if (log["release_variable"])
      config.format_options.release_variable =
          r.String(log["release_variable"], "log.release_variable");
    if (const auto pools = log["pools"]) {
      if (!pools.IsMap())
        r.Fail(pools, "log.pools", "expected a mapping of upstream address to pool");
      r.CheckUnique(pools, "log.pools");
      for (const auto& entry : pools) {
        std::string address = entry.first.as<std::string>();
        config.pools[address] = r.String(entry.second, "log.pools." + address);
      }
    }
  }

  if (const auto web = root["web"]) {
    r.CheckKeys(web, "web",
                {"listen_address", "telemetry_path", "enable_admin_api", "config_file"});
    if (web["config_file"])
      config.web_config_file = r.String(web["config_file"], "web.config_file");
    if (const YAML::Node listen = web["listen_address"]) {
      config.listen_addresses = r.ListenAddresses(listen, "web.listen_address");
    }
    if (web["telemetry_path"]) {
      config.telemetry_path = r.String(web["telemetry_path"], "web.telemetry_path");
      std::string problem = TelemetryPathProblem(config.telemetry_path);
      if (!problem.empty()) r.Fail(web["telemetry_path"], "web.telemetry_path", problem);
    }
    if (web["enable_admin_api"])
      config.enable_admin_api = r.Bool(web["enable_admin_api"], "web.enable_admin_api");
  }

  if (const auto m = root["metrics"]) {
    r.CheckKeys(m, "metrics",
                {"request_duration_buckets", "upstream_duration_buckets", "max_releases_per_pool",
                 "release_eviction_after", "max_pools", "max_upstreams", "allowed_pools"});
    if (m["request_duration_buckets"])
      config.metrics.request_duration_buckets =
          r.Buckets(m["request_duration_buckets"], "metrics.request_duration_buckets");
    if (m["upstream_duration_buckets"])
      config.metrics.upstream_duration_buckets =
          r.Buckets(m["upstream_duration_buckets"], "metrics.upstream_duration_buckets");
    if (m["max_releases_per_pool"])
      config.metrics.max_releases_per_pool =
          r.Count(m["max_releases_per_pool"], "metrics.max_releases_per_pool", 1, 10000);
    if (m["release_eviction_after"])
      config.metrics.release_eviction_after =
          r.Duration(m["release_eviction_after"], "metrics.release_eviction_after");
    if (m["max_pools"])
      config.metrics.max_pools = r.Count(m["max_pools"], "metrics.max_pools", 1, 10000);
    if (m["max_upstreams"])
      config.metrics.max_upstreams =
          r.Count(m["max_upstreams"], "metrics.max_upstreams", 1, 100000);
    if (const auto allowed = m["allowed_pools"]) {
      if (!allowed.IsSequence())
        r.Fail(allowed, "metrics.allowed_pools", "expected a list of pool names");
      for (size_t i = 0; i < allowed.size(); ++i) {
        config.metrics.allowed_pools.insert(r.String(allowed[i], "metrics.allowed_pools"));
      }
    }
  }

  if (const auto a = root["alerting"]) {
    r.CheckKeys(a, "alerting",
                {"active_pool", "maintenance", "maintenance_until",
                 "inhibit_error_rate_during_failover", "rules"});
    if (a["active_pool"]) {
      config.alerting.active_pool = r.String(a["active_pool"], "alerting.active_pool");
      if (config.alerting.active_pool.empty()) {
        r.Fail(a["active_pool"], "alerting.active_pool", "must name the expected primary pool");
      }
    }
    if (a["maintenance"])
      config.alerting.maintenance = r.Bool(a["maintenance"], "alerting.maintenance");
    if (a["maintenance_until"]) {
      auto until = ParseRfc3339(r.String(a["maintenance_until"], "alerting.maintenance_until"));
      if (!until)
        r.Fail(a["maintenance_until"], "alerting.maintenance_until",
               "expected an RFC 3339 time like 2026-11-26T08:00:00Z");
      config.alerting.maintenance_until = until;
    }
    if (a["inhibit_error_rate_during_failover"])
      config.alerting.inhibit_error_rate_during_failover = r.Bool(
          a["inhibit_error_rate_during_failover"], "alerting.inhibit_error_rate_during_failover");
    if (const auto rules = a["rules"]) {
      if (!rules.IsSequence()) r.Fail(rules, "alerting.rules", "expected a list of rules");
      config.alerting.rules.clear();
      std::set<std::string> names;
      for (size_t i = 0; i < rules.size(); ++i) {
        const std::string path = "alerting.rules[" + std::to_string(i) + "]";
        RuleConfig rule;
        ReadRule(r, rules[i], path, rule);
        if (rules[i]["notify"])
          config.key_locations[path + ".notify"] = r.Where(rules[i]["notify"]);
        if (!names.insert(rule.name).second)
          r.Fail(rules[i], path + ".name", "duplicate rule name '" + rule.name + "'");
        config.alerting.rules.push_back(rule);
      }
    }
  }

  if (const auto n = root["notify"]) {
    r.CheckKeys(n, "notify",
                {"slack_webhook_url", "slack_webhook_url_file", "webhook_url", "dashboard_url",
                 "runbook_url", "console", "queue_capacity", "slack_min_interval", "max_attempts",
                 "timeout", "alertmanager_urls", "alertmanager_resend_interval", "generator_url",
                 "default_notifiers"});
    if (n["slack_webhook_url"])
      config.notify.slack_webhook_url =
          r.String(n["slack_webhook_url"], "notify.slack_webhook_url");
    if (n["slack_webhook_url_file"]) {
      std::string path = r.String(n["slack_webhook_url_file"], "notify.slack_webhook_url_file");
      std::ifstream in(path);
      std::string url;
      if (!in || !std::getline(in, url))
        r.Fail(n["slack_webhook_url_file"], "notify.slack_webhook_url_file", "cannot read " + path);
      config.notify.slack_webhook_url = url;
    }
    if (n["webhook_url"])
      config.notify.webhook_url = r.String(n["webhook_url"], "notify.webhook_url");
    if (n["dashboard_url"])
      config.notify.dashboard_url = r.String(n["dashboard_url"], "notify.dashboard_url");
    if (n["runbook_url"])
      config.notify.runbook_url = r.String(n["runbook_url"], "notify.runbook_url");
    if (n["console"]) config.notify.console = r.Bool(n["console"], "notify.console");
    if (n["queue_capacity"])
      config.notify.queue_capacity =
          r.Count(n["queue_capacity"], "notify.queue_capacity", 1, 1000000);
    if (n["slack_min_interval"])
      config.notify.slack_min_interval =
          r.Duration(n["slack_min_interval"], "notify.slack_min_interval");
    if (n["max_attempts"])
      config.notify.max_attempts =
          static_cast<int>(r.Count(n["max_attempts"], "notify.max_attempts", 1, 100));
    if (n["timeout"]) config.notify.timeout = r.Duration(n["timeout"], "notify.timeout");
    if (const auto urls = n["alertmanager_urls"]) {
      if (!urls.IsSequence())
        r.Fail(urls, "notify.alertmanager_urls",
               "expected a list of URLs like http://alertmanager:9093");
      config.notify.alertmanager_urls.clear();
      for (size_t i = 0; i < urls.size(); ++i) {
        const std::string key = "notify.alertmanager_urls[" + std::to_string(i) + "]";
        std::string url = r.String(urls[i], key);
        // The URL is not echoed: it may carry basic-auth credentials.
        if (!IsHttpUrl(url)) r.Fail(urls[i], key, "expected an http:// or https:// URL");
        config.notify.alertmanager_urls.push_back(url);
      }
    }
    if (n["alertmanager_resend_interval"]) {
      config.notify.alertmanager_resend_interval =
          r.Duration(n["alertmanager_resend_interval"], "notify.alertmanager_resend_interval");
      if (config.notify.alertmanager_resend_interval < std::chrono::seconds(1) ||
          config.notify.alertmanager_resend_interval > std::chrono::hours(1)) {
        r.Fail(n["alertmanager_resend_interval"], "notify.alertmanager_resend_interval",
               "must be between 1s and 1h");
      }
    }
    if (n["generator_url"])
      config.notify.generator_url = r.String(n["generator_url"], "notify.generator_url");
    if (const auto kinds = n["default_notifiers"]) {
      config.notify.default_notifiers = NotifierKinds(r, kinds, "notify.default_notifiers",
                                                      /*empty_means_all=*/true);
      config.key_locations["notify.default_notifiers"] = r.Where(kinds);
    }
  }

  if (const auto st = root["state"]) {
    r.CheckKeys(st, "state", {"path", "checkpoint_interval"});
    if (st["path"]) config.state_path = r.String(st["path"], "state.path");
    if (st["checkpoint_interval"]) {
      config.state_interval = r.Duration(st["checkpoint_interval"], "state.checkpoint_interval");
      if (config.state_interval < std::chrono::milliseconds(100) ||
          config.state_interval > std::chrono::seconds(5)) {
        r.Fail(st["checkpoint_interval"], "state.checkpoint_interval",
               "must be between 100ms and 5s (a change must reach the disk within 5 s)");
      }
    }
  }

  if (root["instance"]) config.instance = r.String(root["instance"], "instance");
  if (root["log_level"]) {
    config.log_level = r.String(root["log_level"], "log_level");
    if (!IsLogLevel(config.log_level)) {
      r.Fail(root["log_level"], "log_level",
             "expected debug, info, warn or error, got '" + config.log_level + "'");
    }
  }
}

// The seed's variables. They override the YAML: ACTIVE_POOL and MAINTENANCE_MODE the alerting
// section, ALERT_COOLDOWN_SEC every rule's cooldown, ERROR_RATE_THRESHOLD and WINDOW_SIZE the
// rules of kind error_rate.
void ApplyEnvironment(const Environment& env, Config& config) {
  auto get = [&](const char* name) -> const std::string* {
    auto it = env.find(name);
    return it == env.end() || it->second.empty() ? nullptr : &it->second;
  };
  auto fail = [](const char* name, const std::string& value, const std::string& expected) {
    throw ConfigError(std::string("environment variable ") + name + ": expected " + expected +
                      ", got '" + value + "'");
  };
  auto number = [&](const char* name, const std::string& value, double min, double max) {
    double out = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
    if (ec != std::errc() || ptr != value.data() + value.size() || out < min || out > max) {
      std::ostringstream expected;
      expected << "a number from " << min << " to " << max;
      fail(name, value, expected.str());
    }
    return out;
  };
  auto whole = [&](const char* name, const std::string& value, size_t min, size_t max) {
    auto out = ParseWholeNumber(value);
    if (!out || *out < min || *out > max) {
      fail(name, value,
           "a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return *out;
  };
  auto boolean = [&](const char* name, const std::string& value) {
    std::string v = value;
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    fail(name, value, "true or false");
    return false;
  };

  if (auto v = get("SLACK_WEBHOOK_URL")) config.notify.slack_webhook_url = *v;
  if (auto v = get("POOLWATCH_WEBHOOK_URL")) config.notify.webhook_url = *v;
  if (auto v = get("ACTIVE_POOL")) config.alerting.active_pool = *v;
  if (auto v = get("MAINTENANCE_MODE"))
    config.alerting.maintenance = boolean("MAINTENANCE_MODE", *v);
  if (auto v = get("ALERT_COOLDOWN_SEC")) {
    auto seconds =
        std::chrono::seconds(static_cast<int64_t>(whole("ALERT_COOLDOWN_SEC", *v, 0, 86400 * 7)));
    for (auto& rule : config.alerting.rules) rule.cooldown = seconds;
  }
  if (auto v = get("ERROR_RATE_THRESHOLD")) {
    double threshold = number("ERROR_RATE_THRESHOLD", *v, 0, 100);
    for (auto& rule : config.alerting.rules) {
      if (rule.kind == RuleKind::kErrorRate) rule.threshold_percent = threshold;
    }
  }
  if (auto v = get("WINDOW_SIZE")) {
    auto size = whole("WINDOW_SIZE", *v, 1, 1000000);
    for (auto& rule : config.alerting.rules) {
      if (rule.kind != RuleKind::kErrorRate) continue;
      rule.window_size = size;
      rule.min_requests = std::min(rule.min_requests, size);
    }
  }
  if (auto v = get("POOLWATCH_LOG_PATH")) config.log_path = *v;
  if (auto v = get("POOLWATCH_STATE_PATH")) config.state_path = *v;
  if (auto v = get("POOLWATCH_LISTEN_ADDRESS")) {
    std::vector<std::string> addresses = SplitListenAddresses(*v);
    if (std::string problem = ListenAddressesProblem(addresses); !problem.empty()) {
      throw ConfigError("environment variable POOLWATCH_LISTEN_ADDRESS: " + problem);
    }
    config.listen_addresses = std::move(addresses);
  }
  if (auto v = get("POOLWATCH_INSTANCE")) config.instance = *v;
  if (auto v = get("POOLWATCH_DASHBOARD_URL")) config.notify.dashboard_url = *v;
  if (auto v = get("POOLWATCH_RUNBOOK_URL")) config.notify.runbook_url = *v;
  if (auto v = get("POOLWATCH_DEFAULT_NOTIFIERS")) {
    std::vector<std::string> kinds;
    std::string_view rest = *v;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string kind(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      kind.erase(std::remove_if(kind.begin(), kind.end(),
                                [](unsigned char c) { return std::isspace(c) != 0; }),
                 kind.end());
      if (kind.empty()) continue;
      if (!IsNotifierKind(kind) || std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) {
        fail("POOLWATCH_DEFAULT_NOTIFIERS", *v,
             std::string("comma-separated notifier kinds, each once, some of: ")
                 .append(kNotifierKindList));
      }
      kinds.push_back(std::move(kind));
    }
    if (!kinds.empty()) {
      config.notify.default_notifiers = std::move(kinds);
      config.key_locations["notify.default_notifiers"] =
          "environment variable POOLWATCH_DEFAULT_NOTIFIERS";
    }
  }
  if (auto v = get("POOLWATCH_ALERTMANAGER_URLS")) {
    config.notify.alertmanager_urls.clear();
    std::string_view rest = *v;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
        item.remove_prefix(1);
      while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())))
        item.remove_suffix(1);
      if (item.empty()) continue;
      if (!IsHttpUrl(item)) {
        // Not echoed: the value may carry basic-auth credentials.
        throw ConfigError(
            "environment variable POOLWATCH_ALERTMANAGER_URLS: expected "
            "comma-separated http:// or https:// URLs");
      }
      config.notify.alertmanager_urls.emplace_back(item);
    }
  }
}

// Rules without a `notify` list of their own take notify.default_notifiers (none: every
// notifier). Done after the environment, which may set the default.
void ApplyDefaultNotifiers(Config& config) {
  for (RuleConfig& rule : config.alerting.rules) {
    if (rule.notify.empty()) rule.notify = config.notify.default_notifiers;
  }
}

// Why `kind` has no notifier in this configuration, or nullptr when it has one. Mirrors
// BuildNotifiers: the console is there when asked for or when nothing else is.
const char* NotifierMissing(const NotifyConfig& notify, std::string_view kind) {
  if (kind == "slack" && notify.slack_webhook_url.empty()) {
    return "set notify.slack_webhook_url or SLACK_WEBHOOK_URL";
  }
  if (kind == "webhook" && notify.webhook_url.empty()) {
    return "set notify.webhook_url or POOLWATCH_WEBHOOK_URL";
  }
  if (kind == "alertmanager" && notify.alertmanager_urls.empty()) {
    return "set notify.alertmanager_urls or POOLWATCH_ALERTMANAGER_URLS";
  }
  const bool console =
      notify.console || (notify.slack_webhook_url.empty() && notify.webhook_url.empty() &&
                         notify.alertmanager_urls.empty());
  if (kind == "console" && !console) {
    return "set notify.console: true; it is only on by itself when no other notifier is set";
  }
  return nullptr;
}

}  // namespace

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  // Longer is a typo, and beyond ~292 years it would not fit the nanosecond clock (and "inf"
  // or "nan" not in an integer at all), so it is refused rather than cast.
  constexpr double kMaxMs = 100.0 * 365 * 86400000;
  if (text.empty()) return std::nullopt;
  double plain = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), plain);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (!(plain >= 0 && plain * 1000 <= kMaxMs)) return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(plain * 1000));
  }
  std::chrono::milliseconds total{0};
  const char* p = text.data();
  const char* stop = text.data() + text.size();
  while (p < stop) {
    double value = 0;
    auto [unit, err] = std::from_chars(p, stop, value);
    if (err != std::errc() || unit == stop || value < 0) return std::nullopt;
    const char* next = unit;
    while (next < stop && std::isalpha(static_cast<unsigned char>(*next))) ++next;
    std::string_view u(unit, static_cast<size_t>(next - unit));
    double ms;
    if (u == "ms") {
      ms = value;
    } else if (u == "s") {
      ms = value * 1000;
    } else if (u == "m") {
      ms = value * 60000;
    } else if (u == "h") {
      ms = value * 3600000;
    } else if (u == "d") {
      ms = value * 86400000;
    } else {
      return std::nullopt;
    }
    if (!(ms <= kMaxMs - static_cast<double>(total.count()))) return std::nullopt;
    total += std::chrono::milliseconds(static_cast<int64_t>(ms));
    p = next;
  }
  return total;
}

Config LoadConfigFromString(const std::string& yaml, const std::string& source_name,
                            const Environment& env) {
  Config config;
  config.source = source_name;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  Reader reader(source_name);
  try {
    ReadYaml(root, reader, config);
  } catch (const YAML::Exception& e) {
    // Whatever yaml-cpp still objects to (found by fuzzing: a non-scalar key) is a
    // configuration mistake too, reported with its line, never an uncaught exception.
    throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  ApplyEnvironment(env, config);
  ApplyDefaultNotifiers(config);
  return config;
}

Config LoadConfig(const std::string& yaml_path, const Environment& env) {
  if (yaml_path.empty()) {
    Config config;
    ApplyEnvironment(env, config);
    ApplyDefaultNotifiers(config);
    return config;
  }
  std::ifstream in(yaml_path);
  if (!in) throw ConfigError(yaml_path + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  return LoadConfigFromString(text.str(), yaml_path, env);
}

void ValidateConfig(const Config& config) {
  std::string error;
  if (!LogFormat::Compile(config.log_format, config.format_options, &error)) {
    throw ConfigError((config.source.empty() ? std::string("log format") : config.source) +
                      ": log.format: " + error);
  }
  // The file and the environment were checked with their lines; what is still wrong came from
  // a flag.
  if (std::string problem = TelemetryPathProblem(config.telemetry_path); !problem.empty()) {
    throw ConfigError("web.telemetry_path (or --web.telemetry-path): " + problem);
  }
  if (std::string problem = ListenAddressesProblem(config.listen_addresses); !problem.empty()) {
    throw ConfigError("web.listen_address (or --web.listen-address): " + problem);
  }
  if (!IsLogLevel(config.log_level)) {
    throw ConfigError("log_level (or --log.level): expected debug, info, warn or error, got '" +
                      config.log_level + "'");
  }
  if (config.alerting.active_pool.empty())
    throw ConfigError("alerting.active_pool must not be empty");
  // Checked after the merge, since the environment may set them. Never echoed: the URL is the
  // secret (Slack's token is its path; a webhook may carry credentials).
  if (!config.notify.slack_webhook_url.empty() && !IsHttpUrl(config.notify.slack_webhook_url)) {
    throw ConfigError(
        "notify.slack_webhook_url (or SLACK_WEBHOOK_URL): expected an http:// or "
        "https:// URL like https://hooks.slack.com/services/…");
  }
  if (!config.notify.webhook_url.empty() && !IsHttpUrl(config.notify.webhook_url)) {
    throw ConfigError(
        "notify.webhook_url (or POOLWATCH_WEBHOOK_URL): expected an http:// or "
        "https:// URL");
  }
  // A notify list may only name notifiers that exist once the environment is merged in.
  // Rules that took the default are covered by the default's own check.
  auto check_notify = [&](const std::vector<std::string>& kinds, const std::string& key) {
    auto at = config.key_locations.find(key);
    if (at == config.key_locations.end()) return;
    for (const std::string& kind : kinds) {
      if (const char* missing = NotifierMissing(config.notify, kind)) {
        throw ConfigError(at->second + ": " + key + ": " + kind + " is not configured (" + missing +
                          ")");
      }
    }
  };
  check_notify(config.notify.default_notifiers, "notify.default_notifiers");
  for (size_t i = 0; i < config.alerting.rules.size(); ++i) {
    check_notify(config.alerting.rules[i].notify,
                 "alerting.rules[" + std::to_string(i) + "].notify");
  }
}

}  // namespace poolwatch
