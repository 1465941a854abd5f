#pragma once

#include <optional>
#include <span>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

// The order replay reads its logs in, as indexes into `first_line_times` (each log's first
// parsed line; nullopt when none was found near its start). The rules judge lines in the
// order they come with a clock that never goes back, so the logs must be read oldest first,
// and the order a shell glob gives (access.log.10.gz before access.log.2.gz, and the newest
// rotation with the lowest number) rarely is. Sorted by that time; logs starting at the same
// time keep the order given; logs without a time come last, in the order given.
std::vector<size_t> OrderByFirstLine(std::span<const std::optional<TimePoint>> first_line_times);

}  // namespace poolwatch
