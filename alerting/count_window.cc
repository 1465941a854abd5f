#include "alerting/count_window.h"

#include <algorithm>

namespace poolwatch {
namespace {

int64_t CeilSeconds(Clock::duration d) {
  return std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(d).count());
}

}  // namespace

CountWindow::CountWindow(Clock::duration span) {
  const int64_t seconds = CeilSeconds(span);
  bucket_seconds_ = (seconds + kMaxBuckets - 1) / kMaxBuckets;
  const int64_t spanned = (seconds + bucket_seconds_ - 1) / bucket_seconds_;
  // One more than the span: the bucket of `now` is partly over, the oldest one partly counts.
  counts_.assign(static_cast<size_t>(spanned + 1), 0);
}

Clock::duration CountWindow::span() const {
  return std::chrono::seconds((Buckets() - 1) * bucket_seconds_);
}

int64_t CountWindow::IndexOf(TimePoint t) const {
  // Log times are after the epoch; floor keeps a pre-epoch test time in the right bucket too.
  const int64_t seconds = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  return seconds >= 0 ? seconds / bucket_seconds_ : -((-seconds - 1) / bucket_seconds_) - 1;
}

TimePoint CountWindow::StartOf(int64_t index) const {
  return TimePoint{} + std::chrono::seconds(index * bucket_seconds_);
}

TimePoint CountWindow::covered_since() const {
  if (!started_) return TimePoint{};
  return StartOf(head_ - Buckets() + 1);
}

void CountWindow::AdvanceTo(TimePoint now) {
  if (now < head_end_) return;  // within the newest bucket (or before it): nothing leaves
  AdvanceToIndex(IndexOf(now));
}

void CountWindow::AdvanceToIndex(int64_t index) {
  if (started_ && index <= head_) return;
  if (!started_) {
    started_ = true;
  } else if (index - head_ >= Buckets()) {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
  } else {
    for (int64_t i = head_ + 1; i <= index; ++i) {
      uint32_t& slot = counts_[SlotOf(i)];
      total_ -= slot;
      slot = 0;
    }
  }
  head_ = index;
  head_slot_ = SlotOf(index);
  head_begin_ = StartOf(index);
  head_end_ = StartOf(index + 1);
}

bool CountWindow::AddElsewhere(TimePoint at, uint64_t count) {
  const int64_t index = IndexOf(at);
  AdvanceToIndex(index);
  if (index <= head_ - Buckets()) return false;
  counts_[SlotOf(index)] += static_cast<uint32_t>(count);
  total_ += count;
  return true;
}

CountWindow CountWindow::Resized(Clock::duration span) const {
  CountWindow out(span);
  if (!started_) return out;
  out.AdvanceTo(StartOf(head_));
  for (int64_t i = head_ - Buckets() + 1; i <= head_; ++i) {
    const uint32_t n = counts_[SlotOf(i)];
    if (n > 0) out.Add(StartOf(i), n);
  }
  return out;
}

}  // namespace poolwatch
