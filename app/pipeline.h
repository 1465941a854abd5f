#pragma once

#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alert_engine.h"
#include "config/config.h"
#include "exporter/log_format.h"
#include "exporter/metrics.h"
#include "exporter/path_label.h"
#include "exporter/pool_resolver.h"

namespace poolwatch {

// line → LogRecord → {metrics, rules}: the one path every log line takes, shared by the daemon
// and replay so both count exactly the same way. Not thread-safe: one parsing thread; the
// engine is reached by other threads only under the owner's lock.
class Pipeline {
 public:
  // Throws ConfigError when the configured log format does not compile. `series_registry`: see
  // ExporterMetrics.
  // `verdict_windows`: see AlertEngine::VerdictWindows (the daemon keeps them, replay not).
  Pipeline(const Config& config, prometheus::Registry& registry,
           prometheus::Registry* series_registry = nullptr,
           AlertEngine::VerdictWindows verdict_windows = AlertEngine::VerdictWindows::kKept);

  // One line without its newline.
  void ProcessLine(std::string_view line);
  // Where the lines ProcessLine() gets from now on came from (the owner's, alive until the next
  // call; null for none): the source labels of their metrics and LogRecord::source for the
  // rules. Set per file or datagram, never mid-line.
  void SetSource(const LineSource* source);
  // The format ProcessLine() parses with from now on: 0 is log.format, i + 1 log.files[i]'s
  // (FormatFor() tells which a file has). The owner switches between files, never mid-line.
  void UseFormat(size_t index) { format_ = &formats_[index < formats_.size() ? index : 0]; }
  // log.format, then each log.files entry's format (UseFormat()'s indices). Throws ConfigError
  // when one does not compile.
  static std::vector<LogFormat> CompileFormats(const Config& config);
  // The format index of the file at `path`: the first log.files entry that names it, else 0.
  static size_t FormatFor(const std::vector<LogFileFormat>& files, const std::string& path);
  // The source values of the file at `path` (LineSource::values, SourceLabelNames()' order): its
  // log.path_label value when the labeler is enabled, then "" for each of the `syslog_labels`
  // syslog labels (a file has no syslog sender).
  static std::vector<std::string> FileSourceValues(const PathLabeler& labeler, size_t syslog_labels,
                                                   const std::string& path);
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

  // Alert evaluation, the same schedule for the daemon and replay so both send the same
  // notifications for the same lines. The evaluations go to `deliver` in order, each with the
  // time that was passed to the engine, but never from inside ProcessLine(): what a backlog's
  // lines lead to waits in memory until DeliverPending() or EvaluateAt(), which the owner calls
  // between reads, once the lines it fed end at a line boundary. They arrive there together, so
  // the state the owner saves before handing any notification on holds all of them, and the
  // engine's state matches exactly the lines read.
  struct TimedEvaluation {
    TimePoint now;
    Evaluation evaluation;
    // AlertEngine::Status(now) right after this evaluation, with SetCaptureStatus(true) (replay's
    // incident report): by delivery the engine has moved on to the end of the read.
    std::optional<EngineStatus> status;
  };
  using Deliver = std::function<void(std::vector<TimedEvaluation>& evaluations)>;
  void SetDeliver(Deliver deliver) { deliver_ = std::move(deliver); }
  // Off by default: a status per evaluation allocates, and only replay --report reads it.
  void SetCaptureStatus(bool on) { capture_status_ = on; }
  // Hands the evaluations made while reading to `deliver`.
  void DeliverPending();
  // Evaluates at `now`, then delivers (pending evaluations first). After a gap since the previous
  // evaluation it first evaluates at the whole seconds in between (each second for an hour, then
  // each minute for a day), so what ages out meanwhile is reported when a live daemon would have
  // reported it. Engine time never goes back: a `now` before the previous evaluation is taken as
  // that.
  void EvaluateAt(TimePoint now);
  // Lines stamped before `before` are a backlog (replay: every line; the daemon: lines older
  // than a couple of seconds, read when catching up). A backlog is evaluated (in memory, for
  // delivery after the read) with the log's time while it is read: at each log second (before the
  // first line of that second is observed) and at least every EvaluateEveryLines() lines, so a
  // window of requests cannot take in a burst and push it out again unseen, and max_age counts in
  // log time rather than against a clock hours ahead of the lines.
  void SetBacklogBefore(TimePoint before) { backlog_before_ = before; }
  // The last parsed line was a backlog line.
  bool InBacklog() const { return lines_parsed_ > 0 && last_record_time_ < backlog_before_; }
  TimePoint evaluated_at() const { return evaluated_at_; }
  size_t EvaluateEveryLines() const { return evaluate_every_; }

 private:
  // config.metrics with the source labels the config names (SourceLabelNames()).
  static MetricsOptions MetricsOptionsOf(const Config& config);
  static size_t EvaluateEvery(const AlertingConfig& config);
  // Evaluates at the whole seconds after the previous evaluation up to `until` (bounded).
  void StepTo(TimePoint until);
  void EvaluateOnce(TimePoint now);

  std::vector<LogFormat> formats_;  // log.format, then each log.files entry's
  const LogFormat* format_;
  PoolResolver resolver_;
  ExporterMetrics metrics_;
  AlertEngine engine_;
  LogRecord record_;
  uint64_t source_id_ = 0;  // record_.source's id when it was set
  TimePoint last_record_time_{};
  uint64_t lines_parsed_ = 0;
  uint64_t lines_malformed_ = 0;
  Deliver deliver_;
  std::vector<TimedEvaluation> pending_;  // made while reading, not delivered yet
  TimePoint backlog_before_{};            // epoch: no line is a backlog until the owner says so
  bool evaluated_ = false;
  bool capture_status_ = false;
  TimePoint evaluated_at_{};
  TimePoint next_second_{};  // the first whole second after evaluated_at_
  size_t evaluate_every_ = 1;
  size_t since_evaluation_ = 0;  // backlog lines observed since the last evaluation
  // The first malformed line of each reason is logged with its text; later ones only counted.
  std::array<bool, static_cast<size_t>(MalformedReason::kCount_)> reported_{};
};

}  // namespace poolwatch
