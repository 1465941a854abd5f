#include "app/read_step.h"

namespace poolwatch {

LogsReadResult ReadLogsOnce(LogSet& logs, Pipeline& pipeline, StateKeeper& state) {
  LogsReadResult read;
  read.changes = logs.Refresh();
  uint64_t bytes = 0;
  uint64_t lines = 0;
  uint64_t overlong = 0;
  auto to_pipeline = [&pipeline](std::string_view line) { pipeline.ProcessLine(line); };
  // Between full reads only the files inotify named, and those not done: with 50 logs, most
  // are quiet at any moment, and each read of one costs a few system calls.
  // Also while a burst keeps the run loop from waiting (and draining) between reads: the other
  // files' events are what gets them read in between.
  logs.DrainWakeups();
  const bool full = logs.FullReadDue();
  for (const std::unique_ptr<LogSet::File>& file : logs.files()) {
    if (!full && !file->dirty && !file->busy) continue;
    file->dirty = false;
    pipeline.SetSource(&file->source);
    pipeline.UseFormat(file->format);
    FileFollower::PollResult result = file->follower->Poll(to_pipeline);
    file->idle = result.bytes_read == 0 && !result.more;
    const FileFollower::Stats& stats = file->follower->stats();
    file->busy = result.more || stats.draining_rotated_file || !stats.file_open;
    bytes += result.bytes_read;
    lines += result.lines;
    overlong += result.overlong_lines;
    read.more = read.more || result.more;
    if (result.rotated || result.truncated || result.status_changed) {
      read.events.push_back({file.get(), result});
    }
  }
  // Syslog's lines, read next, have the section's format; each datagram sets its own source.
  pipeline.SetSource(nullptr);
  pipeline.UseFormat(0);
  pipeline.Flush();
  pipeline.CountOverlong(overlong);
  pipeline.metrics().AddBytesRead(bytes);
  state.CountLines(lines + overlong);
  pipeline.DeliverPending();
  read.bytes_read = bytes;
  return read;
}

SyslogReceiver::PollResult ReadSyslogOnce(SyslogReceiver& receiver, SyslogSources& senders,
                                          Pipeline& pipeline) {
  const uint64_t bytes_before = receiver.stats().bytes;
  SyslogReceiver::PollResult result =
      receiver.PollMessages([&pipeline, &senders](const SyslogMessage& message) {
        pipeline.SetSource(&senders.SourceOf(message));
        pipeline.ProcessLine(message.message);
      });
  pipeline.SetSource(nullptr);
  pipeline.Flush();
  pipeline.metrics().AddBytesRead(receiver.stats().bytes - bytes_before);
  pipeline.DeliverPending();
  return result;
}

}  // namespace poolwatch
