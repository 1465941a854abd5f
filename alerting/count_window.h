#pragma once

#include <cstdint>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

// How many events (requests) fell into the last `span` of time: a ring of per-bucket counts
// with a running total, so Add and Count are O(1), advancing is O(buckets passed), and nothing
// allocates after construction whatever the traffic. A bucket is one second while the span is
// at most kMaxBuckets seconds, wider beyond (a day's span counts per 24 s), so memory stays
// bounded.
//
// The count at `now` covers the bucket of `now` and the `span / bucket` buckets before it: with
// one-second buckets, every event stamped from the whole second `now - span` on. So a gap
// between two requests of at most `span` never shows an empty window at a whole-second
// evaluation, and a gap longer than `span` plus one bucket always does.
//
// Events stamped too long before the newest bucket are not counted; an event ahead of the
// newest bucket moves the ring forward (log lines are close to, not strictly in, time order).
// Not thread-safe; the rule that owns it serialises calls.
class CountWindow {
 public:
  static constexpr int64_t kMaxBuckets = 3600;

  // A span under a second is taken as one second.
  explicit CountWindow(Clock::duration span);

  // Adds `count` events at `at`; false (and nothing added) when `at` is older than the window
  // ending at the newest bucket. Inline: consecutive log lines mostly share the newest bucket,
  // and then this is two comparisons and two additions.
  bool Add(TimePoint at, uint64_t count = 1) {
    if (at >= head_begin_ && at < head_end_) {
      counts_[head_slot_] += static_cast<uint32_t>(count);
      total_ += count;
      return true;
    }
    return AddElsewhere(at, count);
  }
  // Moves the window's end to `now` (never back): buckets that leave it are dropped.
  void AdvanceTo(TimePoint now);
  // Events in the window ending at the newest bucket (AdvanceTo(now) first for "at now").
  uint64_t count() const { return total_; }
  // The start of the oldest second the ring covers; epoch before the first Add/AdvanceTo.
  TimePoint covered_since() const;
  Clock::duration bucket() const { return std::chrono::seconds(bucket_seconds_); }
  Clock::duration span() const;

  // A window of `span` holding what this one holds where the two overlap (SIGHUP).
  CountWindow Resized(Clock::duration span) const;

 private:
  int64_t IndexOf(TimePoint t) const;
  TimePoint StartOf(int64_t index) const;
  void AdvanceToIndex(int64_t index);
  bool AddElsewhere(TimePoint at, uint64_t count);
  size_t SlotOf(int64_t index) const {
    return static_cast<size_t>((index % Buckets() + Buckets()) % Buckets());
  }
  int64_t Buckets() const { return static_cast<int64_t>(counts_.size()); }

  int64_t bucket_seconds_ = 1;
  std::vector<uint32_t> counts_;  // span / bucket + 1 buckets, by index modulo their number
  bool started_ = false;
  int64_t head_ = 0;  // index of the newest bucket
  size_t head_slot_ = 0;
  TimePoint head_begin_ = TimePoint::max();  // [head_begin_, head_end_): the newest bucket's time
  TimePoint head_end_ = TimePoint::min();
  uint64_t total_ = 0;
};

}  // namespace poolwatch
