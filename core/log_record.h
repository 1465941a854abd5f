#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poolwatch {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// One upstream server nginx tried for a request, taken from the
// comma-separated $upstream_addr / $upstream_status / $upstream_response_time.
struct UpstreamAttempt {
  std::string_view address;   // "127.0.0.1:8081", or the group name when no server was live
  int status = 0;             // 0 when nginx logged "-" (no response, e.g. connect failure)
  double response_time = -1;  // seconds; negative when nginx logged "-"
  std::string_view pool;      // filled in by PoolResolver; empty until then
};

// Where a line came from, as the values of the source labels: log.path_label's value for a
// file's lines (later also syslog's tag and host for a datagram's), in the order
// SourceLabelNames(config) names them. The reader sets it for every line of a file or datagram;
// the parser never does. `id` (NewLineSourceId()) differs between any two sources alive at once,
// so a consumer may remember what it worked out for the previous line's source by id.
struct LineSource {
  std::vector<std::string> values;
  uint64_t id = 0;
};

// A LineSource::id not given before in this process; never 0.
uint64_t NewLineSourceId();

// A source with these values and an id of its own.
inline LineSource NewLineSource(std::vector<std::string> values) {
  return LineSource{std::move(values), NewLineSourceId()};
}

// Appends `value` to a key of several values, its length first, so that no bytes of one value
// can pass for the boundary between two (the metrics' and syslog's tables of sources).
void AppendSourceKey(std::string& key, std::string_view value);

// One access-log line. The string views point into the line buffer (or into
// PoolResolver's storage) and are valid only until the next line is parsed:
// consumers that keep anything must copy it.
struct LogRecord {
  TimePoint time{};
  int status = 0;            // status the client received
  std::string_view pool;     // $upstream_http_x_app_pool; "none" when nginx answered itself
  std::string_view release;  // $upstream_http_x_release_id; "" when absent
  double request_time = -1;  // seconds; negative when absent
  std::vector<UpstreamAttempt> attempts;  // in the order nginx tried them; reused across lines
  // Where `pool` and `release` point when their values held escapes that the parser decoded;
  // kept across lines so decoding does not allocate in the steady state.
  std::string pool_storage, release_storage;
  // Set by the owner of the parser for the lines of one file or datagram, not by Clear(); null
  // when there are no source labels or the line has none.
  const LineSource* source = nullptr;

  void Clear() {
    time = TimePoint{};
    status = 0;
    pool = {};
    release = {};
    request_time = -1;
    attempts.clear();
  }
};

// Pool value for a request nginx answered without any upstream.
inline constexpr std::string_view kPoolNone = "none";
// Pool value for an attempt whose address poolwatch has not learned yet.
inline constexpr std::string_view kPoolUnknown = "unknown";

// RFC 3339 UTC with seconds, e.g. 2026-11-26T07:06:51Z.
std::string FormatRfc3339(TimePoint t);

// Whole seconds, negative as 0: "45s", "2m 5s", "1h 0m 5s" with `gap` " " (messages), "2m5s"
// with "" (tables).
std::string FormatDuration(Clock::duration d, std::string_view gap = " ");

}  // namespace poolwatch
