#include "alerting/span_counters.h"

#include <algorithm>

namespace poolwatch {

SpanCounters::SpanCounters(std::chrono::seconds bucket,
                           const std::vector<std::chrono::seconds>& spans)
    : bucket_seconds_(std::max<int64_t>(1, bucket.count())) {
  size_t longest = 1;
  span_count_ = std::min(spans.size(), kMaxSpans);
  for (size_t i = 0; i < span_count_; ++i) {
    const int64_t n = (spans[i].count() + bucket_seconds_ - 1) / bucket_seconds_;
    span_buckets_[i] = static_cast<size_t>(std::max<int64_t>(1, n));
    longest = std::max(longest, span_buckets_[i]);
  }
  requests_.assign(longest, 0);
  bad_.assign(longest, 0);
}

int64_t SpanCounters::IndexOf(TimePoint t) const {
  const int64_t seconds = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  return seconds >= 0 ? seconds / bucket_seconds_ : -((-seconds - 1) / bucket_seconds_) - 1;
}

TimePoint SpanCounters::StartOf(int64_t index) const {
  return TimePoint{} + std::chrono::seconds(index * bucket_seconds_);
}

void SpanCounters::AdvanceTo(TimePoint now) {
  if (now < head_end_) return;
  AdvanceToIndex(IndexOf(now));
}

void SpanCounters::AdvanceToIndex(int64_t index) {
  const int64_t n = static_cast<int64_t>(requests_.size());
  if (started_ && index <= head_) return;
  if (!started_) {
    started_ = true;
  } else if (index - head_ >= n) {
    std::fill(requests_.begin(), requests_.end(), 0);
    std::fill(bad_.begin(), bad_.end(), 0);
    for (size_t s = 0; s < span_count_; ++s) sums_[s] = RequestCounts{};
  } else {
    for (int64_t i = head_ + 1; i <= index; ++i) {
      // Bucket i enters every span; bucket i - n_s leaves span s (its slot still holds it: no
      // span is longer than the ring).
      for (size_t s = 0; s < span_count_; ++s) {
        const size_t leaving = SlotOf(i - static_cast<int64_t>(span_buckets_[s]));
        sums_[s].requests -= requests_[leaving];
        sums_[s].bad -= bad_[leaving];
      }
      const size_t slot = SlotOf(i);
      requests_[slot] = 0;
      bad_[slot] = 0;
    }
  }
  head_ = index;
  head_slot_ = SlotOf(index);
  head_begin_ = StartOf(index);
  head_end_ = StartOf(index + 1);
}

void SpanCounters::AddAtIndex(int64_t index, uint32_t requests, uint32_t bad) {
  const int64_t n = static_cast<int64_t>(requests_.size());
  if (index <= head_ - n) return;  // before the ring
  const size_t slot = SlotOf(index);
  requests_[slot] += requests;
  bad_[slot] += bad;
  for (size_t s = 0; s < span_count_; ++s) {
    if (index > head_ - static_cast<int64_t>(span_buckets_[s])) {
      sums_[s].requests += requests;
      sums_[s].bad += bad;
    }
  }
}

void SpanCounters::AddElsewhere(TimePoint at, uint32_t requests, uint32_t bad) {
  const int64_t index = IndexOf(at);
  AdvanceToIndex(index);
  AddAtIndex(index, requests, bad);
}

SpanCounters::Snapshot SpanCounters::Export() const {
  Snapshot out;
  out.bucket_seconds = bucket_seconds_;
  if (!started_) return out;
  out.head = head_;
  const int64_t n = static_cast<int64_t>(requests_.size());
  out.requests.reserve(requests_.size());
  out.bad.reserve(requests_.size());
  for (int64_t i = head_ - n + 1; i <= head_; ++i) {
    out.requests.push_back(requests_[SlotOf(i)]);
    out.bad.push_back(bad_[SlotOf(i)]);
  }
  return out;
}

std::string SpanCounters::Import(const Snapshot& snapshot) {
  if (snapshot.bucket_seconds != bucket_seconds_) {
    return "buckets of " + std::to_string(snapshot.bucket_seconds) + "s, expected " +
           std::to_string(bucket_seconds_) + "s";
  }
  if (snapshot.requests.size() != snapshot.bad.size()) return "counts of different lengths";
  for (size_t k = 0; k < snapshot.requests.size(); ++k) {
    if (snapshot.bad[k] > snapshot.requests[k]) return "more bad requests than requests";
  }
  if (snapshot.requests.empty()) return "";
  // The saved ring's newest bucket; the downtime since then is empty buckets, which advancing
  // to the first evaluation after the restart makes.
  AdvanceToIndex(snapshot.head);
  const int64_t oldest = snapshot.head - static_cast<int64_t>(snapshot.requests.size()) + 1;
  for (size_t k = 0; k < snapshot.requests.size(); ++k) {
    if (snapshot.requests[k] == 0) continue;
    AddAtIndex(oldest + static_cast<int64_t>(k), snapshot.requests[k], snapshot.bad[k]);
  }
  return "";
}

}  // namespace poolwatch
