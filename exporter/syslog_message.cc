#include "exporter/syslog_message.h"

namespace poolwatch {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// "Mmm dd hh:mm:ss", the day padded with a space ("Dec  5"), as nginx and RFC 3164 write it.
bool IsTimestamp(std::string_view t) {
  if (t.size() != 15) return false;
  return IsAlpha(t[0]) && IsAlpha(t[1]) && IsAlpha(t[2]) && t[3] == ' ' &&
         (t[4] == ' ' || IsDigit(t[4])) && IsDigit(t[5]) && t[6] == ' ' && IsDigit(t[7]) &&
         IsDigit(t[8]) && t[9] == ':' && IsDigit(t[10]) && IsDigit(t[11]) && t[12] == ':' &&
         IsDigit(t[13]) && IsDigit(t[14]);
}

// The next word up to a space; `rest` moves past the space. nullopt when no space follows.
std::optional<std::string_view> Word(std::string_view& rest) {
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view word = rest.substr(0, space);
  rest.remove_prefix(space + 1);
  return word;
}

}  // namespace

std::optional<SyslogMessage> ParseNginxSyslog(std::string_view datagram) {
  SyslogMessage out;
  std::string_view rest = datagram;
  if (rest.size() < 3 || rest[0] != '<') return std::nullopt;
  size_t digits = 1;
  while (digits < rest.size() && digits <= 3 && IsDigit(rest[digits])) {
    out.priority = out.priority * 10 + (rest[digits] - '0');
    ++digits;
  }
  // 1 to 3 digits, at most local7.debug (23 * 8 + 7).
  if (digits == 1 || digits > 4 || digits >= rest.size() || rest[digits] != '>' ||
      out.priority > 191) {
    return std::nullopt;
  }
  rest.remove_prefix(digits + 1);
  if (rest.size() < 16 || !IsTimestamp(rest.substr(0, 15)) || rest[15] != ' ') {
    return std::nullopt;
  }
  out.timestamp = rest.substr(0, 15);
  rest.remove_prefix(16);
  // "TAG: " directly (nohostname), or "HOSTNAME TAG: ". A host name has no colon at its end,
  // a tag always has one.
  std::optional<std::string_view> first = Word(rest);
  if (!first || first->empty()) return std::nullopt;
  if (first->back() != ':') {
    out.host = *first;
    first = Word(rest);
    if (!first || first->empty() || first->back() != ':') return std::nullopt;
  }
  out.tag = first->substr(0, first->size() - 1);
  if (out.tag.empty()) return std::nullopt;
  if (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  out.message = rest;
  return out;
}

}  // namespace poolwatch
