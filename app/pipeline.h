#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <prometheus/registry.h>

#include "alerting/alert_engine.h"
#include "config/config.h"
#include "exporter/log_format.h"
#include "exporter/metrics.h"
#include "exporter/pool_resolver.h"

namespace poolwatch {

// line → LogRecord → {metrics, rules}: the one path every log line takes, shared by the daemon
// and replay so both count exactly the same way. Not thread-safe: one parsing thread; the
// engine is reached by other threads only under the owner's lock.
class Pipeline {
 public:
  // Throws ConfigError when the configured log format does not compile.
  Pipeline(const Config& config, prometheus::Registry& registry);

  // One line without its newline.
  void ProcessLine(std::string_view line);
  // Metrics are published every `lines` parsed lines (default 1: at once) and at Flush(). A
  // caller that feeds lines in batches sets a larger value (replay: kBatchLines) and calls
  // Flush() after each batch, so /metrics lags by at most one batch and per-line locking
  // goes away.
  void SetFlushEvery(uint32_t lines) { metrics_.SetFlushEvery(lines); }
  void Flush() { metrics_.Flush(); }
  static constexpr uint32_t kBatchLines = 4096;
  // Lines the splitter dropped for being too long.
  void CountOverlong(uint64_t lines);

  AlertEngine& engine() { return engine_; }
  const AlertEngine& engine() const { return engine_; }
  ExporterMetrics& metrics() { return metrics_; }
  PoolResolver& resolver() { return resolver_; }
  // Log time of the last parsed line; epoch before the first.
  TimePoint last_record_time() const { return last_record_time_; }
  uint64_t lines_parsed() const { return lines_parsed_; }
  uint64_t lines_malformed() const { return lines_malformed_; }

  // New alerting settings after a reload; windows and firing state carry over.
  void Reconfigure(const Config& config);

 private:
  static LogFormat CompileFormat(const Config& config);

  LogFormat format_;
  PoolResolver resolver_;
  ExporterMetrics metrics_;
  AlertEngine engine_;
  LogRecord record_;
  TimePoint last_record_time_{};
  uint64_t lines_parsed_ = 0;
  uint64_t lines_malformed_ = 0;
  // The first malformed line of each reason is logged with its text; later ones only counted.
  std::array<bool, static_cast<size_t>(MalformedReason::kCount_)> reported_{};
};

}  // namespace poolwatch
