#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_record.h"
#include "exporter/log_format_directive.h"
// Not needed here: the time parsers were declared in this header before they got their own
// file, and code outside exporter/ still reaches them through it.
#include "exporter/log_time.h"

namespace poolwatch {

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

// Names of the nginx variables that carry the pool and release headers.
struct LogFormatOptions {
  LogEscape escape = LogEscape::kDefault;
  std::string pool_variable = "upstream_http_x_app_pool";
  std::string release_variable = "upstream_http_x_release_id";
  bool operator==(const LogFormatOptions&) const = default;
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

}  // namespace poolwatch
