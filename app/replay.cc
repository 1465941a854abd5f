#include "app/replay.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <vector>

#include "app/daemon.h"
#include "app/incident_report.h"
#include "app/logger.h"
#include "app/pipeline.h"
#include "app/replay_order.h"
#include "app/replay_source.h"
#include "exporter/line_splitter.h"
#include "exporter/log_reader.h"

namespace poolwatch {
namespace {

// Large enough that read() calls cost nothing next to parsing (a few thousand lines each),
// small enough to stay in L2 and keep peak RSS low.
constexpr size_t kReadBlock = 128 << 10;
// How much of a log is searched for a first line with a time, to order the logs: a log with
// no line in the format that far is not an access log of this format anyway.
constexpr size_t kFirstLineSearchBytes = 1 << 20;
// nginx stamps a line when its request ends and each worker reopens the log on its own after a
// rotation, so a log may start a little before the previous one ended; beyond this it is not
// a continuation.
constexpr auto kOverlapTolerance = std::chrono::minutes(1);

// One log of the command line.
struct ReplayLog {
  std::string path;
  std::optional<TimePoint> first_line_time;
  // Standard input cannot be read twice: its reader stays open, and what was read from it to
  // find its first line waits in `head`. A file is opened again when its turn comes.
  std::unique_ptr<LogReader> reader;
  std::string head;
  // Its format and source labels, as the daemon would have read it (log.files, log.path_label).
  size_t format = 0;
  LineSource source;
};

// Reads the start of `reader` until a line parses with `format`: that line's time goes to
// `log.first_line_time`, and what was read to `head`. False on a read error.
bool FindFirstLineTime(LogReader& reader, const LogFormat& format, std::span<char> buffer,
                       ReplayLog& log, std::string& head) {
  LineSplitter splitter;
  LogRecord record;
  auto on_line = [&](std::string_view line) {
    if (!log.first_line_time && !format.Parse(line, record)) log.first_line_time = record.time;
  };
  while (!log.first_line_time && head.size() < kFirstLineSearchBytes) {
    const std::optional<size_t> n = reader.Read(buffer);
    if (!n) return false;
    if (*n == 0) {
      splitter.Flush(on_line);
      break;
    }
    head.append(buffer.data(), *n);
    splitter.Feed(std::string_view(buffer.data(), *n), on_line);
  }
  return true;
}

std::string TimeOrUnknown(const std::optional<TimePoint>& t) {
  return t ? FormatRfc3339(*t) : std::string("no time found");
}

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
  // No HTTP API, so no verdict queries: the engine need not keep their windows.
  Pipeline pipeline(config, *registry, nullptr, AlertEngine::VerdictWindows::kSkipped);
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

  if (std::count(options.logs.begin(), options.logs.end(), LogReader::kStdin) > 1) {
    LogError("standard input (-) can be read only once; it is named more than once");
    return 2;
  }
  std::vector<char> buffer(kReadBlock);
  const std::span<char> block(buffer.data(), buffer.size());
  // The pipeline compiled the same formats above: this cannot throw.
  const std::vector<LogFormat> formats = Pipeline::CompileFormats(config);
  const PathLabeler labeler(config.path_label);

  // Where each log starts, before anything is replayed: an unreadable log fails at once.
  std::vector<ReplayLog> logs(options.logs.size());
  std::vector<std::optional<TimePoint>> first_line_times;
  LogReader reader;
  for (size_t i = 0; i < logs.size(); ++i) {
    ReplayLog& log = logs[i];
    log.path = options.logs[i];
    ReplaySource source = ReplaySourceOf(config, labeler, log.path);
    log.format = source.format;
    log.source = NewLineSource(std::move(source.values));
    const bool is_stdin = log.path == LogReader::kStdin;
    if (is_stdin) log.reader = std::make_unique<LogReader>();
    LogReader& peek = is_stdin ? *log.reader : reader;
    std::string discarded;
    if (!peek.Open(log.path) || !FindFirstLineTime(peek, formats[log.format], block, log,
                                                   is_stdin ? log.head : discarded)) {
      LogError(peek.error());
      return 1;
    }
    first_line_times.push_back(log.first_line_time);
  }
  std::vector<size_t> order(logs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (options.order != "given") order = OrderByFirstLine(first_line_times);
  if (!std::is_sorted(order.begin(), order.end())) {
    std::cerr << "reading the logs by the time of their first line (--order given keeps the "
                 "command line's order):\n";
    for (size_t i : order) {
      std::cerr << "  " << logs[i].path << "  " << TimeOrUnknown(logs[i].first_line_time) << '\n';
    }
  }
  for (const ReplayLog& log : logs) {
    if (!log.first_line_time) {
      LogWarn(options.order == "given"
                  ? "no line of this log near its start matches log.format"
                  : "no line of this log near its start matches log.format; it is read after "
                    "the logs whose time is known",
              {{"log", log.path}});
    }
  }

  auto started = std::chrono::steady_clock::now();
  const ReplayLog* previous = nullptr;
  for (size_t index : order) {
    const ReplayLog& log = logs[index];
    if (previous != nullptr && log.first_line_time && pipeline.lines_parsed() > 0 &&
        *log.first_line_time + kOverlapTolerance < pipeline.last_record_time()) {
      LogWarn(
          "this log starts before the end of the log read before it: replay does not "
          "interleave the lines of two logs and its clock does not go back, so the rules see "
          "these lines out of their time (the rotations of one log do not overlap like this)",
          {{"log", log.path},
           {"starts", FormatRfc3339(*log.first_line_time)},
           {"previous_log", previous->path},
           {"previous_ends", FormatRfc3339(pipeline.last_record_time())}});
    }
    previous = &log;
    LogReader& in = log.reader ? *log.reader : reader;
    if (!log.reader && !in.Open(log.path)) {
      LogError(in.error());
      return 1;
    }
    const uint64_t lines_before = pipeline.lines_parsed() + pipeline.lines_malformed();
    pipeline.UseFormat(log.format);
    pipeline.SetSource(&log.source);
    LineSplitter splitter;
    auto on_line = [&](std::string_view line) { pipeline.ProcessLine(line); };
    auto on_overlong = [&]() { pipeline.CountOverlong(1); };
    splitter.Feed(log.head, on_line, on_overlong);
    pipeline.DeliverPending();
    while (true) {
      const std::optional<size_t> n = in.Read(block);
      if (!n) {
        const uint64_t lines = pipeline.lines_parsed() + pipeline.lines_malformed() - lines_before;
        std::string message = in.error() + "; replay stopped: " + std::to_string(lines) +
                              " lines of it were replayed";
        if (splitter.pending_bytes() > 0) {
          message += " (not the incomplete line after them, " +
                     std::to_string(splitter.pending_bytes()) + " bytes)";
        }
        if (&log != &logs[order.back()]) message += ", the logs after it were not read";
        LogError(message);
        return 1;
      }
      if (*n == 0) break;
      splitter.Feed(std::string_view(buffer.data(), *n), on_line, on_overlong);
      pipeline.DeliverPending();
    }
    splitter.Flush(on_line);
    bytes += in.log_bytes();  // standard input's head included: its reader read it
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
