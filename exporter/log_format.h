#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

// nginx's `log_format ... escape=` parameter: how nginx escaped variable values.
enum class LogEscape { kDefault, kJson, kNone };

// The project's format (also in nginx/log_format.conf). A contract: change both together.
inline constexpr std::string_view kDefaultLogFormat =
    R"($remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent )"
    R"("$http_referer" "$http_user_agent" pool=$upstream_http_x_app_pool )"
    R"(release=$upstream_http_x_release_id upstream_status=$upstream_status )"
    R"(upstream_addr=$upstream_addr request_time=$request_time )"
    R"(upstream_response_time=$upstream_response_time)";

// Why a line was skipped; the names are the `reason` label of
// poolwatch_log_malformed_lines_total.
enum class MalformedReason : uint8_t {
  kEmpty,
  kBinary,
  kTooLong,
  kFormatMismatch,  // the literal text between variables is not where the format puts it
  kTruncated,       // shorter than the format's literal text alone: a cut-off line
  kBadStatus,
  kBadTime,
  kBadNumber,
  kCount_,
};
std::string_view MalformedReasonName(MalformedReason reason);

// What a configured log format says: the format string nginx builds from the directive, and
// the directive's escape= when it has one.
struct LogFormatSpec {
  std::string format;
  std::optional<LogEscape> escape;
};

// Reads a log format as a user pastes it. Text that starts with `log_format`, `escape=` or a
// quote is nginx directive syntax: optional `log_format NAME`, optional
// `escape=default|json|none`, then one or more single- or double-quoted parts that are
// concatenated (with nginx's backslash rules inside quotes), optional `;`; `log_format NAME`
// without escape= means escape=default, as in nginx. Any other text is the bare format string,
// taken as it is. Returns nullopt with `error` for unbalanced quotes, unquoted parts or text
// after the `;`.
std::optional<LogFormatSpec> ParseLogFormatText(std::string_view text, std::string* error);

// Names of the nginx variables that carry the pool and release headers.
struct LogFormatOptions {
  LogEscape escape = LogEscape::kDefault;
  std::string pool_variable = "upstream_http_x_app_pool";
  std::string release_variable = "upstream_http_x_release_id";
};

// A log_format string compiled once into a field extractor. The literal text between
// `$variables` anchors the fields, so no regex runs per line and fields are views into it.
// Immutable after Compile(): safe to share between threads.
class LogFormat {
 public:
  // Returns the compiled format, or nullopt with `error` saying what is wrong (for example
  // which required variables are missing).
  static std::optional<LogFormat> Compile(std::string_view format, const LogFormatOptions& options,
                                          std::string* error);

  // Fills `out` (cleared first) from one line without its newline. Returns the reason when the
  // line cannot be used; `out` is then unspecified. Upstream attempts get no pool here: see
  // PoolResolver.
  std::optional<MalformedReason> Parse(std::string_view line, LogRecord& out) const;

  // Variables found in the format that poolwatch reads (for diagnostics).
  std::vector<std::string> UsedVariables() const;

  enum class Field : uint8_t {
    kIgnored,
    kStatus,
    kPool,
    kRelease,
    kUpstreamStatus,
    kUpstreamAddr,
    kRequestTime,
    kUpstreamResponseTime,
    kTimeLocal,
    kTimeIso8601,
    kMsec,
  };

 private:
  struct Segment {
    Field field;
    std::string name;     // the variable, for diagnostics
    std::string literal;  // text that follows the variable up to the next one; may be empty at end
  };

  std::string prefix_;  // literal text before the first variable
  std::vector<Segment> segments_;
  size_t min_line_length_ = 0;  // sum of all literal text
  LogEscape escape_ = LogEscape::kDefault;
};

// Splits nginx's multi-value upstream fields ("a, b : c") into `out` (appended). A helper of
// Parse, public for tests.
void SplitUpstreamList(std::string_view value, std::vector<std::string_view>& out);

// Timestamp parsers for $time_local ("26/Nov/2026:07:06:51 +0000"), $time_iso8601
// ("2026-11-26T07:06:51+00:00") and $msec ("1764140811.123").
std::optional<TimePoint> ParseTimeLocal(std::string_view text);
std::optional<TimePoint> ParseTimeIso8601(std::string_view text);
std::optional<TimePoint> ParseMsec(std::string_view text);

}  // namespace poolwatch
