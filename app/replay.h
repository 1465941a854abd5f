#pragma once

#include <string>
#include <vector>

namespace poolwatch {

struct ReplayOptions {
  std::string config_path;
  std::string metrics_out;  // "" : do not write the exposition
  // The incident report (IncidentReport): on when any of these is set. Text or JSON, on stderr
  // or into report_file.
  bool report = false;
  std::string report_file;
  std::string report_format;  // "text" (also ""), "json"
  std::vector<std::string> logs;
};

// Reads whole logs through the same pipeline with the clock taken from the log, prints one
// JSON object per notification that would have been sent on stdout and a summary on stderr.
// Sends nothing. With the report, also one line per incident and per rule. Returns the process
// exit code.
int RunReplay(const ReplayOptions& options);

}  // namespace poolwatch
