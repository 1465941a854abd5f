#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alert_engine.h"
#include "alerting/notification.h"
#include "alerting/notify/alertmanager_notifier.h"
#include "alerting/notify/slack_incident.h"
#include "exporter/file_follower.h"

namespace poolwatch {

// Everything poolwatch must remember across a restart (also a kill -9) so that it neither
// loses nor double-reports: where it stood in the log, which upstream address belongs to which
// pool, and what the alerting already told people.
//
// The position and the alerting state are captured together, under the same lock, so after a
// crash the lines re-read are exactly those after the position, and the alerting state matches
// what those lines had not yet caused.
struct PersistedState {
  std::string log_path;  // the path followed when saved; another path does not resume
  // Where the next undelivered line starts. Empty: no file was open (whatever is there now is
  // new, so it is read from its beginning).
  std::optional<FilePosition> position;
  uint64_t lines = 0;  // lines consumed up to `position`, counted across restarts
  // Issue 17: the position in each file log.path's paths and globs named when saved, by path
  // (files not open then are left out). `log_path` and `position` above are kept for one file
  // (a file written by an older poolwatch has only those: it loads as one entry here), and
  // `lines` counts the lines consumed in all files.
  std::map<std::string, FilePosition> files;
  std::map<std::string, std::string> learned_pools;  // upstream address → pool
  EngineState alerting;
  // The configuration's maintenance setting when saved: when it differs at start-up, the
  // operator changed it (e.g. MAINTENANCE_MODE=false) and the configuration wins over the
  // saved runtime state.
  bool configured_maintenance = false;
  std::optional<TimePoint> configured_maintenance_until;
  // Notifications handed to the dispatcher and not yet finished by it. A crash must not lose
  // them: they are delivered again after the restart (at least once; see StateKeeper).
  std::vector<Notification> outbox;
  // The alerts the Alertmanager notifiers keep re-posting (once per key: every Alertmanager is
  // sent the same alerts), with the startsAt they were posted with. After a restart they are
  // re-posted at once, so Alertmanager does not let a still-firing alert expire and resolve.
  // Optional in the file: state files written before it load with none.
  std::vector<AlertmanagerFiring> alertmanager_firing;
  // The Slack app's open incidents: the top message (channel, ts) later events update and
  // thread under, so a restart between a firing and its resolution updates the same message.
  // Optional in the file: older state files load with none.
  std::vector<SlackThread> slack_threads;
  TimePoint saved_at{};  // set by the writer; not part of the change detection
  // Set by DecodeState: parts of the file it skipped as corrupt without refusing the whole file
  // (a rule's saved counts, which only cost their history), one line each for the log.
  std::vector<std::string> skipped;
};

// JSON, version 1. Strings that are not valid UTF-8 (hostile label values) are kept exactly as
// {"hex": "..."} so that a restored alert matches its key byte for byte.
std::string EncodeState(const PersistedState& state);
// False with `error` set when the text is not a state file this version understands.
bool DecodeState(std::string_view text, PersistedState* state, std::string* error);
// The encoding without saved_at: equal for states that would be saved alike, so that only a
// change is written.
std::string EncodeStateContent(const PersistedState& state);

}  // namespace poolwatch
