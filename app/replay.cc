#include "app/replay.h"

#include <fcntl.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "app/daemon.h"
#include "app/incident_report.h"
#include "app/logger.h"
#include "app/pipeline.h"
#include "exporter/line_splitter.h"

namespace poolwatch {
namespace {

// Large enough that read() calls cost nothing next to parsing (a few thousand lines each),
// small enough to stay in L2 and keep peak RSS low.
constexpr size_t kReadBlock = 128 << 10;

// One line of replay output: what would have been sent, when (log time), and its text.
void PrintNotification(const Notification& n, std::ostream& out) {
  nlohmann::json line = {
      {"at", FormatRfc3339(n.at)},
      {"rule", n.rule},
      {"status", n.status == AlertStatus::kFiring ? "firing" : "resolved"},
      {"labels", n.labels},
      {"severity", n.severity},
      {"suppressed", n.suppressed},
      {"message", n.Text()},
  };
  out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

// Alerts still firing when the log ends: their resolution, if any, is not in these logs.
void PrintStillFiring(const EngineStatus& status, std::ostream& out) {
  for (const RuleStatus& rs : status.rules) {
    if (!rs.announced && !rs.firing) continue;
    std::string key = rs.name + "{";
    bool first = true;
    for (const auto& [name, value] : rs.labels) {
      key.append(first ? "" : ",").append(name).append("=").append(value);
      first = false;
    }
    key += "}";
    out << "still firing at the end of the log: " << key << " since " << FormatRfc3339(rs.since)
        << (rs.announced ? std::string()
                         : std::string(" (not announced: ").append(rs.last_decision).append(")"))
        << '\n';
  }
}

}  // namespace

int RunReplay(const ReplayOptions& options) {
  Config config;
  try {
    config = LoadEffectiveConfig(options.config_path, FlagOverrides{});
  } catch (const ConfigError& e) {
    LogError(std::string("configuration error: ") + e.what());
    return 2;
  }
  // Replay's stdout is the notification stream; keep stderr for the summary and problems.
  Logger::SetLevel(LogLevel::kWarn);
  auto registry = std::make_shared<prometheus::Registry>();
  Pipeline pipeline(config, *registry);
  // Nobody scrapes during a replay: publish metrics in batches, and once more at the end.
  pipeline.SetFlushEvery(Pipeline::kBatchLines);
  uint64_t notifications = 0;
  uint64_t bytes = 0;
  const bool report_wanted =
      options.report || !options.report_file.empty() || !options.report_format.empty();
  IncidentReport report;
  // Only the report needs a status per evaluation; without it replay costs what it did.
  pipeline.SetCaptureStatus(report_wanted);
  // Opened first: a path that cannot be written fails before a long replay, not after.
  std::ofstream report_out;
  if (!options.report_file.empty()) {
    report_out.open(options.report_file, std::ios::trunc);
    if (!report_out) {
      LogError("cannot write " + options.report_file + ": " + std::strerror(errno));
      return 2;
    }
  }

  // Every line is a backlog: the pipeline evaluates with the log's clock on the daemon's
  // catch-up schedule, so what replay prints is what the daemon would have sent.
  pipeline.SetBacklogBefore(TimePoint::max());
  pipeline.SetDeliver([&](std::vector<Pipeline::TimedEvaluation>& evaluations) {
    for (const Pipeline::TimedEvaluation& e : evaluations) {
      for (const Notification& n : e.evaluation.notifications) {
        // Held back from people by the cooldown; only an Alertmanager would have been told.
        if (n.state_only) continue;
        PrintNotification(n, std::cout);
        ++notifications;
      }
      if (e.status) report.Add(e.now, e.evaluation, *e.status);
    }
  });

  std::vector<char> buffer(kReadBlock);
  auto started = std::chrono::steady_clock::now();
  for (const std::string& path : options.logs) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      LogError("cannot read " + path + ": " + std::strerror(errno));
      return 1;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    LineSplitter splitter;
    auto on_line = [&](std::string_view line) { pipeline.ProcessLine(line); };
    auto on_overlong = [&]() { pipeline.CountOverlong(1); };
    while (true) {
      ssize_t n = read(fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        LogError("error reading " + path + ": " + std::strerror(errno));
        close(fd);
        return 1;
      }
      if (n == 0) break;
      bytes += static_cast<uint64_t>(n);
      splitter.Feed(std::string_view(buffer.data(), static_cast<size_t>(n)), on_line, on_overlong);
      pipeline.DeliverPending();
    }
    splitter.Flush(on_line);
    close(fd);
  }
  // The end of the log is the end of time: no resolution is invented past the last line.
  if (pipeline.lines_parsed() > 0) pipeline.EvaluateAt(pipeline.last_record_time());
  pipeline.Flush();
  pipeline.metrics().AddBytesRead(bytes);
  std::cout.flush();

  if (!options.metrics_out.empty()) {
    std::ofstream out(options.metrics_out, std::ios::trunc);
    prometheus::TextSerializer().Serialize(out, registry->Collect());
    if (!out) {
      LogError("cannot write " + options.metrics_out);
      return 1;
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cerr << "replayed " << pipeline.lines_parsed() + pipeline.lines_malformed() << " lines ("
            << pipeline.lines_parsed() << " parsed, " << pipeline.lines_malformed()
            << " malformed) from " << options.logs.size() << " file(s) in " << seconds << " s; "
            << notifications << " notification(s) would have been sent\n";
  if (pipeline.lines_parsed() == 0 && pipeline.lines_malformed() > 0) {
    LogError(
        "no line could be parsed: the log format in the configuration (log.format) "
        "probably does not match these logs; nothing was evaluated");
    return 1;
  }
  PrintStillFiring(pipeline.engine().Status(pipeline.last_record_time()), std::cerr);
  if (report_wanted) {
    const TimePoint end = std::max(pipeline.last_record_time(), pipeline.evaluated_at());
    const std::string text = options.report_format == "json"
                                 ? FormatIncidentReportJson(report, end)
                                 : FormatIncidentReportText(report, end);
    if (options.report_file.empty()) {
      std::cerr << '\n' << text;
    } else {
      report_out << text;
      report_out.flush();
      if (!report_out) {
        LogError("cannot write " + options.report_file);
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace poolwatch
