#include "app/pipeline.h"

#include "app/logger.h"

namespace poolwatch {

LogFormat Pipeline::CompileFormat(const Config& config) {
  std::string error;
  auto format = LogFormat::Compile(config.log_format, config.format_options, &error);
  if (!format) throw ConfigError("log.format: " + error);
  return *format;
}

Pipeline::Pipeline(const Config& config, prometheus::Registry& registry)
    : format_(CompileFormat(config)),
      resolver_(config.pools),
      metrics_(registry, config.metrics),
      engine_(config.alerting) {}

void Pipeline::ProcessLine(std::string_view line) {
  if (auto reason = format_.Parse(line, record_)) {
    ++lines_malformed_;
    metrics_.CountMalformed(*reason);
    auto& reported = reported_[static_cast<size_t>(*reason)];
    if (!reported || Logger::Enabled(LogLevel::kDebug)) {
      std::string shown(line.substr(0, 200));
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20) c = '?';
      }
      LogWarn("skipped a malformed log line (reason=" + std::string(MalformedReasonName(*reason)) +
              (reported ? "" : ", later ones of this reason are only counted") + "): " + shown);
      reported = true;
    }
    return;
  }
  ++lines_parsed_;
  resolver_.Resolve(record_);
  metrics_.Record(record_);
  engine_.Observe(record_);
  last_record_time_ = record_.time;
}

void Pipeline::CountOverlong(uint64_t lines) {
  for (uint64_t i = 0; i < lines; ++i) {
    ++lines_malformed_;
    metrics_.CountMalformed(MalformedReason::kTooLong);
  }
  if (lines > 0 && !reported_[static_cast<size_t>(MalformedReason::kTooLong)]) {
    LogWarn("skipped a log line longer than the maximum line length (reason=too_long)");
    reported_[static_cast<size_t>(MalformedReason::kTooLong)] = true;
  }
}

void Pipeline::Reconfigure(const Config& config) { engine_.Reconfigure(config.alerting); }

}  // namespace poolwatch
