#include "app/replay_source.h"

#include <filesystem>

#include "app/pipeline.h"
#include "exporter/log_reader.h"
#include "exporter/log_set.h"

namespace poolwatch {
namespace {

bool EndsWith(std::string_view s, std::string_view end) {
  return s.size() >= end.size() && s.substr(s.size() - end.size()) == end;
}

// How many decimal digits `s` ends with.
size_t TrailingDigits(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && s[s.size() - 1 - n] >= '0' && s[s.size() - 1 - n] <= '9') ++n;
  return n;
}

}  // namespace

std::string LiveLogPath(std::string_view path) {
  if (EndsWith(path, ".gz")) path.remove_suffix(3);
  const size_t digits = TrailingDigits(path);
  // ".1", ".12" from logrotate's numbering; "-20261126" (or with the hour) from its dateext.
  if (digits > 0 && digits < path.size() - 1) {
    const char before = path[path.size() - 1 - digits];
    if (before == '.' || (before == '-' && digits >= 8)) path.remove_suffix(digits + 1);
  }
  return std::string(path);
}

ReplaySource ReplaySourceOf(const Config& config, const PathLabeler& labeler,
                            const std::string& path) {
  ReplaySource source;
  const size_t syslog_labels = config.syslog_labels.size();
  if (path == LogReader::kStdin) {
    source.values.resize(SourceLabelNames(config).size());
    return source;
  }
  std::vector<std::string> candidates = {path};
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (!error) candidates.push_back(absolute.lexically_normal().string());
  candidates.push_back(LiveLogPath(candidates.back()));
  for (const std::string& candidate : candidates) {
    source.format = Pipeline::FormatFor(config.log_files, candidate);
    if (source.format != 0) break;
  }
  const std::string* labelled = &path;
  for (const std::string& candidate : candidates) {
    if (labeler.Matches(candidate)) {
      labelled = &candidate;
      break;
    }
  }
  source.values = Pipeline::FileSourceValues(labeler, syslog_labels, *labelled);
  return source;
}

}  // namespace poolwatch
