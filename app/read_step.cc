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

}  // namespace poolwatch
