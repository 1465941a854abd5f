#include "remote_write/sample_queue.h"

#include <algorithm>
#include <iterator>

namespace poolwatch {

size_t SampleQueue::Push(std::vector<QueuedSample> samples) {
  size_t dropped = 0;
  // A snapshot larger than the whole queue keeps only its newest part.
  if (samples.size() > capacity_) {
    dropped = samples.size() - capacity_;
    samples.erase(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(dropped));
  }
  const size_t overflow = samples_.size() + samples.size() > capacity_
                              ? samples_.size() + samples.size() - capacity_
                              : 0;
  samples_.erase(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(overflow));
  dropped += overflow;
  std::move(samples.begin(), samples.end(), std::back_inserter(samples_));
  return dropped;
}

std::vector<QueuedSample> SampleQueue::Take(size_t max) {
  const size_t n = std::min(max, samples_.size());
  std::vector<QueuedSample> batch(
      std::make_move_iterator(samples_.begin()),
      std::make_move_iterator(samples_.begin() + static_cast<std::ptrdiff_t>(n)));
  samples_.erase(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(n));
  return batch;
}

size_t SampleQueue::Clear() {
  const size_t n = samples_.size();
  samples_.clear();
  return n;
}

}  // namespace poolwatch
