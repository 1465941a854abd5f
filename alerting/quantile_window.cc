#include "alerting/quantile_window.h"

#include <algorithm>
#include <cmath>

namespace poolwatch {

QuantileWindow::QuantileWindow(size_t capacity, Clock::duration max_age)
    : ring_(std::max<size_t>(capacity, 1)), max_age_(max_age) {
  sorted_.reserve(ring_.size());
}

size_t QuantileWindow::NearestRank(double q, size_t n) {
  if (n == 0) return 0;
  // The tolerance absorbs the representation error of q (0.99, 0.999), far below 1/n.
  const double rank = std::ceil(q * static_cast<double>(n) - 1e-9);
  if (!(rank >= 1)) return 1;
  return std::min(n, static_cast<size_t>(rank));
}

void QuantileWindow::Push(TimePoint at, double seconds, uint16_t tag) {
  if (sorted_.size() == ring_.size()) PopOldest();
  size_t tail = head_ + sorted_.size();
  if (tail >= ring_.size()) tail -= ring_.size();
  ring_[tail] = Entry{at, seconds, tag};
  // Within the reserved capacity: insert moves elements but never allocates.
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), seconds), seconds);
}

void QuantileWindow::PopOldest() {
  const double seconds = ring_[head_].seconds;
  // Any element equal to it will do: equal values are interchangeable in the sorted array.
  sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), seconds));
  if (++head_ == ring_.size()) head_ = 0;
}

void QuantileWindow::Expire(TimePoint now) {
  if (max_age_ <= Clock::duration::zero()) return;
  DropBefore(now - max_age_);
}

void QuantileWindow::DropBefore(TimePoint at) {
  while (!sorted_.empty() && ring_[head_].at < at) PopOldest();
}

void QuantileWindow::Clear() {
  head_ = 0;
  sorted_.clear();
}

void QuantileWindow::Reconfigure(size_t capacity, Clock::duration max_age) {
  capacity = std::max<size_t>(capacity, 1);
  max_age_ = max_age;
  if (capacity == ring_.size()) return;
  while (sorted_.size() > capacity) PopOldest();
  std::vector<Entry> ring(capacity);
  for (size_t i = 0; i < sorted_.size(); ++i) ring[i] = ring_[(head_ + i) % ring_.size()];
  ring_ = std::move(ring);
  head_ = 0;
  sorted_.reserve(capacity);
}

double QuantileWindow::Quantile(double q) const {
  if (sorted_.empty()) return 0;
  return sorted_[NearestRank(q, sorted_.size()) - 1];
}

size_t QuantileWindow::CountAbove(double seconds) const {
  return static_cast<size_t>(sorted_.end() -
                             std::upper_bound(sorted_.begin(), sorted_.end(), seconds));
}

std::optional<QuantileWindow::Entry> QuantileWindow::Slowest() const {
  if (sorted_.empty()) return std::nullopt;
  size_t slowest = head_;
  for (size_t i = 1; i < sorted_.size(); ++i) {
    const size_t at = (head_ + i) % ring_.size();
    if (ring_[at].seconds > ring_[slowest].seconds) slowest = at;
  }
  return ring_[slowest];
}

}  // namespace poolwatch
