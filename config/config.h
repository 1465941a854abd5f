#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "alerting/alerting_config.h"
#include "alerting/notify/notify_config.h"
#include "config/value_parsers.h"
#include "exporter/log_format.h"
#include "exporter/metrics.h"
#include "exporter/path_label.h"
#include "remote_write/remote_write_options.h"

namespace poolwatch {

// Key → where it was set ("poolwatch.yml:12", "environment variable …").
using KeyLocations = std::map<std::string, std::string>;

// One log.files entry: its keys not set are those of the log section.
struct LogFileFormat {
  std::string path;  // a path or glob
  std::string format;
  LogFormatOptions options;
  bool operator==(const LogFileFormat&) const = default;
};

struct Config;
// The paths and globs of the access logs to follow: log_paths, then log.files' paths not among
// them; empty when only syslog feeds poolwatch.
std::vector<std::string> LogPatterns(const Config& config);

// The names of the source labels (LineSource::values, in this order): log.path_label's name when
// set, then log.syslog.labels. A rule's group_by names some of them.
std::vector<std::string> SourceLabelNames(const Config& config);

struct Config {
  std::string source;  // the YAML file it came from, "" when none

  // log
  // The paths and globs of log.path (a string or a YAML list), POOLWATCH_LOG_PATH
  // (comma-separated) or --log.path (repeated); a later source replaces the whole list. See
  // LogPatterns() for everything followed.
  std::vector<std::string> log_paths;
  // log.path_label: a label on the request metrics from the path of each line's file.
  PathLabelOptions path_label;
  // log.files: files (paths or globs, followed too) whose lines have another format than
  // log.format; the first entry whose path names a file gives its format.
  std::vector<LogFileFormat> log_files;
  bool start_at_beginning = false;
  std::string log_format{kDefaultLogFormat};
  LogFormatOptions format_options;
  std::map<std::string, std::string> pools;  // upstream address → pool
  // log.syslog.listen: nginx's access_log over syslog, alongside or instead of log.path.
  std::vector<SyslogEndpoint> syslog_listen;
  // log.syslog.labels: the datagram's tag and/or hostname as source labels (syslog_tag, host).
  std::vector<SyslogLabel> syslog_labels;

  // web
  // Every address is served alike (same endpoints, TLS and auth): --web.listen-address
  // repeated, a YAML list, or POOLWATCH_LISTEN_ADDRESS comma-separated.
  std::vector<std::string> listen_addresses = {":10090"};
  std::string telemetry_path = "/metrics";
  bool enable_admin_api = false;
  // TLS and basic auth for every endpoint, in the Prometheus exporter-toolkit format; "" : none.
  std::string web_config_file;

  // state: where the log position, learned pools and alerting state survive restarts.
  std::string state_path;  // "" : nothing is kept (a restart starts at the log's end)
  std::chrono::milliseconds state_interval{1000};  // a change is on disk within this

  MetricsOptions metrics;
  AlertingConfig alerting = AlertingConfig::SeedDefaults();
  NotifyConfig notify;
  std::string instance;  // node identity; defaults to the host name
  std::string log_level = "info";
  std::vector<RemoteWriteOptions> remote_write;  // receivers metrics are pushed to

  // Where some keys were set ("poolwatch.yml:12", or "environment variable …"), for mistakes
  // only found once everything is merged: a rule's notify list (key
  // "alerting.rules[N].notify", present only when the rule has its own) and
  // "notify.default_notifiers".
  KeyLocations key_locations;
};

// A configuration mistake, with where it was made: "file:line: key: problem".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Environment = std::map<std::string, std::string>;
Environment ProcessEnvironment();

// Defaults, then the YAML file (when `yaml_path` is not empty), then the environment.
// Throws ConfigError. Flags are applied by the caller afterwards (flags > env > file).
Config LoadConfig(const std::string& yaml_path, const Environment& env);
// Same, from YAML text (for tests); `source_name` is used in messages.
Config LoadConfigFromString(const std::string& yaml, const std::string& source_name,
                            const Environment& env);

// What is wrong with a list of log paths from the environment or flags (where there is no line
// to point at), or "": an empty list, an empty item, an item given twice.
std::string LogPathsProblem(const std::vector<std::string>& paths);

// Checks what only makes sense once everything is merged (flags included), e.g. compiles the
// log format. Throws ConfigError.
void ValidateConfig(const Config& config);

}  // namespace poolwatch
