#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

// The last N durations (request or upstream attempt times), also bounded by age like
// SlidingWindow, with a running count of those above a mark (the rule's threshold) and exact
// quantiles on demand.
//
// A push is a ring write and one comparison. A quantile is found by selection (nth_element)
// over a copy of the window in a buffer kept for it: O(N) per question, asked once per
// evaluation, never per record. Keeping the window sorted as records arrive (binary searches
// and moves at every push) cost about 100 ns per record and rule in replay, mostly in search
// branches that cannot be predicted; selection costs about 1 µs per evaluation at N = 200, and
// evaluations come at most every few dozen records. No allocation after construction.
//
// Quantiles are nearest-rank, the value of an actual entry, never an interpolation: the
// q-quantile of n entries is the ceil(q·n)-th smallest. So a single outlier among 200 is not
// the p99 (that is the 198th smallest: 3 slow entries are needed to put it above the rest).
//
// Not thread-safe; the alert engine owns it.
class QuantileWindow {
 public:
  struct Entry {
    TimePoint at;
    double seconds = 0;
    // What the caller wants to know about the entry later (LatencyRule: which upstream served
    // it); stored, never interpreted.
    uint16_t tag = 0;
  };

  // capacity 0 is taken as 1; max_age <= 0 means no age bound. `mark`: see above_mark().
  QuantileWindow(size_t capacity, Clock::duration max_age, double mark);

  void Push(TimePoint at, double seconds, uint16_t tag);
  // Drops the entries older than now - max_age (from the oldest forward, as SlidingWindow).
  void Expire(TimePoint now);
  // Drops the entries stamped before `at` (from the oldest forward).
  void DropBefore(TimePoint at);
  void Clear();
  // SIGHUP: new bounds, keeping the newest entries that still fit.
  void Reconfigure(size_t capacity, Clock::duration max_age);
  // A new mark; the entries are counted again (O(N)).
  void SetMark(double mark);

  size_t size() const { return size_; }
  size_t capacity() const { return ring_.size(); }
  bool empty() const { return size_ == 0; }
  Clock::duration max_age() const { return max_age_; }
  double mark() const { return mark_; }
  // Entries strictly above the mark.
  size_t above_mark() const { return above_mark_; }

  // The nearest-rank q-quantile (0 < q <= 1); 0 when empty. O(N).
  double Quantile(double q) const;
  // Entries strictly above `seconds`. O(N).
  size_t CountAbove(double seconds) const;
  // The slowest entry (the oldest of equals). O(N): for messages, not evaluations.
  std::optional<Entry> Slowest() const;

  // The 1-based rank of the nearest-rank q-quantile among n entries: ceil(q·n), within 1..n.
  // (0.99 · 200 is 198.00000000000003 in doubles; the rank is 198.)
  static size_t NearestRank(double q, size_t n);

 private:
  // Quantiles within this many ranks of the largest are found by one pass (see Quantile()).
  static constexpr size_t kTopScan = 16;

  void PopOldest();
  double Select(double q) const;    // Quantile() without the remembered answer
  const Entry& At(size_t i) const;  // i-th oldest

  std::vector<Entry> ring_;  // its size is the capacity
  size_t head_ = 0;          // index of the oldest entry
  size_t size_ = 0;
  Clock::duration max_age_;
  double mark_;
  size_t above_mark_ = 0;
  mutable std::vector<double> scratch_;  // Quantile's copy; capacity reserved
  // The last Quantile() answer while no entry came or went: a pool without traffic is asked
  // again at every evaluation, and its window has not changed.
  mutable bool quantile_known_ = false;
  mutable double known_q_ = 0;
  mutable double known_quantile_ = 0;
};

}  // namespace poolwatch
