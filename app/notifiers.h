#pragma once

#include <memory>
#include <ostream>
#include <vector>

#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"
#include "config/config.h"

namespace poolwatch {

// The notifiers the configuration asks for: Slack and/or the generic webhook, and the console
// when neither is set (so the demo shows alerts with no Slack) or when asked for.
std::vector<std::unique_ptr<Notifier>> BuildNotifiers(const NotifyConfig& config,
                                                      HttpPoster& poster, std::ostream& console);

}  // namespace poolwatch
