#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

// The last N durations (request or upstream attempt times), also bounded by age like
// SlidingWindow, kept in order as well, so a quantile and the count above a threshold are a
// lookup and a binary search instead of a sort at every evaluation. Two arrays: a ring in
// arrival order (which entry leaves next) and the same values sorted (what the quantile reads).
// A push or an expiry moves at most N doubles in the sorted one (1.6 KB at N = 200): cheaper
// than a tree's node allocations, and nothing is allocated after construction.
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

  // capacity 0 is taken as 1; max_age <= 0 means no age bound.
  QuantileWindow(size_t capacity, Clock::duration max_age);

  void Push(TimePoint at, double seconds, uint16_t tag);
  // Drops the entries older than now - max_age (from the oldest forward, as SlidingWindow).
  void Expire(TimePoint now);
  // Drops the entries stamped before `at` (from the oldest forward).
  void DropBefore(TimePoint at);
  void Clear();
  // SIGHUP: new bounds, keeping the newest entries that still fit.
  void Reconfigure(size_t capacity, Clock::duration max_age);

  size_t size() const { return sorted_.size(); }
  size_t capacity() const { return ring_.size(); }
  bool empty() const { return sorted_.empty(); }
  Clock::duration max_age() const { return max_age_; }

  // The nearest-rank q-quantile (0 < q <= 1); 0 when empty.
  double Quantile(double q) const;
  // Entries strictly above `seconds`.
  size_t CountAbove(double seconds) const;
  // The slowest entry (the oldest of equals). O(N): for messages, not evaluations.
  std::optional<Entry> Slowest() const;

  // The 1-based rank of the nearest-rank q-quantile among n entries: ceil(q·n), within 1..n.
  // (0.99 · 200 is 198.00000000000003 in doubles; the rank is 198.)
  static size_t NearestRank(double q, size_t n);

 private:
  void PopOldest();

  std::vector<Entry> ring_;     // its size is the capacity
  size_t head_ = 0;             // index of the oldest entry
  std::vector<double> sorted_;  // the entries' seconds, increasing; capacity reserved
  Clock::duration max_age_;
};

}  // namespace poolwatch
