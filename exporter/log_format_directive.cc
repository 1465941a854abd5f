#include "exporter/log_format_directive.h"

#include <algorithm>
#include <vector>

namespace poolwatch {
namespace {

bool IsConfigSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// nginx's configuration parser keeps a backslash before anything but a quote, a backslash
// and t/r/n (ngx_conf_read_token), so `\x22` inside a quoted part stays `\x22`.
std::string UnquoteConfigToken(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      const char next = raw[i + 1];
      if (next == '"' || next == '\'' || next == '\\') {
        out += next;
        ++i;
        continue;
      }
      if (next == 't' || next == 'r' || next == 'n') {
        out += next == 't' ? '\t' : next == 'r' ? '\r' : '\n';
        ++i;
        continue;
      }
    }
    out += raw[i];
  }
  return out;
}

struct ConfigToken {
  std::string value;
  bool quoted = false;
};

// Splits directive text into words as nginx does (whitespace between words, `#` comments,
// quotes only at the start of a word); stops at the first `;`, after which only whitespace and
// comments may follow.
bool TokenizeDirective(std::string_view text, std::vector<ConfigToken>& tokens,
                       std::string* error) {
  size_t i = 0;
  const size_t n = text.size();
  bool ended = false;
  while (i < n) {
    const char c = text[i];
    if (IsConfigSpace(c)) {
      ++i;
    } else if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
    } else if (ended) {
      *error = "log format: text after the ';' at offset " + std::to_string(i) +
               " (give one log_format directive)";
      return false;
    } else if (c == ';') {
      ended = true;
      ++i;
    } else if (c == '"' || c == '\'') {
      size_t j = i + 1;
      while (j < n && text[j] != c) j += text[j] == '\\' ? 2 : 1;
      if (j >= n) {
        *error = std::string("log format: the ").append(1, c).append(" at offset ") +
                 std::to_string(i) + " is never closed";
        return false;
      }
      if (j + 1 < n && !IsConfigSpace(text[j + 1]) && text[j + 1] != ';') {
        *error = "log format: unexpected '" + std::string(1, text[j + 1]) + "' at offset " +
                 std::to_string(j + 1) + " right after a quoted part (separate parts with a space)";
        return false;
      }
      tokens.push_back({UnquoteConfigToken(text.substr(i + 1, j - i - 1)), true});
      i = j + 1;
    } else {
      size_t j = i;
      while (j < n && !IsConfigSpace(text[j]) && text[j] != ';') {
        if (text[j] == '"' || text[j] == '\'') {
          *error = "log format: stray " + std::string(1, text[j]) + " at offset " +
                   std::to_string(j) + " inside an unquoted word";
          return false;
        }
        j += text[j] == '\\' ? 2 : 1;
      }
      j = std::min(j, n);
      tokens.push_back({UnquoteConfigToken(text.substr(i, j - i)), false});
      i = j;
    }
  }
  return true;
}

std::optional<LogEscape> EscapeNamed(std::string_view name) {
  if (name == "default") return LogEscape::kDefault;
  if (name == "json") return LogEscape::kJson;
  if (name == "none") return LogEscape::kNone;
  return std::nullopt;
}

}  // namespace

std::optional<LogFormatSpec> ParseLogFormatText(std::string_view text, std::string* error) {
  size_t start = 0;
  while (start < text.size() && IsConfigSpace(text[start])) ++start;
  const std::string_view rest = text.substr(start);
  constexpr std::string_view kKeyword = "log_format";
  const bool keyword = rest.substr(0, kKeyword.size()) == kKeyword &&
                       (rest.size() == kKeyword.size() || IsConfigSpace(rest[kKeyword.size()]) ||
                        rest[kKeyword.size()] == ';');
  const bool directive = keyword || rest.substr(0, 7) == "escape=" ||
                         (!rest.empty() && (rest.front() == '\'' || rest.front() == '"'));
  if (!directive) return LogFormatSpec{std::string(text), std::nullopt};

  std::vector<ConfigToken> tokens;
  if (!TokenizeDirective(rest, tokens, error)) return std::nullopt;
  LogFormatSpec spec;
  size_t next = 0;
  if (keyword) {
    if (tokens.size() < 2) {
      *error = "log format: log_format needs a name and at least one quoted format part";
      return std::nullopt;
    }
    next = 2;
    spec.escape = LogEscape::kDefault;  // nginx's default when escape= is not given
  }
  if (next < tokens.size() && !tokens[next].quoted && tokens[next].value.rfind("escape=", 0) == 0) {
    spec.escape = EscapeNamed(std::string_view(tokens[next].value).substr(7));
    if (!spec.escape) {
      *error = "log format: expected escape=default, escape=json or escape=none, got '" +
               tokens[next].value + "'";
      return std::nullopt;
    }
    ++next;
  }
  if (next == tokens.size()) {
    *error = "log format: no quoted format part";
    return std::nullopt;
  }
  for (; next < tokens.size(); ++next) {
    if (!tokens[next].quoted) {
      *error = "log format: expected a quoted part, got '" + tokens[next].value +
               "' (a bare format must not start with a quote: wrap it in single quotes)";
      return std::nullopt;
    }
    spec.format += tokens[next].value;
  }
  return spec;
}

}  // namespace poolwatch
