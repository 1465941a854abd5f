#pragma once
// The bodies of the libFuzzer targets, shared with tests/app/fuzz_regression_test.cc, which
// replays the seed corpus and every input that once crashed (fuzz/regressions/) in the normal
// and the sanitizer builds. An invariant that does not hold traps, like a crash.
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/logger.h"
#include "app/pipeline.h"
#include "app/state_codec.h"
#include "config/config.h"
#include "config/web_config.h"
#include "core/log_record.h"
#include "exporter/log_format.h"
#include "exporter/log_reader.h"
#include "exporter/metrics.h"
#include "exporter/pool_resolver.h"
#include "exporter/syslog_message.h"

namespace poolwatch::fuzz {

// nginx log_format compilation and line parsing, then the pool resolver and the label
// sanitizer: everything a hostile log line or format string reaches first.
// Input: byte 0 picks the escaping (default, json, none); the bytes up to the first newline
// are the log_format string (empty: poolwatch's default format); every further line is parsed.
inline void LogFormatTarget(const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  LogFormatOptions options;
  options.escape = data[0] % 3 == 0   ? LogEscape::kDefault
                   : data[0] % 3 == 1 ? LogEscape::kJson
                                      : LogEscape::kNone;
  const size_t nl = input.find('\n');
  const std::string_view format_text = input.substr(0, nl);
  std::string_view lines = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  std::string error;
  auto format =
      LogFormat::Compile(format_text.empty() ? kDefaultLogFormat : format_text, options, &error);
  if (!format) {
    if (error.empty()) __builtin_trap();  // a rejected format must say why
    format = LogFormat::Compile(kDefaultLogFormat, options, &error);
    if (!format) __builtin_trap();
  }
  PoolResolver resolver({{"10.0.0.1:80", "blue"}}, 8);
  LogRecord record;
  while (!lines.empty()) {
    const size_t end = lines.find('\n');
    const std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 1);
    if (format->Parse(line, record)) continue;  // malformed: a reason, no crash
    resolver.Resolve(record);
    (void)SanitizeLabelValue(record.pool);
    (void)SanitizeLabelValue(record.release);
    for (const UpstreamAttempt& attempt : record.attempts) (void)SanitizeLabelValue(attempt.pool);
  }
}

// A log line's whole path with poolwatch's own format, as the daemon runs it: parse, resolve,
// metrics with small cardinality caps (so the overflow paths run), both rules, then a scrape.
// Input: byte 0 picks the escaping and evaluation cadence; every further line is one log line.
inline void PipelineTarget(const uint8_t* data, size_t size) {
  if (size == 0) return;
  Logger::SetLevel(
      LogLevel::kError);  // a malformed line's warning per input would drown the fuzzer
  Config config;
  config.format_options.escape = data[0] % 2 == 0 ? LogEscape::kDefault : LogEscape::kJson;
  config.metrics.max_pools = 3;
  config.metrics.max_releases_per_pool = 3;
  config.metrics.max_upstreams = 4;
  for (RuleConfig& rule : config.alerting.rules) rule.window_size = 1 + data[0] % 16;
  prometheus::Registry registry;
  Pipeline pipeline(config, registry);
  pipeline.SetFlushEvery(1 + data[0] % 7);
  std::string_view lines(reinterpret_cast<const char*>(data) + 1, size - 1);
  TimePoint now{};
  while (!lines.empty()) {
    const size_t end = lines.find('\n');
    pipeline.ProcessLine(lines.substr(0, end));
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 1);
    now += std::chrono::milliseconds(250);
    (void)pipeline.engine().Evaluate(now);
  }
  pipeline.Flush();
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  if (text.find("poolwatch_http_requests_total") == std::string::npos &&
      pipeline.lines_parsed() > 0) {
    __builtin_trap();  // a parsed line must be visible on /metrics
  }
}

// Configuration loading: any text ends in a Config or a ConfigError, never another exception,
// a crash or a hang. The same text is tried as a web configuration and as a state file, whose
// decoding must round-trip.
inline void ConfigTarget(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    Config config = LoadConfigFromString(text, "fuzz.yml", {});
    ValidateConfig(config);
  } catch (const ConfigError&) {
  }
  try {
    ParseWebConfig(text,
                   "fuzz/web.yml");  // relative files resolve to a directory that is not there
  } catch (const ConfigError&) {
  }
  PersistedState state;
  std::string error;
  if (DecodeState(text, &state, &error)) {
    PersistedState again;
    if (!DecodeState(EncodeState(state), &again, &error)) __builtin_trap();
    if (EncodeState(again) != EncodeState(state)) __builtin_trap();
  }
}

// Log inputs: what arrives before the line parser.
// Byte 0 even: the rest is one syslog datagram for ParseNginxSyslog; its views must lie inside
// the datagram. Byte 0 odd: the rest is a file for LogReader (plain or gzip by its first
// bytes), read in blocks of byte0 / 2 + 1 bytes: what Read() returns must add up to
// log_bytes(), and a failure must say why. Output is capped (a small input may inflate ~1000×).
inline void LogInputTarget(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    const auto message = ParseNginxSyslog(input);
    if (!message) return;
    auto inside = [&](std::string_view part) {
      return part.empty() || (part.data() >= input.data() &&
                              part.data() + part.size() <= input.data() + input.size());
    };
    if (!inside(message->host) || !inside(message->tag) || !inside(message->message) ||
        message->tag.empty() || message->priority > 191) {
      __builtin_trap();
    }
    return;
  }
  const int fd = memfd_create("log_input", MFD_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, input.data(), input.size()) != static_cast<ssize_t>(input.size())) {
    close(fd);
    return;
  }
  LogReader reader;
  if (reader.Open("/proc/self/fd/" + std::to_string(fd))) {
    std::string block(data[0] / 2 + 1, '\0');
    uint64_t total = 0;
    for (;;) {
      const std::optional<size_t> n = reader.Read(std::span<char>(block.data(), block.size()));
      if (!n) {
        if (reader.error().empty()) __builtin_trap();
        break;
      }
      if (*n > block.size()) __builtin_trap();
      total += *n;
      if (*n == 0 || total > (64u << 20)) break;
    }
    if (total != reader.log_bytes()) __builtin_trap();
  } else if (reader.error().empty()) {
    __builtin_trap();
  }
  close(fd);
}

}  // namespace poolwatch::fuzz
