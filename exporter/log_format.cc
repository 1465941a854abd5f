#include "exporter/log_format.h"

#include <charconv>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "exporter/log_time.h"

namespace poolwatch {
namespace {

using Field = LogFormat::Field;

bool IsVariableChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

Field FieldFor(std::string_view name, const LogFormatOptions& options) {
  if (name == "status") return Field::kStatus;
  if (name == options.pool_variable) return Field::kPool;
  if (name == options.release_variable) return Field::kRelease;
  if (name == "upstream_status") return Field::kUpstreamStatus;
  if (name == "upstream_addr") return Field::kUpstreamAddr;
  if (name == "request_time") return Field::kRequestTime;
  if (name == "upstream_response_time") return Field::kUpstreamResponseTime;
  if (name == "time_local") return Field::kTimeLocal;
  if (name == "time_iso8601") return Field::kTimeIso8601;
  if (name == "msec") return Field::kMsec;
  return Field::kIgnored;
}

// nginx writes "-" for a variable with no value.
bool IsAbsent(std::string_view value) { return value.empty() || value == "-"; }

// The first `c` in [p, end), or nullptr. Fields are short (a few to a couple of hundred bytes),
// so a call to memchr costs more than the search: compare 16 bytes at a time inline.
inline const char* FindChar(const char* p, const char* end, char c) {
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(c);
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, needle));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    if (*p == c) return p;
  }
  return nullptr;
}

template <typename T>
inline T Load(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// a[0, n) == b[0, n) for the short literals of a log format, a word at a time; the last word
// overlaps the one before rather than reading past the end.
inline bool EqualBytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    for (; n > 8; a += 8, b += 8, n -= 8) {
      if (Load<uint64_t>(a) != Load<uint64_t>(b)) return false;
    }
    return Load<uint64_t>(a + n - 8) == Load<uint64_t>(b + n - 8);
  }
  if (n >= 4) {
    return Load<uint32_t>(a) == Load<uint32_t>(b) &&
           Load<uint32_t>(a + n - 4) == Load<uint32_t>(b + n - 4);
  }
  if (n >= 2) {
    return Load<uint16_t>(a) == Load<uint16_t>(b) &&
           Load<uint16_t>(a + n - 2) == Load<uint16_t>(b + n - 2);
  }
  return n == 0 || *a == *b;
}

// Finds `literal` at or after `from`, skipping a quote that is escaped with a backslash
// (escape=json, or setups that write \" instead of nginx's default \x22) unless escape=none,
// where nginx writes values as they are and a backslash escapes nothing. The hot path of
// the parser: std::string_view::find compares byte by byte and calls memcmp at every
// occurrence of the first character, so this searches for it with FindChar and compares the
// (short) rest inline.
size_t FindLiteral(std::string_view line, size_t from, std::string_view literal,
                   bool backslash_escapes) {
  const char* const begin = line.data();
  const size_t n = literal.size();
  if (from > line.size() || line.size() - from < n) return std::string_view::npos;
  const char* p = begin + from;
  const char* const last = begin + line.size() - n + 1;  // past the last possible start
  const char first = literal.front();
  while ((p = FindChar(p, last, first)) != nullptr) {
    if (EqualBytes(p + 1, literal.data() + 1, n - 1)) {
      if (first != '"' || !backslash_escapes) return static_cast<size_t>(p - begin);
      size_t backslashes = 0;
      for (const char* q = p; q > begin && q[-1] == '\\'; --q) ++backslashes;
      if (backslashes % 2 == 0) return static_cast<size_t>(p - begin);
    }
    ++p;
  }
  return std::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of a JSON "\u" escape (four hex digits) at value[i], or -1.
int32_t JsonCodeUnit(std::string_view value, size_t i) {
  if (i + 6 > value.size() || value[i] != '\\' || value[i + 1] != 'u') return -1;
  int32_t unit = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const int digit = HexValue(value[k]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A value as the application sent it, undoing nginx's escaping, so a label says `a"b` whichever
// escape= wrote the log. Most values hold no backslash and are returned as they are; the others
// are decoded into `storage`, whose capacity is reused from line to line. A backslash that
// starts no escape of the mode is kept.
std::string_view Unescaped(std::string_view value, LogEscape escape, std::string& storage) {
  if (escape == LogEscape::kNone ||
      FindChar(value.data(), value.data() + value.size(), '\\') == nullptr) {
    return value;
  }
  storage.clear();
  const size_t n = value.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = value[i];
    if (c != '\\' || i + 1 == n) {
      storage += c;
      continue;
    }
    const char next = value[i + 1];
    if (escape == LogEscape::kDefault) {
      // nginx writes quotes, backslashes and bytes outside printable ASCII as \xHH.
      if (next == 'x' && i + 3 < n && HexValue(value[i + 2]) >= 0 && HexValue(value[i + 3]) >= 0) {
        storage += static_cast<char>(HexValue(value[i + 2]) * 16 + HexValue(value[i + 3]));
        i += 3;
      } else {
        storage += c;
      }
      continue;
    }
    switch (next) {
      case '"':
      case '\\':
      case '/':
        storage += next;
        ++i;
        continue;
      case 'b':
        storage += '\b';
        ++i;
        continue;
      case 'f':
        storage += '\f';
        ++i;
        continue;
      case 'n':
        storage += '\n';
        ++i;
        continue;
      case 'r':
        storage += '\r';
        ++i;
        continue;
      case 't':
        storage += '\t';
        ++i;
        continue;
      default:
        break;
    }
    const int32_t unit = JsonCodeUnit(value, i);
    if (unit < 0) {
      storage += c;
      continue;
    }
    i += 5;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int32_t low = JsonCodeUnit(value, i + 1);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        AppendUtf8(0x10000 + ((static_cast<uint32_t>(unit) - 0xD800) << 10) +
                       (static_cast<uint32_t>(low) - 0xDC00),
                   storage);
        i += 6;
        continue;
      }
    }
    // A lone surrogate has no UTF-8 form.
    AppendUtf8(unit >= 0xD800 && unit <= 0xDFFF ? 0xFFFD : static_cast<uint32_t>(unit), storage);
  }
  return storage;
}

template <typename F>
void ForEachListItem(std::string_view value, F&& on_item) {
  // nginx separates servers tried in turn with ", " and upstream groups reached through an
  // internal redirect with " : "; for attribution both are just the next attempt. One pass:
  // the first separator of either kind ends the item.
  const size_t n = value.size();
  size_t start = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = value[i];
    if (c == ',' && i + 1 < n && value[i + 1] == ' ') {
      on_item(value.substr(start, i - start));
      start = i + 2;
      i = start - 1;
    } else if (c == ' ' && i + 2 < n && value[i + 1] == ':' && value[i + 2] == ' ') {
      on_item(value.substr(start, i - start));
      start = i + 3;
      i = start - 1;
    }
  }
  on_item(value.substr(start));
}

// nginx writes times as seconds with milliseconds ("0.012"). Such a value is an integer below
// 2^53 divided by a power of ten up to 10^22, both exact doubles, so one IEEE division rounds it
// correctly: the same double std::from_chars returns (Clinger's fast path). Anything else
// (exponents, many digits, "inf") goes to std::from_chars.
inline bool FastDecimal(std::string_view text, double& out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
  if (text.empty() || text.size() > 15) return false;
  uint64_t mantissa = 0;
  size_t i = 0, digits = 0, decimals = 0;
  bool dot = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
      ++digits;
      if (dot) ++decimals;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  // ".5" and "5." are left to from_chars, whatever it makes of them.
  if (digits == 0 || text.front() == '.' || text.back() == '.' || decimals > 10) return false;
  out = static_cast<double>(mantissa) / kPow10[decimals];
  return true;
}

bool ParseSeconds(std::string_view text, double& out) {
  if (IsAbsent(text)) {
    out = -1;
    return true;
  }
  if (FastDecimal(text, out)) return true;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
}

// nginx prints statuses with %03ui, so any three digits are a status it logged: 000 when the
// client went away before a response, or a code outside 100-599 an upstream sent.
inline bool ParseStatus(std::string_view text, int& out) {
  if (text.size() != 3 || text[0] < '0' || text[0] > '9' || text[1] < '0' || text[1] > '9' ||
      text[2] < '0' || text[2] > '9') {
    return false;
  }
  out = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
  return true;
}

bool ParseUpstreamStatus(std::string_view text, int& out) {
  if (IsAbsent(text)) {
    out = 0;
    return true;
  }
  return ParseStatus(text, out);
}

}  // namespace

std::string_view MalformedReasonName(MalformedReason reason) {
  switch (reason) {
    case MalformedReason::kEmpty:
      return "empty";
    case MalformedReason::kBinary:
      return "binary";
    case MalformedReason::kTooLong:
      return "too_long";
    case MalformedReason::kFormatMismatch:
      return "format_mismatch";
    case MalformedReason::kTruncated:
      return "truncated";
    case MalformedReason::kBadStatus:
      return "bad_status";
    case MalformedReason::kBadTime:
      return "bad_time";
    case MalformedReason::kBadNumber:
      return "bad_number";
    case MalformedReason::kCount_:
      break;
  }
  return "unknown";
}

void SplitUpstreamList(std::string_view value, std::vector<std::string_view>& out) {
  ForEachListItem(value, [&](std::string_view item) { out.push_back(item); });
}

std::optional<LogFormat> LogFormat::Compile(std::string_view format,
                                            const LogFormatOptions& options, std::string* error) {
  LogFormat compiled;
  compiled.escape_ = options.escape;
  std::string literal;
  bool have_variable = false;
  std::vector<std::string> adjacent;

  size_t i = 0;
  while (i < format.size()) {
    char c = format[i];
    if (c != '$') {
      literal += c;
      ++i;
      continue;
    }
    std::string name;
    if (i + 1 < format.size() && format[i + 1] == '{') {
      size_t close = format.find('}', i + 2);
      if (close == std::string_view::npos) {
        *error = "log format: unterminated ${ at offset " + std::to_string(i);
        return std::nullopt;
      }
      name = std::string(format.substr(i + 2, close - i - 2));
      i = close + 1;
    } else {
      size_t end = i + 1;
      while (end < format.size() && IsVariableChar(format[end])) ++end;
      name = std::string(format.substr(i + 1, end - i - 1));
      i = end;
    }
    if (name.empty()) {
      literal += '$';
      continue;
    }
    if (!have_variable) {
      compiled.prefix_ = literal;
    } else {
      if (literal.empty()) adjacent.push_back("$" + compiled.segments_.back().name + "$" + name);
      compiled.segments_.back().literal = literal;
    }
    compiled.min_line_length_ += literal.size();
    literal.clear();
    compiled.segments_.push_back({FieldFor(name, options), name, ""});
    have_variable = true;
  }
  if (!have_variable) {
    *error = "log format has no $variables";
    return std::nullopt;
  }
  compiled.segments_.back().literal = literal;
  compiled.min_line_length_ += literal.size();

  if (!adjacent.empty()) {
    *error = "log format: variables " + adjacent.front() +
             " follow each other with no text between them, so their values cannot be told apart";
    return std::nullopt;
  }

  auto has = [&](Field f) {
    for (const auto& s : compiled.segments_) {
      if (s.field == f) return true;
    }
    return false;
  };
  std::string missing;
  auto require = [&](bool present, std::string_view what) {
    if (present) return;
    if (!missing.empty()) missing += ", ";
    missing += what;
  };
  require(has(Field::kStatus), "$status");
  require(has(Field::kTimeLocal) || has(Field::kTimeIso8601) || has(Field::kMsec),
          "a time ($time_local, $time_iso8601 or $msec)");
  require(has(Field::kPool), "$" + options.pool_variable);
  require(has(Field::kUpstreamAddr), "$upstream_addr");
  require(has(Field::kUpstreamStatus), "$upstream_status");
  if (!missing.empty()) {
    *error = "log format lacks " + missing + ", which poolwatch needs";
    return std::nullopt;
  }
  return compiled;
}

std::vector<std::string> LogFormat::UsedVariables() const {
  std::vector<std::string> names;
  for (const auto& s : segments_) {
    if (s.field != Field::kIgnored) names.push_back(s.name);
  }
  return names;
}

std::optional<MalformedReason> LogFormat::Parse(std::string_view line, LogRecord& out) const {
  out.Clear();
  if (line.empty()) return MalformedReason::kEmpty;
  if (std::memchr(line.data(), '\0', line.size()) != nullptr) return MalformedReason::kBinary;
  if (line.size() < min_line_length_) return MalformedReason::kTruncated;
  if (line.compare(0, prefix_.size(), prefix_) != 0) return MalformedReason::kFormatMismatch;

  std::string_view upstream_addr, upstream_status, upstream_time;
  size_t pos = prefix_.size();
  for (const Segment& segment : segments_) {
    std::string_view value;
    if (segment.literal.empty()) {
      value = line.substr(pos);
      pos = line.size();
    } else {
      size_t end = FindLiteral(line, pos, segment.literal, escape_ != LogEscape::kNone);
      if (end == std::string_view::npos) return MalformedReason::kFormatMismatch;
      value = line.substr(pos, end - pos);
      pos = end + segment.literal.size();
    }
    switch (segment.field) {
      case Field::kIgnored:
        break;
      case Field::kStatus:
        if (!ParseStatus(value, out.status)) return MalformedReason::kBadStatus;
        break;
      case Field::kPool:
        out.pool =
            IsAbsent(value) ? std::string_view() : Unescaped(value, escape_, out.pool_storage);
        break;
      case Field::kRelease:
        out.release =
            IsAbsent(value) ? std::string_view() : Unescaped(value, escape_, out.release_storage);
        break;
      case Field::kUpstreamStatus:
        upstream_status = value;
        break;
      case Field::kUpstreamAddr:
        upstream_addr = value;
        break;
      case Field::kRequestTime:
        if (!ParseSeconds(value, out.request_time)) return MalformedReason::kBadNumber;
        break;
      case Field::kUpstreamResponseTime:
        upstream_time = value;
        break;
      case Field::kTimeLocal:
      case Field::kTimeIso8601:
      case Field::kMsec: {
        auto t = segment.field == Field::kTimeLocal     ? ParseTimeLocalCached(value)
                 : segment.field == Field::kTimeIso8601 ? ParseTimeIso8601(value)
                                                        : ParseMsec(value);
        if (!t) return MalformedReason::kBadTime;
        out.time = *t;
        break;
      }
    }
  }
  if (pos != line.size()) return MalformedReason::kFormatMismatch;

  if (!IsAbsent(upstream_addr)) {
    ForEachListItem(upstream_addr, [&](std::string_view address) {
      out.attempts.push_back(UpstreamAttempt{address, 0, -1, {}});
    });
  }
  // The three lists line up item by item; nginx writes "-" where an attempt has no value.
  size_t index = 0;
  bool ok = true;
  if (!IsAbsent(upstream_status)) {
    ForEachListItem(upstream_status, [&](std::string_view item) {
      if (index >= out.attempts.size()) out.attempts.push_back(UpstreamAttempt{"-", 0, -1, {}});
      ok = ok && ParseUpstreamStatus(item, out.attempts[index++].status);
    });
  }
  index = 0;
  if (!IsAbsent(upstream_time)) {
    ForEachListItem(upstream_time, [&](std::string_view item) {
      if (index < out.attempts.size()) {
        ok = ok && ParseSeconds(item, out.attempts[index++].response_time);
      }
    });
  }
  if (!ok) return MalformedReason::kBadNumber;
  return std::nullopt;
}

}  // namespace poolwatch
