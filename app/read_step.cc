#include "app/read_step.h"

namespace poolwatch {

FileFollower::PollResult ReadLogOnce(FileFollower& follower, Pipeline& pipeline,
                                     StateKeeper& state) {
  FileFollower::PollResult result =
      follower.Poll([&pipeline](std::string_view line) { pipeline.ProcessLine(line); });
  pipeline.Flush();
  pipeline.CountOverlong(result.overlong_lines);
  pipeline.metrics().AddBytesRead(result.bytes_read);
  state.CountLines(result.lines + result.overlong_lines);
  pipeline.DeliverPending();
  return result;
}

SyslogReceiver::PollResult ReadSyslogOnce(SyslogReceiver& receiver, Pipeline& pipeline) {
  const uint64_t bytes_before = receiver.stats().bytes;
  SyslogReceiver::PollResult result =
      receiver.Poll([&pipeline](std::string_view line) { pipeline.ProcessLine(line); });
  pipeline.Flush();
  pipeline.metrics().AddBytesRead(receiver.stats().bytes - bytes_before);
  pipeline.DeliverPending();
  return result;
}

}  // namespace poolwatch
