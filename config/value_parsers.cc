#include "config/value_parsers.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

#include "alerting/notify/notifier_factory.h"

namespace poolwatch {
namespace {

// The first entry whose name is `text`.
template <typename T, size_t N>
std::optional<T> Lookup(std::string_view text, const std::pair<std::string_view, T> (&names)[N]) {
  for (const auto& [name, value] : names) {
    if (text == name) return value;
  }
  return std::nullopt;
}

constexpr std::pair<std::string_view, LogLevel> kLogLevels[] = {{"debug", LogLevel::kDebug},
                                                                {"info", LogLevel::kInfo},
                                                                {"warn", LogLevel::kWarn},
                                                                {"error", LogLevel::kError}};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view text) { return Lookup(text, kLogLevels); }

std::string_view LogLevelName(LogLevel level) {
  for (const auto& [name, value] : kLogLevels) {
    if (value == level) return name;
  }
  return "info";
}

std::optional<StartAt> ParseStartAt(std::string_view text) {
  static constexpr std::pair<std::string_view, StartAt> kNames[] = {
      {"end", StartAt::kEnd}, {"beginning", StartAt::kBeginning}};
  return Lookup(text, kNames);
}

std::optional<LogEscape> ParseLogEscape(std::string_view text) {
  static constexpr std::pair<std::string_view, LogEscape> kNames[] = {
      {"default", LogEscape::kDefault}, {"json", LogEscape::kJson}, {"none", LogEscape::kNone}};
  return Lookup(text, kNames);
}

std::optional<RuleKind> ParseRuleKind(std::string_view text) {
  for (RuleKind kind : kAllRuleKinds) {
    if (RuleKindName(kind) == text) return kind;
  }
  return std::nullopt;
}

std::optional<ErrorScope> ParseErrorScope(std::string_view text) {
  static constexpr std::pair<std::string_view, ErrorScope> kNames[] = {
      {"client", ErrorScope::kClient}, {"upstream", ErrorScope::kUpstream}};
  return Lookup(text, kNames);
}

std::optional<RegressionBaseline> ParseRegressionBaseline(std::string_view text) {
  static constexpr std::pair<std::string_view, RegressionBaseline> kNames[] = {
      {"releases", RegressionBaseline::kOtherReleases}, {"pools", RegressionBaseline::kOtherPools}};
  return Lookup(text, kNames);
}

std::optional<SloIndicator> ParseSloIndicator(std::string_view text) {
  static constexpr std::pair<std::string_view, SloIndicator> kNames[] = {
      {"availability", SloIndicator::kAvailability}, {"latency", SloIndicator::kLatency}};
  return Lookup(text, kNames);
}

std::optional<bool> ParseUrgencyIsPage(std::string_view text) {
  static constexpr std::pair<std::string_view, bool> kNames[] = {{"page", true}, {"ticket", false}};
  return Lookup(text, kNames);
}

std::optional<bool> ParseBool(std::string_view text) {
  static constexpr std::pair<std::string_view, bool> kNames[] = {
      {"true", true},   {"yes", true}, {"on", true},   {"y", true},  {"1", true},
      {"false", false}, {"no", false}, {"off", false}, {"n", false}, {"0", false}};
  if (text.size() > 5) return std::nullopt;
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return Lookup(std::string_view(lower), kNames);
}

std::optional<size_t> ParseCount(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  size_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  // Longer is a typo, and beyond ~292 years it would not fit the nanosecond clock (and "inf"
  // or "nan" not in an integer at all), so it is refused rather than cast.
  constexpr double kMaxMs = 100.0 * 365 * 86400000;
  if (text.empty()) return std::nullopt;
  double plain = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), plain);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (!(plain >= 0 && plain * 1000 <= kMaxMs)) return std::nullopt;
    return std::chrono::milliseconds(static_cast<int64_t>(plain * 1000));
  }
  std::chrono::milliseconds total{0};
  const char* p = text.data();
  const char* stop = text.data() + text.size();
  while (p < stop) {
    double value = 0;
    auto [unit, err] = std::from_chars(p, stop, value);
    if (err != std::errc() || unit == stop || value < 0) return std::nullopt;
    const char* next = unit;
    while (next < stop && std::isalpha(static_cast<unsigned char>(*next))) ++next;
    std::string_view u(unit, static_cast<size_t>(next - unit));
    double ms;
    if (u == "ms") {
      ms = value;
    } else if (u == "s") {
      ms = value * 1000;
    } else if (u == "m") {
      ms = value * 60000;
    } else if (u == "h") {
      ms = value * 3600000;
    } else if (u == "d") {
      ms = value * 86400000;
    } else {
      return std::nullopt;
    }
    if (!(ms <= kMaxMs - static_cast<double>(total.count()))) return std::nullopt;
    total += std::chrono::milliseconds(static_cast<int64_t>(ms));
    p = next;
  }
  return total;
}

std::optional<std::string> ParseNotifierKind(std::string_view text) {
  for (std::string_view known : kNotifierKinds) {
    if (text == known) return std::string(known);
  }
  return std::nullopt;
}

bool IsHttpUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() > scheme.size() && url.substr(0, scheme.size()) == scheme) return true;
  }
  return false;
}

std::vector<std::string> SplitCommaList(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

std::string TelemetryPathProblem(const std::string& path) {
  if (path.empty() || path.front() != '/') return "must start with /, got '" + path + "'";
  for (char c : path) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '?' || c == '#') {
      return "must be a plain path (no spaces, ? or #), got '" + path + "'";
    }
  }
  return "";
}

std::optional<SyslogEndpoint> ParseSyslogListen(std::string_view text) {
  SyslogEndpoint out;
  constexpr std::string_view kUdp = "udp://";
  constexpr std::string_view kUnixgram = "unixgram://";
  if (text.substr(0, kUnixgram.size()) == kUnixgram) {
    out.kind = SyslogEndpoint::Kind::kUnixgram;
    out.path = std::string(text.substr(kUnixgram.size()));
    // sun_path holds 108 bytes with its terminating NUL.
    if (out.path.size() < 2 || out.path.front() != '/' || out.path.size() > 107) {
      return std::nullopt;
    }
    return out;
  }
  if (text.substr(0, kUdp.size()) != kUdp) return std::nullopt;
  const std::string_view rest = text.substr(kUdp.size());
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  out.host = std::string(rest.substr(0, colon));
  in_addr ignored{};
  if (inet_pton(AF_INET, out.host.c_str(), &ignored) != 1) return std::nullopt;
  const std::string_view port = rest.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  out.port = static_cast<uint16_t>(value);
  return out;
}

std::string ExpectedGot(std::string_view expected, std::string_view text) {
  std::string out = "expected ";
  out.append(expected).append(", got '").append(text).append("'");
  return out;
}

std::optional<SyslogLabel> ParseSyslogLabel(std::string_view text) {
  for (SyslogLabel label : {SyslogLabel::kTag, SyslogLabel::kHost}) {
    if (text == SyslogLabelName(label)) return label;
  }
  return std::nullopt;
}

}  // namespace poolwatch
