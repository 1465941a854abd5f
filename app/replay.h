#pragma once

#include <string>
#include <vector>

namespace poolwatch {

struct ReplayOptions {
  std::string config_path;
  std::string metrics_out;  // "" : do not write the exposition
  std::vector<std::string> logs;
};

// Reads whole logs through the same pipeline with the clock taken from the log, prints one
// JSON object per notification that would have been sent on stdout and a summary on stderr.
// Sends nothing. Returns the process exit code.
int RunReplay(const ReplayOptions& options);

}  // namespace poolwatch
