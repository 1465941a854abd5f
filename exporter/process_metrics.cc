#include "exporter/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <string>

namespace poolwatch {
namespace {

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// Splits at runs of spaces; returns the next word and advances `text` past it.
std::string_view NextWord(std::string_view& text) {
  const size_t start = text.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    text = {};
    return {};
  }
  text.remove_prefix(start);
  const size_t end = text.find(' ');
  const std::string_view word = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end);
  return word;
}

// The whole of a small file (/proc files report size 0, so read until the end).
std::optional<std::string> ReadProcFile(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string content;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) content.append(buffer, n);
  ::close(fd);
  if (n < 0) return std::nullopt;
  return content;
}

// Entries of /proc/self/fd, the descriptor that reads the directory included (client_golang
// counts it too).
std::optional<double> CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

prometheus::MetricFamily OneSampleFamily(std::string name, std::string help,
                                         prometheus::MetricType type, double value) {
  prometheus::MetricFamily family{std::move(name), std::move(help), type, {}};
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return family;
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view stat) {
  const size_t name_end = stat.rfind(')');
  if (name_end == std::string_view::npos || stat.find('(') > name_end) return std::nullopt;
  std::string_view rest = stat.substr(name_end + 1);
  // Field 3 (state) is the first word after the name; the ones wanted end at 24.
  std::optional<uint64_t> fields[25];
  for (int field = 3; field <= 24; ++field) {
    const std::string_view word = NextWord(rest);
    if (word.empty()) return std::nullopt;
    if (field >= 14) fields[field] = ParseUnsigned(word);
  }
  for (int field : {14, 15, 22, 23, 24}) {
    if (!fields[field]) return std::nullopt;
  }
  return ProcStat{*fields[14], *fields[15], *fields[22], *fields[23], *fields[24]};
}

std::optional<uint64_t> ParseBootTime(std::string_view proc_stat) {
  while (!proc_stat.empty()) {
    const size_t end = proc_stat.find('\n');
    std::string_view line = proc_stat.substr(0, end);
    proc_stat.remove_prefix(end == std::string_view::npos ? proc_stat.size() : end + 1);
    if (NextWord(line) == "btime") return ParseUnsigned(NextWord(line));
  }
  return std::nullopt;
}

std::optional<double> ParseMaxOpenFiles(std::string_view limits) {
  // "Max open files            1024                 1048576              files"
  constexpr std::string_view kName = "Max open files";
  while (!limits.empty()) {
    const size_t end = limits.find('\n');
    std::string_view line = limits.substr(0, end);
    limits.remove_prefix(end == std::string_view::npos ? limits.size() : end + 1);
    if (line.substr(0, kName.size()) != kName) continue;
    line.remove_prefix(kName.size());
    const std::string_view soft = NextWord(line);
    if (soft == "unlimited") return 18446744073709551615.0;
    const std::optional<uint64_t> value = ParseUnsigned(soft);
    if (!value) return std::nullopt;
    return static_cast<double>(*value);
  }
  return std::nullopt;
}

ProcessSample ToProcessSample(const std::optional<ProcStat>& stat,
                              std::optional<uint64_t> boot_time, std::optional<double> max_fds,
                              std::optional<double> open_fds, long ticks_per_second,
                              long page_size) {
  ProcessSample sample;
  sample.open_fds = open_fds;
  sample.max_fds = max_fds;
  if (!stat || ticks_per_second <= 0) return sample;
  const double ticks = static_cast<double>(ticks_per_second);
  sample.cpu_seconds = static_cast<double>(stat->user_ticks + stat->system_ticks) / ticks;
  sample.virtual_memory_bytes = static_cast<double>(stat->virtual_bytes);
  if (page_size > 0) {
    sample.resident_memory_bytes = static_cast<double>(stat->resident_pages) * page_size;
  }
  if (boot_time) {
    sample.start_time_seconds =
        static_cast<double>(*boot_time) + static_cast<double>(stat->start_ticks) / ticks;
  }
  return sample;
}

std::vector<prometheus::MetricFamily> ProcessFamilies(const ProcessSample& sample) {
  using prometheus::MetricType;
  struct Entry {
    const char* name;
    const char* help;
    MetricType type;
    const std::optional<double>& value;
  };
  const Entry entries[] = {
      {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
       MetricType::Counter, sample.cpu_seconds},
      {"process_open_fds", "Number of open file descriptors.", MetricType::Gauge, sample.open_fds},
      {"process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
       sample.max_fds},
      {"process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
       sample.virtual_memory_bytes},
      {"process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
       sample.resident_memory_bytes},
      {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
       MetricType::Gauge, sample.start_time_seconds},
  };
  std::vector<prometheus::MetricFamily> families;
  for (const Entry& entry : entries) {
    if (entry.value)
      families.push_back(OneSampleFamily(entry.name, entry.help, entry.type, *entry.value));
  }
  return families;
}

ProcessCollector::ProcessCollector() {
  const std::optional<std::string> system_stat = ReadProcFile("/proc/stat");
  if (system_stat) boot_time_ = ParseBootTime(*system_stat);
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  const std::optional<std::string> stat = ReadProcFile("/proc/self/stat");
  const std::optional<std::string> limits = ReadProcFile("/proc/self/limits");
  return ProcessFamilies(ToProcessSample(stat ? ParseProcStat(*stat) : std::nullopt, boot_time_,
                                         limits ? ParseMaxOpenFiles(*limits) : std::nullopt,
                                         CountOpenFds(), ::sysconf(_SC_CLK_TCK),
                                         ::sysconf(_SC_PAGESIZE)));
}

}  // namespace poolwatch
