#include "exporter/log_time.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace poolwatch {
namespace {

// Days since 1970-01-01 of a civil date (proleptic Gregorian); avoids timegm's locale and
// time-zone machinery on the hot path.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

std::optional<TimePoint> MakeTime(int year, int month, int day, int hour, int minute, int second,
                                  int offset_seconds) {
  // The year bound keeps the time representable: system_clock counts nanoseconds in 64 bits,
  // which ends in 2262 (found by fuzzing: a year like 4150 overflowed, undefined behaviour).
  if (year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  int64_t seconds =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset_seconds;
  return TimePoint(std::chrono::seconds(seconds));
}

// "+0100", "-0530" or, with `colon`, "+01:00".
bool ParseOffset(std::string_view text, size_t pos, bool colon, int& out) {
  if (pos >= text.size()) return false;
  if (colon && text.substr(pos) == "Z") {
    out = 0;
    return true;
  }
  char sign = text[pos];
  if (sign != '+' && sign != '-') return false;
  int hours = 0, minutes = 0;
  if (!Digits(text, pos + 1, 2, hours)) return false;
  size_t minute_pos = pos + 3 + (colon ? 1 : 0);
  if (colon && (pos + 3 >= text.size() || text[pos + 3] != ':')) return false;
  if (!Digits(text, minute_pos, 2, minutes) || minute_pos + 2 != text.size()) return false;
  out = (hours * 3600 + minutes * 60) * (sign == '-' ? -1 : 1);
  return true;
}

}  // namespace

std::optional<TimePoint> ParseTimeLocal(std::string_view text) {
  // 26/Nov/2026:07:06:51 +0000
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 26 || text[2] != '/' || text[6] != '/' || text[11] != ':' || text[14] != ':' ||
      text[17] != ':' || text[20] != ' ') {
    return std::nullopt;
  }
  int day, year, hour, minute, second, offset;
  int month = 0;
  std::string_view month_name = text.substr(3, 3);
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == month_name) month = static_cast<int>(i) + 1;
  }
  if (month == 0 || !Digits(text, 0, 2, day) || !Digits(text, 7, 4, year) ||
      !Digits(text, 12, 2, hour) || !Digits(text, 15, 2, minute) || !Digits(text, 18, 2, second) ||
      !ParseOffset(text, 21, false, offset)) {
    return std::nullopt;
  }
  return MakeTime(year, month, day, hour, minute, second, offset);
}

std::optional<TimePoint> ParseTimeIso8601(std::string_view text) {
  // 2026-11-26T07:06:51+00:00
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  int year, month, day, hour, minute, second, offset;
  if (!Digits(text, 0, 4, year) || !Digits(text, 5, 2, month) || !Digits(text, 8, 2, day) ||
      !Digits(text, 11, 2, hour) || !Digits(text, 14, 2, minute) || !Digits(text, 17, 2, second) ||
      !ParseOffset(text, 19, true, offset)) {
    return std::nullopt;
  }
  return MakeTime(year, month, day, hour, minute, second, offset);
}

std::optional<TimePoint> ParseMsec(std::string_view text) {
  // 1764140811.123
  int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  // Up to the year 2200, like MakeTime: beyond, the nanosecond clock overflows (found by fuzzing).
  constexpr int64_t kYear2200 = 7258118400;
  if (ec != std::errc() || seconds < 0 || seconds > kYear2200) return std::nullopt;
  int millis = 0;
  if (ptr != text.data() + text.size()) {
    size_t dot = static_cast<size_t>(ptr - text.data());
    if (text[dot] != '.' || !Digits(text, dot + 1, 3, millis) || dot + 4 != text.size()) {
      return std::nullopt;
    }
  }
  return TimePoint(std::chrono::seconds(seconds) + std::chrono::milliseconds(millis));
}

std::optional<TimePoint> ParseTimeLocalCached(std::string_view text) {
  static constexpr size_t kSize = 26;  // "26/Nov/2026:07:06:51 +0000"
  struct Cache {
    char text[kSize];
    TimePoint value;
    bool valid;
  };
  thread_local Cache cache{};
  if (text.size() != kSize) return ParseTimeLocal(text);
  if (cache.valid && std::memcmp(cache.text, text.data(), kSize) == 0) return cache.value;
  std::optional<TimePoint> t = ParseTimeLocal(text);
  if (t) {
    std::memcpy(cache.text, text.data(), kSize);
    cache.value = *t;
    cache.valid = true;
  }
  return t;
}

}  // namespace poolwatch
