#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alerting_config.h"
#include "exporter/log_format.h"
#include "exporter/syslog_receiver.h"
#include "exporter/syslog_sources.h"

namespace poolwatch {

// One parser per kind of value, shared by the YAML file, the environment and the flags, so a
// value means the same wherever it is written. Each takes the text as written and returns the
// value or std::nullopt; its k…Expected describes what it accepts, and the caller says where
// the text came from: "poolwatch.yml:3: log.start_at: expected end or beginning, got 'x'",
// "environment variable MAINTENANCE_MODE: expected true or false, got 'x'",
// "--log.start-at: expected end or beginning, got 'x'" (see ExpectedGot).

enum class LogLevel { kDebug, kInfo, kWarn, kError };
inline constexpr std::string_view kLogLevelExpected = "debug, info, warn or error";
std::optional<LogLevel> ParseLogLevel(std::string_view text);
std::string_view LogLevelName(LogLevel level);  // "debug", …

enum class StartAt { kEnd, kBeginning };  // where to start in a log that is already there
inline constexpr std::string_view kStartAtExpected = "end or beginning";
std::optional<StartAt> ParseStartAt(std::string_view text);

inline constexpr std::string_view kLogEscapeExpected = "default, json or none";
std::optional<LogEscape> ParseLogEscape(std::string_view text);

inline constexpr std::string_view kRuleKindExpected =
    "failover, error_rate, traffic, latency, release_regression or slo";
std::optional<RuleKind> ParseRuleKind(std::string_view text);

inline constexpr std::string_view kErrorScopeExpected = "client or upstream";
std::optional<ErrorScope> ParseErrorScope(std::string_view text);

// release_regression's `compare`.
inline constexpr std::string_view kRegressionBaselineExpected = "releases or pools";
std::optional<RegressionBaseline> ParseRegressionBaseline(std::string_view text);
// slo: the `sli` key, and a burn_rates entry's `urgency` (true: page).
inline constexpr std::string_view kSloIndicatorExpected = "availability or latency";
std::optional<SloIndicator> ParseSloIndicator(std::string_view text);
inline constexpr std::string_view kUrgencyExpected = "page or ticket";
std::optional<bool> ParseUrgencyIsPage(std::string_view text);

// true/yes/on/y/1 and false/no/off/n/0, in any case: what YAML 1.1 and shell habits both
// write.
inline constexpr std::string_view kBoolExpected = "true or false";
std::optional<bool> ParseBool(std::string_view text);

// Digits only: "200.9" or "1e2" for a count is a typo, not something to round.
inline constexpr std::string_view kCountExpected = "a whole number";
std::optional<size_t> ParseCount(std::string_view text);

inline constexpr std::string_view kNumberExpected = "a number";
std::optional<double> ParseNumber(std::string_view text);

// "300s", "5m", "1h30m", "250ms", "2d", or a plain number of seconds.
inline constexpr std::string_view kDurationExpected = "a duration like 30s, 5m or 250ms";
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// What a `notify` list may name: one of kNotifierKinds (alerting/notify/notifier_factory.h).
inline constexpr std::string_view kNotifierKindList = "slack, webhook, console, alertmanager";
std::optional<std::string> ParseNotifierKind(std::string_view text);

// An http:// or https:// URL with something after the scheme. Never echo a refused one: it
// may carry credentials.
bool IsHttpUrl(std::string_view url);

// A comma-separated environment value: items trimmed, empty ones dropped.
std::vector<std::string> SplitCommaList(std::string_view text);

// What is wrong with a telemetry path (it must be a plain absolute path), or "".
std::string TelemetryPathProblem(const std::string& path);

// Where poolwatch listens for nginx's `access_log syslog:server=…`: "udp://IPV4:PORT" (port 1 to
// 65535; 0.0.0.0 for every interface) or "unixgram:///absolute/path".
inline constexpr std::string_view kSyslogListenExpected =
    "udp://IPV4:PORT or unixgram:///ABSOLUTE/PATH";
std::optional<SyslogEndpoint> ParseSyslogListen(std::string_view text);
// One of log.syslog.labels: the label a datagram's tag or hostname becomes.
inline constexpr std::string_view kSyslogLabelExpected = "syslog_tag or host";
std::optional<SyslogLabel> ParseSyslogLabel(std::string_view text);

// "expected <expected>, got '<text>'".
std::string ExpectedGot(std::string_view expected, std::string_view text);

}  // namespace poolwatch
