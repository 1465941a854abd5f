#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/text_serializer.h>

#include "app/daemon.h"
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
  TimePoint evaluated_at{};

  auto evaluate = [&](TimePoint now) {
    Evaluation evaluation = pipeline.engine().Evaluate(now);
    for (const Notification& n : evaluation.notifications) {
      // Held back from people by the cooldown; only an Alertmanager would have been told.
      if (n.state_only) continue;
      PrintNotification(n, std::cout);
      ++notifications;
    }
    evaluated_at = now;
  };

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
    // The log's own clock drives the rules: evaluate whenever log time moves on, as the
    // daemon's ticks would have.
    auto on_line = [&](std::string_view line) {
      pipeline.ProcessLine(line);
      if (pipeline.last_record_time() > evaluated_at) evaluate(pipeline.last_record_time());
    };
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
    }
    splitter.Flush(on_line);
    close(fd);
  }
  evaluate(std::max(evaluated_at, pipeline.last_record_time()));
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
            << " malformed) from " << options.logs.size() << " file(s) in " << seconds
            << " s; " << notifications << " notification(s) would have been sent\n";
  return 0;
}

}  // namespace poolwatch
