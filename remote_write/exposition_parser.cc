#include "remote_write/exposition_parser.h"

#include <cmath>
#include <cstdlib>
#include <functional>
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

// `{a="x",b="y"}` at the start of `rest` into `labels` (only checked when null); advances `rest`
// past it.
bool ParseLabels(std::string_view& rest, std::vector<std::pair<std::string, std::string>>* labels) {
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
    const std::string_view name = rest.substr(0, name_length);
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
        if (labels != nullptr) value += escaped == 'n' ? '\n' : escaped;
      } else if (labels != nullptr) {
        value += c;
      }
    }
    if (!closed) return false;
    if (labels != nullptr) labels->emplace_back(std::string(name), std::move(value));
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
}

}  // namespace

size_t ForEachSampleLine(std::string_view text,
                         const std::function<void(const SampleLine&)>& each) {
  size_t bad = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty() || line.front() == '#') continue;

    const size_t name_length = NameLength(line);
    if (name_length == 0) {
      ++bad;
      continue;
    }
    std::string_view rest = line.substr(name_length);
    if (!rest.empty() && rest.front() == '{' && !ParseLabels(rest, nullptr)) {
      ++bad;
      continue;
    }
    if (rest.empty() || rest.front() != ' ') {
      ++bad;
      continue;
    }
    SampleLine sample;
    sample.series = line.substr(0, line.size() - rest.size());
    rest.remove_prefix(1);
    const std::string_view value_text = rest.substr(0, rest.find(' '));  // maybe a timestamp
    if (!ParseValue(value_text, sample.value)) {
      ++bad;
      continue;
    }
    each(sample);
  }
  return bad;
}

std::vector<std::pair<std::string, std::string>> SeriesLabels(std::string_view series) {
  std::vector<std::pair<std::string, std::string>> labels;
  const size_t name_length = NameLength(series);
  labels.emplace_back("__name__", std::string(series.substr(0, name_length)));
  std::string_view rest = series.substr(name_length);
  if (!rest.empty() && rest.front() == '{') ParseLabels(rest, &labels);
  return labels;
}

std::vector<ExposedSample> ParseTextExposition(std::string_view text, size_t* malformed) {
  std::vector<ExposedSample> samples;
  const size_t bad = ForEachSampleLine(text, [&samples](const SampleLine& line) {
    samples.push_back(ExposedSample{SeriesLabels(line.series), line.value});
  });
  if (malformed != nullptr) *malformed = bad;
  return samples;
}

}  // namespace poolwatch
