#pragma once

#include <cstddef>
#include <regex>
#include <string>
#include <string_view>

namespace poolwatch {

// log.path_label: an extra label on the request metrics, taken from the path of the log file a
// line came from, so one poolwatch can tell apart the vhosts of an nginx host that logs each
// `server` block to its own file. Off while `name` is empty.
struct PathLabelOptions {
  std::string name;        // the label's name, e.g. "site"
  std::string pattern;     // ECMAScript regex over the whole path; its first group is the value
  size_t max_values = 50;  // more distinct values → "other", as for pools and releases
  bool operator==(const PathLabelOptions&) const = default;
};

// The compiled log.path_label. The value is computed once per file (when it is found), never
// per line, so the regex costs nothing in the steady state.
class PathLabeler {
 public:
  // Throws std::regex_error for a pattern that does not compile (the config checks it first).
  explicit PathLabeler(const PathLabelOptions& options);

  bool enabled() const { return enabled_; }
  // The regex's first group when the whole path matches (the whole path when the regex has no
  // group); "" when it does not match, which the metrics label "none".
  std::string ValueFor(std::string_view path) const;
  // The regex matches the whole path (replay looks for the name a rotated log had).
  bool Matches(std::string_view path) const;

 private:
  bool enabled_ = false;
  std::regex regex_;
};

}  // namespace poolwatch
