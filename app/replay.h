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
  // "time" (also ""): the logs by the time of their first line (OrderByFirstLine); "given":
  // as on the command line.
  std::string order;
  // Paths, plain or gzip'd (by their first bytes); "-" is standard input.
  std::vector<std::string> logs;
};

// Reads whole logs (plain, gzip'd or standard input, oldest first unless the order given is
// asked for) through the same pipeline with the clock taken from the log, prints one
// JSON object per notification that would have been sent on stdout and a summary on stderr.
// Sends nothing. With the report, also one line per incident and per rule. Returns the process
// exit code.
int RunReplay(const ReplayOptions& options);

}  // namespace poolwatch
