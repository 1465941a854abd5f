#include "exporter/path_label.h"

namespace poolwatch {

PathLabeler::PathLabeler(const PathLabelOptions& options) : enabled_(!options.name.empty()) {
  if (enabled_) regex_ = std::regex(options.pattern, std::regex::ECMAScript);
}

bool PathLabeler::Matches(std::string_view path) const {
  return enabled_ && std::regex_match(path.begin(), path.end(), regex_);
}

std::string PathLabeler::ValueFor(std::string_view path) const {
  if (!enabled_) return "";
  std::match_results<std::string_view::const_iterator> match;
  if (!std::regex_match(path.begin(), path.end(), match, regex_)) return "";
  return match.size() > 1 ? match[1].str() : match[0].str();
}

}  // namespace poolwatch
