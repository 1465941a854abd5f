#include "config/config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string_view>

#include "alerting/notify/notifier_factory.h"
#include "config/listen_address.h"
#include "config/value_parsers.h"
#include "config/yaml_sections.h"
#include "web/http_server.h"

extern char** environ;

namespace poolwatch {
namespace {

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

// The seed's variables. They override the YAML: ACTIVE_POOL and MAINTENANCE_MODE the alerting
// section, ALERT_COOLDOWN_SEC every rule's cooldown, ERROR_RATE_THRESHOLD and WINDOW_SIZE the
// rules of kind error_rate. POOLWATCH_RESOLVE_FOR_SEC, poolwatch's own, sets every rule's
// resolve_for the same way.
void ApplyEnvironment(const Environment& env, Config& config) {
  auto get = [&](const char* name) -> const std::string* {
    auto it = env.find(name);
    return it == env.end() || it->second.empty() ? nullptr : &it->second;
  };
  auto fail = [](const char* name, const std::string& value, std::string_view expected) {
    throw ConfigError(std::string("environment variable ") + name + ": " +
                      ExpectedGot(expected, value));
  };
  auto number = [&](const char* name, const std::string& value, double min, double max) {
    const std::optional<double> out = ParseNumber(value);
    if (!out || *out < min || *out > max) {
      std::ostringstream expected;
      expected << kNumberExpected << " from " << min << " to " << max;
      fail(name, value, expected.str());
    }
    return *out;
  };
  auto whole = [&](const char* name, const std::string& value, size_t min, size_t max) {
    const std::optional<size_t> out = ParseCount(value);
    if (!out || *out < min || *out > max) {
      fail(name, value,
           std::string(kCountExpected) + " from " + std::to_string(min) + " to " +
               std::to_string(max));
    }
    return *out;
  };
  auto boolean = [&](const char* name, const std::string& value) {
    const std::optional<bool> out = ParseBool(value);
    if (!out) fail(name, value, kBoolExpected);
    return *out;
  };

  if (auto v = get("SLACK_WEBHOOK_URL")) config.notify.slack_webhook_url = *v;
  if (auto v = get("POOLWATCH_WEBHOOK_URL")) config.notify.webhook_url = *v;
  if (auto v = get("SLACK_BOT_TOKEN")) {
    config.notify.slack_bot_token = *v;
    config.key_locations.erase("notify.slack_bot_token_file");
    config.key_locations["notify.slack_bot_token"] = "environment variable SLACK_BOT_TOKEN";
  }
  if (auto v = get("SLACK_CHANNEL")) {
    config.notify.slack_channel = *v;
    config.key_locations["notify.slack_channel"] = "environment variable SLACK_CHANNEL";
  }
  if (auto v = get("POOLWATCH_SLACK_API_URL")) config.notify.slack_api_url = *v;
  if (auto v = get("ACTIVE_POOL")) config.alerting.active_pool = *v;
  if (auto v = get("MAINTENANCE_MODE"))
    config.alerting.maintenance = boolean("MAINTENANCE_MODE", *v);
  if (auto v = get("ALERT_COOLDOWN_SEC")) {
    auto seconds =
        std::chrono::seconds(static_cast<int64_t>(whole("ALERT_COOLDOWN_SEC", *v, 0, 86400 * 7)));
    for (auto& rule : config.alerting.rules) rule.cooldown = seconds;
  }
  if (auto v = get("POOLWATCH_RESOLVE_FOR_SEC")) {
    auto seconds = std::chrono::seconds(
        static_cast<int64_t>(whole("POOLWATCH_RESOLVE_FOR_SEC", *v, 0, 86400)));
    for (auto& rule : config.alerting.rules) rule.resolve_for = seconds;
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
  if (auto v = get("POOLWATCH_LOG_PATH")) {
    // Comma-separated like POOLWATCH_LISTEN_ADDRESS; the seed's single path is a list of one.
    std::vector<std::string> paths = SplitCommaList(*v);
    if (std::string problem = LogPathsProblem(paths); !problem.empty()) {
      throw ConfigError("environment variable POOLWATCH_LOG_PATH: " + problem);
    }
    config.log_paths = std::move(paths);  // replaces the file's list
  }
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
    for (const std::string& item : SplitCommaList(*v)) {
      std::optional<std::string> kind = ParseNotifierKind(item);
      if (!kind || std::find(kinds.begin(), kinds.end(), *kind) != kinds.end()) {
        fail("POOLWATCH_DEFAULT_NOTIFIERS", *v,
             std::string("comma-separated notifier kinds, each once, some of: ")
                 .append(kNotifierKindList));
      }
      kinds.push_back(std::move(*kind));
    }
    if (!kinds.empty()) {
      config.notify.default_notifiers = std::move(kinds);
      config.key_locations["notify.default_notifiers"] =
          "environment variable POOLWATCH_DEFAULT_NOTIFIERS";
    }
  }
  if (auto v = get("POOLWATCH_ALERTMANAGER_URLS")) {
    config.notify.alertmanager_urls.clear();
    for (std::string& item : SplitCommaList(*v)) {
      if (!IsHttpUrl(item)) {
        // Not echoed: the value may carry basic-auth credentials.
        throw ConfigError(
            "environment variable POOLWATCH_ALERTMANAGER_URLS: expected "
            "comma-separated http:// or https:// URLs");
      }
      config.notify.alertmanager_urls.push_back(std::move(item));
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
  YamlReader reader(source_name);
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

std::vector<std::string> LogPatterns(const Config& config) {
  std::vector<std::string> patterns = config.log_paths;
  for (const LogFileFormat& file : config.log_files) {
    if (std::find(patterns.begin(), patterns.end(), file.path) == patterns.end()) {
      patterns.push_back(file.path);
    }
  }
  return patterns;
}

std::string LogPathsProblem(const std::vector<std::string>& paths) {
  if (paths.empty()) return "expected at least one path or glob";
  for (size_t i = 0; i < paths.size(); ++i) {
    if (paths[i].empty()) return "expected a path or glob, got ''";
    if (std::find(paths.begin(), paths.begin() + static_cast<long>(i), paths[i]) !=
        paths.begin() + static_cast<long>(i)) {
      return "'" + paths[i] + "' is given twice";
    }
  }
  return "";
}

std::vector<std::string> SourceLabelNames(const Config& config) {
  std::vector<std::string> names;
  if (!config.path_label.name.empty()) names.push_back(config.path_label.name);
  for (SyslogLabel label : config.syslog_labels) names.emplace_back(SyslogLabelName(label));
  return names;
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
  // No path at all is fine here (syslog only, or nothing: the daemon says so).
  if (std::string problem = LogPathsProblem(config.log_paths);
      !config.log_paths.empty() && !problem.empty()) {
    throw ConfigError("log.path (or --log.path): " + problem);
  }
  if (!ParseLogLevel(config.log_level)) {
    throw ConfigError("log_level (or --log.level): " +
                      ExpectedGot(kLogLevelExpected, config.log_level));
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
  // Slack app mode (issue 16). The token is never echoed either.
  const NotifyConfig& notify = config.notify;
  // "poolwatch.yml:3: " when the key came from the file; "" from the environment.
  auto where = [&config](std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
      auto at = config.key_locations.find(key);
      if (at != config.key_locations.end()) return at->second + ": ";
    }
    return std::string();
  };
  const auto token_keys = {"notify.slack_bot_token", "notify.slack_bot_token_file"};
  if (!notify.slack_bot_token.empty()) {
    for (char c : notify.slack_bot_token) {
      // It goes into an HTTP header: a space or a line break would split or forge one.
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        throw ConfigError(where(token_keys) +
                          "notify.slack_bot_token (or SLACK_BOT_TOKEN, "
                          "notify.slack_bot_token_file): expected a token like xoxb-…, without "
                          "spaces or line breaks");
      }
    }
    if (notify.slack_channel.empty()) {
      throw ConfigError(where(token_keys) +
                        "notify.slack_channel (or SLACK_CHANNEL): required with "
                        "notify.slack_bot_token: the channel incidents are posted to, like #ops "
                        "or C0123ABCD");
    }
    if (!notify.slack_webhook_url.empty()) {
      throw ConfigError(where(token_keys) +
                        "notify.slack_bot_token and notify.slack_webhook_url (or "
                        "SLACK_WEBHOOK_URL) are both set: choose one Slack notifier, the app "
                        "(one message per incident) or the webhook");
    }
  } else if (!notify.slack_channel.empty()) {
    throw ConfigError(where({"notify.slack_channel"}) +
                      "notify.slack_channel (or SLACK_CHANNEL) is set without "
                      "notify.slack_bot_token (or SLACK_BOT_TOKEN): the channel is for the Slack "
                      "app; a webhook has its own channel");
  }
  if (!IsHttpUrl(notify.slack_api_url)) {
    throw ConfigError(
        "notify.slack_api_url (or POOLWATCH_SLACK_API_URL): expected an http:// or https:// URL "
        "like https://slack.com/api");
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
