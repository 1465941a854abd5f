#pragma once

#include <vector>

#include "app/pipeline.h"
#include "app/state_keeper.h"
#include "exporter/file_follower.h"
#include "exporter/log_set.h"
#include "exporter/syslog_receiver.h"
#include "exporter/syslog_sources.h"

namespace poolwatch {

// What one read of all the files did, for the run loop's log lines.
struct LogsReadResult {
  struct FileEvent {
    const LogSet::File* file;  // valid until the next ReadLogsOnce()
    FileFollower::PollResult result;
  };
  LogSet::Changes changes;        // files found and dropped
  std::vector<FileEvent> events;  // files rotated, truncated or whose status changed
  uint64_t bytes_read = 0;        // in all files
  bool more = false;              // a file stopped at its per-poll budget: read again at once
};

// One read of the logs, as the daemon's run loop and its drain at shutdown do it: finds new files
// and drops vanished ones (LogSet::Refresh), then each file's follower hands its lines to the
// pipeline (metrics, with the file's path label and format; the rules observe them, and a
// backlog is evaluated in memory at its log-time points); then, with the read over and every
// follower's position at the start of its next unread line, the lines are counted for the state
// file and only then are the evaluations delivered: saved and notified. Inside the per-line
// callback a block is half read, and a state file captured there would describe no line
// boundary.
LogsReadResult ReadLogsOnce(LogSet& logs, Pipeline& pipeline, StateKeeper& state);

// The same for the datagrams nginx sent over syslog: each one's line through the pipeline, with
// its sender's source (`senders`: log.syslog.labels' values), then the evaluations delivered.
// Nothing for the state file: a datagram is not read twice.
SyslogReceiver::PollResult ReadSyslogOnce(SyslogReceiver& receiver, SyslogSources& senders,
                                          Pipeline& pipeline);

}  // namespace poolwatch
