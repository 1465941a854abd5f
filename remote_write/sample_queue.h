#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "remote_write/write_request.h"

namespace poolwatch {

// The samples waiting to be sent, oldest first, bounded in samples: when a snapshot does not
// fit, the oldest samples make room (a receiver back after an outage gets the latest data, and
// memory stays bounded however long it lasts). Not thread-safe: the sender thread owns it.
class SampleQueue {
 public:
  explicit SampleQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Appends `samples`; returns how many samples were dropped to stay within the capacity.
  size_t Push(std::vector<QueuedSample> samples);
  // Removes and returns up to `max` samples from the front.
  std::vector<QueuedSample> Take(size_t max);
  // Empties the queue; returns how many samples it held.
  size_t Clear();

  size_t size() const { return samples_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::deque<QueuedSample> samples_;
};

}  // namespace poolwatch
