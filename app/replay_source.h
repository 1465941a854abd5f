#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "exporter/path_label.h"

namespace poolwatch {

// What replay needs to read one log as the daemon read it while it was live: its format
// (log.files) and its source values (log.path_label), so replayed lines are counted and
// grouped under the same labels as the daemon's.
struct ReplaySource {
  size_t format = 0;                // Pipeline::UseFormat()'s index
  std::vector<std::string> values;  // LineSource::values (Pipeline::FileSourceValues())
};

// The path a rotated log had while nginx wrote to it: without a ".gz" ending, then without a
// logrotate number (".1") or date ("-20261126", dateext); the path itself when it has neither.
std::string LiveLogPath(std::string_view path);

// The format and source values of the log at `path` as given to replay. log.files' paths and
// log.path_label's regex name live logs, usually absolute: a log matches when the path as given,
// made absolute, or its live path (LiveLogPath()) does, tried in that order. Standard input
// ("-") has log.format and empty values.
ReplaySource ReplaySourceOf(const Config& config, const PathLabeler& labeler,
                            const std::string& path);

}  // namespace poolwatch
