#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace poolwatch {

// The keys (as written in the YAML file, e.g. "log.path_label") whose value differs between the
// running and a reloaded configuration although a reload cannot apply it: what is built once at
// start-up (the followed logs and their formats, the syslog sockets, the listeners, the
// per-request metrics, the state file, the remote-write senders). A reload warns about each and
// applies the rest. Names only, never values: remote_write holds credentials.
// Not among them: the notify keys and instance (ChangedNotifierSettings), and what a reload
// applies (alerting, web.enable_admin_api, log_level).
std::vector<std::string> ChangedRestartSettings(const Config& running, const Config& fresh);

}  // namespace poolwatch
