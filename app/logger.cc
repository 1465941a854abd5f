#include "app/logger.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "core/log_record.h"
#include "exporter/hex.h"

namespace poolwatch {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

// Length of the valid UTF-8 sequence at the start of `s` that is safe to show (no C1 control:
// U+0080..U+009F include CSI, which some terminals obey like ESC [), or 0.
size_t ShowableUtf8Length(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char lead = byte(0);
  if (lead >= 0xC2 && lead <= 0xDF && continuation(1)) {
    return (lead == 0xC2 && byte(1) <= 0x9F) ? 0 : 2;
  }
  if (lead >= 0xE0 && lead <= 0xEF && continuation(1) && continuation(2)) {
    const unsigned char second = byte(1);
    if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
    if (lead == 0xED && second > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4 && continuation(1) && continuation(2) && continuation(3)) {
    const unsigned char second = byte(1);
    if (lead == 0xF0 && second < 0x90) return 0;  // overlong
    if (lead == 0xF4 && second > 0x8F) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

std::string Quoted(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (size_t i = 0; i < value.size();) {
    const auto b = static_cast<unsigned char>(value[i]);
    if (b >= 0x80) {
      if (size_t n = ShowableUtf8Length(value.substr(i)); n > 0) {
        out.append(value.substr(i, n));
        i += n;
        continue;
      }
    }
    switch (b) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (b < 0x20 || b >= 0x7F) {
          out += "\\x";
          AppendHexByte(out, b);
        } else {
          out += static_cast<char>(b);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}
}  // namespace

std::string LogfmtValue(std::string_view value) {
  return NeedsQuotes(value) ? Quoted(value) : std::string(value);
}

std::string FormatLogLine(std::string_view timestamp, LogLevel level, std::string_view message,
                          std::initializer_list<LogField> fields) {
  std::string line = "ts=" + LogfmtValue(timestamp) + " level=" + std::string(LogLevelName(level)) +
                     " msg=" + Quoted(message);  // quoted even as one word, as readers expect
  for (const LogField& field : fields) {
    line += ' ';
    line += field.key;
    line += '=';
    line += LogfmtValue(field.value);
  }
  line += '\n';
  return line;
}

void Logger::SetLevel(LogLevel level) { g_level = static_cast<int>(level); }

bool Logger::Enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void Logger::Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!Enabled(level)) return;
  const std::string line = FormatLogLine(FormatRfc3339(Clock::now()), level, message, fields);
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

}  // namespace poolwatch
