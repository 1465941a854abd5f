#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/log_record.h"

namespace poolwatch {

// Time and waiting for the Dispatcher, behind an interface so tests drive retries, backoff,
// Retry-After and shutdown deadlines with a fake clock and no sleeps. Scheduling uses a
// monotonic clock (a wall-clock jump must not stretch a 1 s backoff into an hour); the wall
// clock is only read for the timestamps of delivery records.
class DispatchClock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  virtual ~DispatchClock() = default;
  virtual SteadyTime Now() = 0;
  virtual TimePoint WallNow() = 0;
  // Blocks until `deadline` (SteadyTime::max(): no deadline) or until `cv` is notified;
  // spurious returns are fine, the caller re-evaluates. `lock` (on the mutex guarding the
  // state `cv` signals) is held on entry and on return.
  virtual void WaitUntil(SteadyTime deadline, std::unique_lock<std::mutex>& lock,
                         std::condition_variable& cv) = 0;
};

class SystemDispatchClock final : public DispatchClock {
 public:
  SteadyTime Now() override { return std::chrono::steady_clock::now(); }
  TimePoint WallNow() override { return Clock::now(); }
  void WaitUntil(SteadyTime deadline, std::unique_lock<std::mutex>& lock,
                 std::condition_variable& cv) override {
    // wait_until(max) overflows in some standard libraries' conversions: wait plainly.
    if (deadline == SteadyTime::max()) {
      cv.wait(lock);
    } else {
      cv.wait_until(lock, deadline);
    }
  }
};

}  // namespace poolwatch
