#pragma once

#include <optional>
#include <string_view>

#include "core/log_record.h"

namespace poolwatch {

// Timestamp parsers for $time_local ("26/Nov/2026:07:06:51 +0000"), $time_iso8601
// ("2026-11-26T07:06:51+00:00") and $msec ("1764140811.123").
std::optional<TimePoint> ParseTimeLocal(std::string_view text);
std::optional<TimePoint> ParseTimeIso8601(std::string_view text);
std::optional<TimePoint> ParseMsec(std::string_view text);

// ParseTimeLocal for the hot path: hundreds of consecutive lines share one second, so the last
// text and its value are remembered. Per thread, so a LogFormat that calls it stays immutable
// and shareable.
std::optional<TimePoint> ParseTimeLocalCached(std::string_view text);

}  // namespace poolwatch
