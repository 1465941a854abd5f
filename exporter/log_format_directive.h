#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace poolwatch {

// nginx's `log_format ... escape=` parameter: how nginx escaped variable values.
enum class LogEscape { kDefault, kJson, kNone };

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

}  // namespace poolwatch
