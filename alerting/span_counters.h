#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

// Requests and the bad ones among them, over some span of time.
struct RequestCounts {
  uint64_t requests = 0;
  uint64_t bad = 0;
};

// Per-bucket (requests, bad) counts over a fixed ring of time buckets, with a running sum over
// each of a few spans ending at the newest bucket (the windows of an SLO's burn-rate alerts), so
// adding a request, advancing and reading a span's sum allocate nothing and cost O(spans).
// Memory is the longest span in buckets, whatever the traffic: 3 days of one-minute buckets is
// 4,320 pairs of 32-bit counts.
//
// A span of n buckets covers the newest bucket (partly over) and the n - 1 before it: it
// reaches from (span - bucket) to span back from `now`. Requests stamped before the ring are not
// counted; a request ahead of the newest bucket moves the ring forward (log lines are close to,
// not strictly in, time order). Not thread-safe; the rule that owns it serialises calls.
class SpanCounters {
 public:
  static constexpr size_t kMaxSpans = 10;

  // What a restart keeps (the state file): the bucket width, the index of the newest bucket
  // (time since the epoch in buckets) and the counts from the oldest bucket to the newest.
  struct Snapshot {
    int64_t bucket_seconds = 0;
    int64_t head = 0;
    std::vector<uint32_t> requests;
    std::vector<uint32_t> bad;
  };

  // `spans` (at most kMaxSpans, each rounded up to whole buckets, at least one) are the sums
  // kept; the ring holds the longest.
  SpanCounters(std::chrono::seconds bucket, const std::vector<std::chrono::seconds>& spans);

  // Inline: consecutive log lines mostly share the newest bucket.
  void Add(TimePoint at, bool bad) {
    if (at >= head_begin_ && at < head_end_) {
      ++requests_[head_slot_];
      bad_[head_slot_] += bad ? 1 : 0;
      for (size_t s = 0; s < span_count_; ++s) {
        ++sums_[s].requests;
        sums_[s].bad += bad ? 1 : 0;
      }
      return;
    }
    AddElsewhere(at, 1, bad ? 1 : 0);
  }
  // Moves the newest bucket to the one of `now` (never back): buckets that leave a span are
  // taken out of its sum.
  void AdvanceTo(TimePoint now);
  // The sum over span `i` (in the order given) ending at the newest bucket.
  RequestCounts Sum(size_t i) const { return sums_[i]; }
  size_t span_buckets(size_t i) const { return span_buckets_[i]; }
  std::chrono::seconds bucket() const { return std::chrono::seconds(bucket_seconds_); }
  size_t buckets() const { return requests_.size(); }

  Snapshot Export() const;
  // Takes the buckets of `snapshot` that fall into this ring (same bucket width; the ring moves
  // to the snapshot's newest bucket if it is behind). "" when taken, otherwise why not.
  std::string Import(const Snapshot& snapshot);

 private:
  int64_t IndexOf(TimePoint t) const;
  TimePoint StartOf(int64_t index) const;
  void AdvanceToIndex(int64_t index);
  void AddElsewhere(TimePoint at, uint32_t requests, uint32_t bad);
  void AddAtIndex(int64_t index, uint32_t requests, uint32_t bad);
  size_t SlotOf(int64_t index) const {
    const int64_t n = static_cast<int64_t>(requests_.size());
    return static_cast<size_t>((index % n + n) % n);
  }

  int64_t bucket_seconds_ = 60;
  std::vector<uint32_t> requests_;  // by bucket index modulo the ring's size
  std::vector<uint32_t> bad_;
  size_t span_count_ = 0;
  std::array<size_t, kMaxSpans> span_buckets_{};
  std::array<RequestCounts, kMaxSpans> sums_{};
  bool started_ = false;
  int64_t head_ = 0;
  size_t head_slot_ = 0;
  TimePoint head_begin_ = TimePoint::max();  // [head_begin_, head_end_): the newest bucket
  TimePoint head_end_ = TimePoint::min();
};

}  // namespace poolwatch
