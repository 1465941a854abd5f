#include "alerting/release_windows.h"

#include <algorithm>
#include <cmath>

#include "alerting/rule.h"
#include "alerting/rule_internal.h"

namespace poolwatch {
using rule_internal::SameText;

double ReleaseSummary::LatencyQuantile(double q) const {
  if (timed == 0) return -1;
  // Nearest rank, as the latency rule: the ceil(q × n)-th smallest.
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(timed))));
  uint64_t seen = 0;
  size_t bin = 0;
  for (; bin < kLatencyBins - 1; ++bin) {
    seen += latency[bin];
    if (seen >= rank) break;
  }
  if (bin == 0) return 0.0005;  // under 1 ms: the middle of the range people can tell apart
  // The geometric middle of [2^((b - 1) / 3), 2^(b / 3)) ms.
  return std::exp2((static_cast<double>(bin) - 0.5) / 3) / 1000;
}

void ReleaseSummary::Add(const ReleaseSummary& other) {
  requests += other.requests;
  errors += other.errors;
  timed += other.timed;
  for (size_t b = 0; b < kLatencyBins; ++b) latency[b] += other.latency[b];
}

ReleaseWindows::ReleaseWindows(Clock::duration span, Latency latency)
    : latency_(latency == Latency::kOn) {
  const int64_t seconds =
      std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(span).count());
  width_seconds_ = std::max<int64_t>(1, (seconds + kBuckets - 1) / kBuckets);
  // Fixed capacity: the one-entry cache keeps pointers into these vectors.
  pools_.reserve(kMaxPools);
}

int64_t ReleaseWindows::IndexOf(TimePoint t) const {
  const int64_t s = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  return (s >= 0 ? s : s - width_seconds_ + 1) / width_seconds_;
}

const ReleaseWindows::Pool* ReleaseWindows::FindPool(std::string_view pool) const {
  for (const Pool& p : pools_) {
    if (p.name == pool) return &p;
  }
  return nullptr;
}

const ReleaseWindows::Slot* ReleaseWindows::Find(std::string_view pool,
                                                 std::string_view release) const {
  const Pool* p = FindPool(pool);
  if (p == nullptr) return nullptr;
  for (const Slot& s : p->releases) {
    if (s.in_use && s.release == release) return &s;
  }
  return nullptr;
}

void ReleaseWindows::Take(Slot& slot, std::string_view release, TimePoint at) {
  slot.release.assign(release);
  slot.in_use = true;
  slot.first_seen = at;
  slot.last_seen = at;
  slot.observed = 0;
  const size_t buckets = static_cast<size_t>(kBuckets + 1);
  slot.buckets.assign(buckets, Bucket{});
  if (latency_) slot.bins.assign(buckets * ReleaseSummary::kLatencyBins, 0);
}

ReleaseWindows::Slot* ReleaseWindows::SlotFor(std::string_view pool, std::string_view release,
                                              TimePoint at) {
  // The last record's pool first: releases of one pool interleave more than pools do.
  Pool* p = last_pool_ != nullptr && SameText(last_pool_->name, pool) ? last_pool_ : nullptr;
  for (size_t i = 0; p == nullptr && i < pools_.size(); ++i) {
    if (SameText(pools_[i].name, pool)) p = &pools_[i];
  }
  if (p == nullptr) {
    if (pools_.size() >= kMaxPools) return nullptr;
    pools_.emplace_back();
    p = &pools_.back();
    p->name.assign(pool);
    p->releases.reserve(kMaxReleasesPerPool);
    Take(p->other, kOtherReleases, at);
  }
  last_pool_ = p;
  for (Slot& s : p->releases) {
    if (s.in_use && SameText(s.release, release)) return &s;
  }
  // A new release: a free slot, a slot whose release has not served for a whole span, a new
  // slot, or the pool's "other" slot, in that order.
  Slot* free = nullptr;
  for (Slot& s : p->releases) {
    if (!s.in_use || s.last_seen + span() < at) {
      free = &s;
      break;
    }
  }
  if (free == nullptr && p->releases.size() < kMaxReleasesPerPool) {
    p->releases.emplace_back();
    free = &p->releases.back();
  }
  if (free == nullptr) return &p->other;
  Take(*free, release, at);
  return free;
}

void ReleaseWindows::Count(Slot& slot, const LogRecord& record) {
  // Consecutive lines mostly fall in the same bucket: two comparisons instead of a division.
  if (record.time < index_begin_ || record.time >= index_end_) {
    index_ = IndexOf(record.time);
    index_slot_ = static_cast<size_t>((index_ % (kBuckets + 1) + kBuckets + 1) % (kBuckets + 1));
    index_begin_ = TimePoint{} + std::chrono::seconds(index_ * width_seconds_);
    index_end_ = index_begin_ + std::chrono::seconds(width_seconds_);
  }
  const int64_t index = index_;
  const size_t at = index_slot_;
  Bucket& b = slot.buckets[at];
  if (b.index != index) {
    // Older than what the ring holds for this slot: the window has moved past it.
    if (b.index > index) {
      ++dropped_;
      return;
    }
    b = Bucket{index, 0, 0};
    if (latency_) {
      std::fill_n(slot.bins.begin() + static_cast<ptrdiff_t>(at * ReleaseSummary::kLatencyBins),
                  ReleaseSummary::kLatencyBins, 0);
    }
  }
  ++b.requests;
  if (record.status >= 500) ++b.errors;
  if (latency_ && record.request_time >= 0) {
    ++slot.bins[at * ReleaseSummary::kLatencyBins +
                ReleaseSummary::LatencyBin(record.request_time)];
  }
  ++slot.observed;
  if (record.time > slot.last_seen) slot.last_seen = record.time;
}

void ReleaseWindows::Observe(const LogRecord& record) { Observe(record, ServingPoolOf(record)); }

void ReleaseWindows::Observe(const LogRecord& record, std::string_view pool) {
  if (record.release.empty()) return;  // no release header: nothing to compare
  if (pool.empty()) return;
  Slot* slot = last_slot_;
  if (slot == nullptr || !SameText(last_pool_->name, pool) ||
      !SameText(slot->release, record.release) || !slot->in_use) {
    slot = SlotFor(pool, record.release, record.time);
    if (slot == nullptr) {
      ++dropped_;
      return;
    }
    // The "other" slot is not cached: its name is not the record's release.
    last_slot_ = slot == &last_pool_->other ? nullptr : slot;
  }
  Count(*slot, record);
}

int64_t ReleaseWindows::BucketsIn(Clock::duration window) const {
  const int64_t seconds = std::chrono::ceil<std::chrono::seconds>(window).count();
  return std::clamp<int64_t>((seconds + width_seconds_ - 1) / width_seconds_, 1, kBuckets);
}

ReleaseWindows::Counts ReleaseWindows::CountIn(const Slot& slot, TimePoint now,
                                               Clock::duration window) const {
  Counts out;
  if (!slot.in_use) return out;
  const int64_t newest = IndexOf(now);
  const int64_t oldest = newest - BucketsIn(window);
  for (const Bucket& b : slot.buckets) {
    if (b.index > newest || b.index <= oldest) continue;
    out.requests += b.requests;
    out.errors += b.errors;
  }
  return out;
}

void ReleaseWindows::AddTo(const Slot& slot, TimePoint now, Clock::duration window,
                           ReleaseSummary& out) const {
  if (!slot.in_use) return;
  const int64_t newest = IndexOf(now);
  const int64_t oldest = newest - BucketsIn(window);
  for (size_t at = 0; at < slot.buckets.size(); ++at) {
    const Bucket& b = slot.buckets[at];
    if (b.index > newest || b.index <= oldest) continue;
    out.requests += b.requests;
    out.errors += b.errors;
    if (!latency_) continue;
    const uint32_t* bins = slot.bins.data() + at * ReleaseSummary::kLatencyBins;
    for (size_t k = 0; k < ReleaseSummary::kLatencyBins; ++k) {
      out.latency[k] += bins[k];
      out.timed += bins[k];
    }
  }
}

}  // namespace poolwatch
