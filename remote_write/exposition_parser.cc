#include "remote_write/exposition_parser.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace poolwatch {
namespace {

bool IsNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

// A metric or label name at the start of `line`; its length, 0 when there is none.
size_t NameLength(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && IsNameChar(line[n], n == 0)) ++n;
  return n;
}

bool ParseValue(std::string_view text, double& value) {
  if (text == "+Inf" || text == "Inf") {
    value = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    value = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN" || text == "Nan" || text == "nan") {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text.empty() || text.size() > 64) return false;
  // strtod needs a terminated string; values are short.
  char buffer[65];
  text.copy(buffer, text.size());
  buffer[text.size()] = '\0';
  char* end = nullptr;
  value = std::strtod(buffer, &end);
  return end == buffer + text.size();
}

// `{a="x",b="y"}` at the start of `rest` into `labels`; advances `rest` past it.
bool ParseLabels(std::string_view& rest, std::vector<std::pair<std::string, std::string>>& labels) {
  rest.remove_prefix(1);  // '{'
  while (true) {
    if (!rest.empty() && rest.front() == '}') {
      rest.remove_prefix(1);
      return true;
    }
    size_t name_length = NameLength(rest);
    if (name_length == 0 || rest.size() < name_length + 2 || rest[name_length] != '=' ||
        rest[name_length + 1] != '"') {
      return false;
    }
    std::string name(rest.substr(0, name_length));
    rest.remove_prefix(name_length + 2);
    std::string value;
    bool closed = false;
    while (!rest.empty()) {
      char c = rest.front();
      rest.remove_prefix(1);
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\') {
        if (rest.empty()) return false;
        char escaped = rest.front();
        rest.remove_prefix(1);
        value += escaped == 'n' ? '\n' : escaped;
      } else {
        value += c;
      }
    }
    if (!closed) return false;
    labels.emplace_back(std::move(name), std::move(value));
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
}

}  // namespace

std::vector<ExposedSample> ParseTextExposition(std::string_view text, size_t* malformed) {
  std::vector<ExposedSample> samples;
  size_t bad = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty() || line.front() == '#') continue;

    ExposedSample sample;
    size_t name_length = NameLength(line);
    if (name_length == 0) {
      ++bad;
      continue;
    }
    sample.labels.emplace_back("__name__", std::string(line.substr(0, name_length)));
    std::string_view rest = line.substr(name_length);
    if (!rest.empty() && rest.front() == '{' && !ParseLabels(rest, sample.labels)) {
      ++bad;
      continue;
    }
    if (rest.empty() || rest.front() != ' ') {
      ++bad;
      continue;
    }
    rest.remove_prefix(1);
    std::string_view value_text = rest.substr(0, rest.find(' '));  // then maybe a timestamp
    if (!ParseValue(value_text, sample.value)) {
      ++bad;
      continue;
    }
    samples.push_back(std::move(sample));
  }
  if (malformed != nullptr) *malformed = bad;
  return samples;
}

}  // namespace poolwatch
