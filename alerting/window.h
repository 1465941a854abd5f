#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

// The last N requests (or upstream attempts), each error or not, also bounded by age so a
// quiet period lets an old burst leave the window (a count-only window never ages out when
// traffic stops). A ring buffer with a running error count: Push, counts and ErrorPercent are
// O(1), Expire is amortised O(1). No allocation after construction.
//
// Age is judged from the oldest entry forward: log lines are close to, but not strictly in,
// time order (nginx stamps a line when the request ends), so an entry stuck behind a slightly
// newer one leaves a moment late. That is harmless at the scale of max_age.
//
// Not thread-safe; the alert engine owns it.
class SlidingWindow {
 public:
  // capacity 0 is taken as 1; max_age <= 0 means no age bound.
  SlidingWindow(size_t capacity, Clock::duration max_age);

  void Push(TimePoint at, bool is_error);
  // Drops the entries older than now - max_age.
  void Expire(TimePoint now);
  // Drops the entries stamped before `at` (from the oldest forward, like Expire).
  void DropBefore(TimePoint at);
  void Clear();
  // SIGHUP: new bounds, keeping the newest entries that still fit.
  void Reconfigure(size_t capacity, Clock::duration max_age);

  size_t size() const { return size_; }
  size_t errors() const { return errors_; }
  size_t capacity() const { return entries_.size(); }
  bool empty() const { return size_ == 0; }
  Clock::duration max_age() const { return max_age_; }
  // Share of errors in percent; 0 when empty.
  double ErrorPercent() const;
  std::optional<TimePoint> oldest() const;

 private:
  struct Entry {
    TimePoint at;
    bool is_error;
  };
  void PopOldest();

  std::vector<Entry> entries_;  // ring buffer; its size is the capacity
  size_t head_ = 0;             // index of the oldest entry
  size_t size_ = 0;
  size_t errors_ = 0;
  Clock::duration max_age_;
};

}  // namespace poolwatch
