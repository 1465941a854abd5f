#pragma once

#include <string>
#include <vector>

#include "bench/micro_lines.h"
#include "exporter/log_format.h"
#include "exporter/pool_resolver.h"

namespace poolwatch::bench {

// The sample lines parsed and resolved once, for benchmarks of what comes after the parser.
// Views point into kSampleLines and into `resolver`, which must outlive the records.
inline std::vector<LogRecord> SampleRecords(PoolResolver& resolver) {
  std::string error;
  const LogFormat format = *LogFormat::Compile(kDefaultLogFormat, LogFormatOptions{}, &error);
  std::vector<LogRecord> records(kSampleLines.size());
  for (size_t i = 0; i < kSampleLines.size(); ++i) {
    format.Parse(kSampleLines[i], records[i]);
    resolver.Resolve(records[i]);
  }
  return records;
}

}  // namespace poolwatch::bench
