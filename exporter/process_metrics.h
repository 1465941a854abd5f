#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace poolwatch {

// The fields of /proc/<pid>/stat the process metrics need (proc(5), counted from 1).
struct ProcStat {
  uint64_t user_ticks = 0;      // 14 utime
  uint64_t system_ticks = 0;    // 15 stime
  uint64_t start_ticks = 0;     // 22 starttime, since boot
  uint64_t virtual_bytes = 0;   // 23 vsize
  uint64_t resident_pages = 0;  // 24 rss
};

// Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from its last ')'. None when the text is not such a line.
std::optional<ProcStat> ParseProcStat(std::string_view stat);

// The boot time ("btime", seconds since the epoch) from /proc/stat.
std::optional<uint64_t> ParseBootTime(std::string_view proc_stat);

// The soft limit of "Max open files" from /proc/<pid>/limits; "unlimited" is 2^64 - 1, as
// client_golang reads it.
std::optional<double> ParseMaxOpenFiles(std::string_view limits);

// What the process_* metrics say; a value that could not be read is left out of the exposition.
struct ProcessSample {
  std::optional<double> cpu_seconds;
  std::optional<double> resident_memory_bytes;
  std::optional<double> virtual_memory_bytes;
  std::optional<double> start_time_seconds;
  std::optional<double> open_fds;
  std::optional<double> max_fds;
};

// Combines the parsed files with the system's clock tick rate and page size.
ProcessSample ToProcessSample(const std::optional<ProcStat>& stat,
                              std::optional<uint64_t> boot_time, std::optional<double> max_fds,
                              std::optional<double> open_fds, long ticks_per_second,
                              long page_size);

// process_cpu_seconds_total (counter), process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds and
// process_max_fds (gauges), with client_golang's names, types and help, without labels.
std::vector<prometheus::MetricFamily> ProcessFamilies(const ProcessSample& sample);

// The standard process metrics of the running process, read from /proc/self at every Collect()
// (prometheus-cpp 1.0.1 has no process collector). Thread-safe: after construction it only
// reads. /proc/stat, a few kilobytes per CPU, is read once for the boot time, which never
// changes.
class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::optional<uint64_t> boot_time_;
};

}  // namespace poolwatch
