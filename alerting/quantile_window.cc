#include "alerting/quantile_window.h"

#include <algorithm>
#include <cmath>

namespace poolwatch {

QuantileWindow::QuantileWindow(size_t capacity, Clock::duration max_age, double mark)
    : ring_(std::max<size_t>(capacity, 1)), max_age_(max_age), mark_(mark) {
  scratch_.reserve(ring_.size());
}

size_t QuantileWindow::NearestRank(double q, size_t n) {
  if (n == 0) return 0;
  // The tolerance absorbs the representation error of q (0.99, 0.999), far below 1/n.
  const double rank = std::ceil(q * static_cast<double>(n) - 1e-9);
  if (!(rank >= 1)) return 1;
  return std::min(n, static_cast<size_t>(rank));
}

const QuantileWindow::Entry& QuantileWindow::At(size_t i) const {
  size_t at = head_ + i;
  if (at >= ring_.size()) at -= ring_.size();
  return ring_[at];
}

void QuantileWindow::Push(TimePoint at, double seconds, uint16_t tag) {
  if (size_ == ring_.size()) PopOldest();
  size_t tail = head_ + size_;
  if (tail >= ring_.size()) tail -= ring_.size();
  ring_[tail] = Entry{at, seconds, tag};
  ++size_;
  quantile_known_ = false;
  if (seconds > mark_) ++above_mark_;
}

void QuantileWindow::PopOldest() {
  if (ring_[head_].seconds > mark_) --above_mark_;
  if (++head_ == ring_.size()) head_ = 0;
  --size_;
  quantile_known_ = false;
}

void QuantileWindow::Expire(TimePoint now) {
  if (max_age_ <= Clock::duration::zero()) return;
  DropBefore(now - max_age_);
}

void QuantileWindow::DropBefore(TimePoint at) {
  while (size_ > 0 && ring_[head_].at < at) PopOldest();
}

void QuantileWindow::Clear() {
  head_ = 0;
  size_ = 0;
  above_mark_ = 0;
  quantile_known_ = false;
}

void QuantileWindow::Reconfigure(size_t capacity, Clock::duration max_age) {
  capacity = std::max<size_t>(capacity, 1);
  max_age_ = max_age;
  if (capacity == ring_.size()) return;
  while (size_ > capacity) PopOldest();
  std::vector<Entry> ring(capacity);
  for (size_t i = 0; i < size_; ++i) ring[i] = At(i);
  ring_ = std::move(ring);
  head_ = 0;
  scratch_.reserve(capacity);
}

void QuantileWindow::SetMark(double mark) {
  mark_ = mark;
  above_mark_ = CountAbove(mark);
}

double QuantileWindow::Quantile(double q) const {
  if (size_ == 0) return 0;
  if (quantile_known_ && known_q_ == q) return known_quantile_;
  known_quantile_ = Select(q);
  known_q_ = q;
  quantile_known_ = true;
  return known_quantile_;
}

double QuantileWindow::Select(double q) const {
  // A high quantile is the k-th largest for a small k (k = 3 for the p99 of 200): one pass
  // keeping the k largest seen, in which nearly every entry fails the first comparison, so the
  // branch is predicted. Several times faster than a selection over the whole window.
  const size_t k = size_ - NearestRank(q, size_) + 1;
  if (k <= kTopScan) {
    double top[kTopScan] = {};  // the k largest so far, ascending: top[0] is the k-th largest
    for (size_t i = 0; i < k; ++i) top[i] = At(i).seconds;
    std::sort(top, top + k);
    for (size_t i = k; i < size_; ++i) {
      const double v = At(i).seconds;
      if (v <= top[0]) continue;
      size_t j = 1;
      for (; j < k && top[j] < v; ++j) top[j - 1] = top[j];
      top[j - 1] = v;
    }
    return top[0];
  }
  scratch_.clear();  // keeps the capacity reserved: no allocation
  for (size_t i = 0; i < size_; ++i) scratch_.push_back(At(i).seconds);
  const auto nth = scratch_.begin() + static_cast<std::ptrdiff_t>(NearestRank(q, size_) - 1);
  std::nth_element(scratch_.begin(), nth, scratch_.end());
  return *nth;
}

size_t QuantileWindow::CountAbove(double seconds) const {
  size_t count = 0;
  for (size_t i = 0; i < size_; ++i) count += At(i).seconds > seconds ? 1 : 0;
  return count;
}

std::optional<QuantileWindow::Entry> QuantileWindow::Slowest() const {
  if (size_ == 0) return std::nullopt;
  const Entry* slowest = &At(0);
  for (size_t i = 1; i < size_; ++i) {
    if (At(i).seconds > slowest->seconds) slowest = &At(i);
  }
  return *slowest;
}

}  // namespace poolwatch
