#include "alerting/window.h"

#include <algorithm>

namespace poolwatch {

SlidingWindow::SlidingWindow(size_t capacity, Clock::duration max_age)
    : entries_(std::max<size_t>(capacity, 1)), max_age_(max_age) {}

void SlidingWindow::Push(TimePoint at, bool is_error) {
  if (size_ == entries_.size()) PopOldest();
  size_t tail = head_ + size_;
  if (tail >= entries_.size()) tail -= entries_.size();
  entries_[tail] = Entry{at, is_error};
  ++size_;
  if (is_error) ++errors_;
}

void SlidingWindow::PopOldest() {
  if (entries_[head_].is_error) --errors_;
  if (++head_ == entries_.size()) head_ = 0;
  --size_;
}

void SlidingWindow::Expire(TimePoint now) {
  if (max_age_ <= Clock::duration::zero()) return;
  const TimePoint cutoff = now - max_age_;
  while (size_ > 0 && entries_[head_].at < cutoff) PopOldest();
}

void SlidingWindow::DropBefore(TimePoint at) {
  while (size_ > 0 && entries_[head_].at < at) PopOldest();
}

void SlidingWindow::Clear() {
  head_ = 0;
  size_ = 0;
  errors_ = 0;
}

void SlidingWindow::Reconfigure(size_t capacity, Clock::duration max_age) {
  capacity = std::max<size_t>(capacity, 1);
  max_age_ = max_age;
  if (capacity == entries_.size()) return;
  while (size_ > capacity) PopOldest();
  std::vector<Entry> entries(capacity);
  for (size_t i = 0; i < size_; ++i) entries[i] = entries_[(head_ + i) % entries_.size()];
  entries_ = std::move(entries);
  head_ = 0;
}

double SlidingWindow::ErrorPercent() const {
  return size_ == 0 ? 0.0 : 100.0 * static_cast<double>(errors_) / static_cast<double>(size_);
}

std::optional<TimePoint> SlidingWindow::oldest() const {
  if (size_ == 0) return std::nullopt;
  return entries_[head_].at;
}

}  // namespace poolwatch
