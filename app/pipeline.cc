#include "app/pipeline.h"

#include <algorithm>
#include <limits>

#include "app/logger.h"
#include "exporter/log_set.h"

namespace poolwatch {
namespace {

// A gap in the log is walked through second by second for this long, then minute by minute for
// this long; past that, nothing that happens by time alone (max_age, cooldown, maintenance end)
// is left to see except repeats, and a multi-day gap must stay cheap.
constexpr int kSecondSteps = 3600;
constexpr int kMinuteSteps = 24 * 60;

TimePoint NextWholeSecond(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t) + std::chrono::seconds(1);
}

}  // namespace

std::vector<LogFormat> Pipeline::CompileFormats(const Config& config) {
  std::vector<LogFormat> formats;
  std::string error;
  auto format = LogFormat::Compile(config.log_format, config.format_options, &error);
  if (!format) throw ConfigError("log.format: " + error);
  formats.push_back(std::move(*format));
  for (size_t i = 0; i < config.log_files.size(); ++i) {
    const LogFileFormat& file = config.log_files[i];
    format = LogFormat::Compile(file.format, file.options, &error);
    if (!format) throw ConfigError("log.files[" + std::to_string(i) + "].format: " + error);
    formats.push_back(std::move(*format));
  }
  return formats;
}

MetricsOptions Pipeline::MetricsOptionsOf(const Config& config) {
  MetricsOptions options = config.metrics;
  options.source_labels = SourceLabelNames(config);
  return options;
}

void Pipeline::SetSource(const LineSource* source) {
  // A datagram at a time sets its sender's source: the same one again costs nothing. The id
  // tells a source apart from one since made at the same address.
  const uint64_t id = source != nullptr ? source->id : 0;
  if (source == record_.source && id == source_id_) return;
  source_id_ = id;
  record_.source = source;
  metrics_.SetSource(source != nullptr ? std::span<const std::string>(source->values)
                                       : std::span<const std::string>());
}

std::vector<std::string> Pipeline::FileSourceValues(const PathLabeler& labeler,
                                                    size_t syslog_labels, const std::string& path) {
  std::vector<std::string> values;
  if (labeler.enabled()) values.push_back(labeler.ValueFor(path));
  values.resize(values.size() + syslog_labels);
  return values;
}

size_t Pipeline::FormatFor(const std::vector<LogFileFormat>& files, const std::string& path) {
  for (size_t i = 0; i < files.size(); ++i) {
    if (PathMatches(files[i].path, path)) return i + 1;
  }
  return 0;
}

Pipeline::Pipeline(const Config& config, prometheus::Registry& registry,
                   prometheus::Registry* series_registry,
                   AlertEngine::VerdictWindows verdict_windows)
    : formats_(CompileFormats(config)),
      format_(&formats_[0]),
      resolver_(config.pools),
      metrics_(registry, MetricsOptionsOf(config), series_registry),
      engine_(config.alerting, verdict_windows),
      evaluate_every_(EvaluateEvery(config.alerting)) {}

size_t Pipeline::EvaluateEvery(const AlertingConfig& config) {
  // A quarter of the smallest error_rate or latency window: a burst has to fill most of a
  // window before it can leave it, so it is judged at least once while it fills it.
  size_t smallest = std::numeric_limits<size_t>::max();
  for (const RuleConfig& rule : config.rules) {
    if (rule.kind == RuleKind::kErrorRate || rule.kind == RuleKind::kLatency) {
      smallest = std::min(smallest, rule.window_size);
    }
  }
  if (smallest == std::numeric_limits<size_t>::max()) return 1000;
  return std::clamp<size_t>(smallest / 4, 1, 1000);
}

void Pipeline::EvaluateOnce(TimePoint now) {
  evaluated_ = true;
  evaluated_at_ = now;
  next_second_ = NextWholeSecond(now);
  since_evaluation_ = 0;
  pending_.push_back({now, engine_.Evaluate(now), std::nullopt});
  if (capture_status_) pending_.back().status = engine_.Status(now);
}

void Pipeline::DeliverPending() {
  if (pending_.empty()) return;
  if (deliver_) deliver_(pending_);
  pending_.clear();
}

void Pipeline::StepTo(TimePoint until) {
  int steps = 0;
  for (TimePoint at = next_second_; at <= until;) {
    EvaluateOnce(at);
    ++steps;
    if (steps < kSecondSteps) {
      at += std::chrono::seconds(1);
    } else if (steps < kSecondSteps + kMinuteSteps) {
      at += std::chrono::minutes(1);
    } else {
      break;
    }
  }
}

void Pipeline::EvaluateAt(TimePoint now) {
  bool stepped_to_now = false;  // `now` is a whole second and StepTo() just evaluated it
  if (evaluated_) {
    now = std::max(now, evaluated_at_);
    if (now >= next_second_) {
      StepTo(now);
      stepped_to_now = evaluated_at_ == now;
    }
  }
  if (!stepped_to_now) EvaluateOnce(now);
  DeliverPending();
}

void Pipeline::ProcessLine(std::string_view line) {
  if (auto reason = format_->Parse(line, record_)) {
    ++lines_malformed_;
    metrics_.CountMalformed(*reason);
    auto& reported = reported_[static_cast<size_t>(*reason)];
    if (!reported || Logger::Enabled(LogLevel::kDebug)) {
      // The line's bytes are escaped by the logger: it may hold terminal escape sequences.
      LogWarn(reported ? "skipped a malformed log line"
                       : "skipped a malformed log line; later ones of this reason are only counted",
              {{"reason", MalformedReasonName(*reason)}, {"line", line.substr(0, 200)}});
      reported = true;
    }
    return;
  }
  ++lines_parsed_;
  resolver_.Resolve(record_);
  metrics_.Record(record_);
  // Live lines cost one comparison here; the daemon evaluates them on its own ticks.
  const bool backlog = record_.time < backlog_before_;
  if (backlog && record_.time >= next_second_) {
    // A new log second: evaluate the seconds before it without this line, as a live daemon
    // would have. The first backlog line has no earlier evaluation to step from.
    if (evaluated_) {
      StepTo(record_.time);
    } else {
      EvaluateOnce(std::chrono::floor<std::chrono::seconds>(record_.time));
    }
  }
  engine_.Observe(record_);
  last_record_time_ = record_.time;
  if (backlog && ++since_evaluation_ >= evaluate_every_) {
    EvaluateOnce(std::max(record_.time, evaluated_at_));
  }
}

void Pipeline::CountOverlong(uint64_t lines) {
  for (uint64_t i = 0; i < lines; ++i) {
    ++lines_malformed_;
    metrics_.CountMalformed(MalformedReason::kTooLong);
  }
  if (lines > 0 && !reported_[static_cast<size_t>(MalformedReason::kTooLong)]) {
    LogWarn("skipped a log line longer than the maximum line length", {{"reason", "too_long"}});
    reported_[static_cast<size_t>(MalformedReason::kTooLong)] = true;
  }
}

void Pipeline::Reconfigure(const Config& config) {
  engine_.Reconfigure(config.alerting);
  evaluate_every_ = EvaluateEvery(config.alerting);
}

}  // namespace poolwatch
