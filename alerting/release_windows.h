#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_record.h"

namespace poolwatch {

// What the requests of one release (or of several, summed) did over a window: how many, how
// many got a 5xx, and their request times as a log-scale histogram.
struct ReleaseSummary {
  // Latency bins: bin 0 holds request times under 1 ms, bin b (1 .. kLatencyBins - 1) those
  // from 2^((b - 1) / 3) ms to 2^(b / 3) ms, the last one everything from 2^(46/3) ms (about
  // 41 s) up. Three bins an octave: a quantile read from them is the geometric middle of its
  // bin, within 12.3 % of the exact value (2^(1/6) - 1) below 41 s.
  static constexpr size_t kLatencyBins = 48;

  uint64_t requests = 0;
  uint64_t errors = 0;  // 5xx the client got
  std::array<uint64_t, kLatencyBins> latency{};
  uint64_t timed = 0;  // requests with a $request_time, the histogram's total

  // 5xx share in percent; 0 without requests.
  double ErrorPercent() const {
    return requests == 0 ? 0 : 100.0 * static_cast<double>(errors) / static_cast<double>(requests);
  }
  // The nearest-rank `q` quantile of the request times, in seconds, to the histogram's
  // resolution; negative when no request had a time.
  double LatencyQuantile(double q) const;
  void Add(const ReleaseSummary& other);

  // floor(3 × log2(ms)) + 1, from the double's bits rather than a log2 (the verdict's windows
  // bin every line): ms = m × 2^e with m in [1, 2) is in bin 3e + 1, + 1 more from m ≥ 2^(1/3),
  // + 1 more from m ≥ 2^(2/3). The thresholds are the smallest doubles at or above those, so
  // a value is binned exactly, where a log2 rounded within a few ulps of an edge.
  static size_t LatencyBin(double seconds) { return LatencyBinOfMilliseconds(seconds * 1000); }
  static size_t LatencyBinOfMilliseconds(double ms) {
    if (!(ms >= 1)) return 0;  // also NaN
    const uint64_t bits = std::bit_cast<uint64_t>(ms);
    const int64_t exponent = static_cast<int64_t>(bits >> 52) - 1023;  // ms ≥ 1: sign bit 0
    if (exponent >= static_cast<int64_t>(kLatencyBins / 3)) return kLatencyBins - 1;  // and inf
    const uint64_t mantissa = bits & kMantissaMask;
    const size_t bin = static_cast<size_t>(3 * exponent + 1) + (mantissa >= kCbrt2Mantissa) +
                       (mantissa >= kCbrt4Mantissa);
    return bin < kLatencyBins - 1 ? bin : kLatencyBins - 1;
  }

 private:
  static constexpr uint64_t kMantissaMask = (uint64_t{1} << 52) - 1;
  // The 52 stored mantissa bits of the smallest doubles ≥ 2^(1/3) (1.2599210498948732) and
  // ≥ 2^(2/3) (1.5874010519681996).
  static constexpr uint64_t kCbrt2Mantissa = 0x428a2f98d728b;
  static constexpr uint64_t kCbrt4Mantissa = 0x965fea53d6e3d;
};

// Per (pool, release): requests, 5xx and (optionally) request times over the last `span` of
// log time, in a fixed ring of time buckets per release. This is what release_regression judges
// and what the rollout verdict API reports; the pool of a request is ServingPoolOf(record), its
// release record.release ("" — no release header — is not counted anywhere).
//
// Buckets: span / kBuckets wide (whole seconds, at least one), kBuckets + 1 of them per release
// (the one being filled and kBuckets before it), each stamped with its absolute index so a
// release that was quiet needs no sweeping: a stale bucket is recognised and reset when written
// or skipped when read. A window of w at `now` sums the buckets of the last ceil(w / width)
// bucket indices, the current one included: it is exact to one bucket's width (1 s for any
// span up to kBuckets seconds).
//
// Bounds: at most kMaxPools pools and kMaxReleasesPerPool releases a pool; a further release is
// counted in its pool's "other" slot (reported, never judged) until a slot frees. A release that
// has served nothing for longer than `span` frees its slot for the next new one.
// Memory per release slot: (kBuckets + 1) × 16 bytes, plus (kBuckets + 1) × kLatencyBins × 4
// bytes with latency on; 20 pools × (20 + 1) slots: 420 × 61 × 16 B ≈ 0.4 MB without latency,
// 420 × 61 × 208 B ≈ 5.3 MB with it. Slots are allocated when a pool or release first shows
// (and then reused), so a site with 2 pools and 3 live releases uses 6 slots.
//
// Observe() allocates nothing in the steady state (a one-entry cache for the last pool and
// release, then two comparisons and a few additions). Not thread-safe: its owner serialises.
class ReleaseWindows {
 public:
  static constexpr size_t kMaxPools = 32;
  static constexpr size_t kMaxReleasesPerPool = 20;
  static constexpr int64_t kBuckets = 60;
  // The name the "other" slot reports.
  static constexpr std::string_view kOtherReleases = "(other releases)";

  enum class Latency { kOff, kOn };

  // A span under a second is taken as one second.
  ReleaseWindows(Clock::duration span, Latency latency);

  void Observe(const LogRecord& record);
  // `pool` is ServingPoolOf(record), when the caller has it already.
  void Observe(const LogRecord& record, std::string_view pool);

  struct Bucket {
    int64_t index = -1;  // absolute: seconds since the epoch / width
    uint32_t requests = 0;
    uint32_t errors = 0;
  };
  // One release of one pool (or the pool's "other" slot).
  struct Slot {
    std::string release;
    bool in_use = false;
    TimePoint first_seen{};  // first request since it took this slot: when it started serving
    TimePoint last_seen{};   // newest request
    uint64_t observed = 0;   // requests counted since it took this slot
    std::vector<Bucket> buckets;
    std::vector<uint32_t> bins;  // buckets × kLatencyBins; empty with latency off
  };
  struct Pool {
    std::string name;
    std::vector<Slot> releases;  // at most kMaxReleasesPerPool; freed ones have !in_use
    Slot other;
  };

  const std::vector<Pool>& pools() const { return pools_; }
  // The pool's entry, or null.
  const Pool* FindPool(std::string_view pool) const;
  // The release's slot in `pool`, or null (never the "other" slot).
  const Slot* Find(std::string_view pool, std::string_view release) const;
  // Adds what `slot` counted in the `window` ending at `now` to `out`. A window longer than
  // span() is taken as span().
  void AddTo(const Slot& slot, TimePoint now, Clock::duration window, ReleaseSummary& out) const;
  // The same without latency: requests and 5xx only (what a rule evaluates many times a second).
  struct Counts {
    uint64_t requests = 0;
    uint64_t errors = 0;
  };
  Counts CountIn(const Slot& slot, TimePoint now, Clock::duration window) const;

  Clock::duration span() const { return std::chrono::seconds(width_seconds_ * kBuckets); }
  Clock::duration bucket() const { return std::chrono::seconds(width_seconds_); }
  // Records dropped: stamped before what the ring still covers, or beyond the pool cap.
  uint64_t dropped() const { return dropped_; }

 private:
  int64_t IndexOf(TimePoint t) const;
  // The buckets of the `window` ending at `now`: indices in (newest - n, newest].
  int64_t BucketsIn(Clock::duration window) const;
  Slot* SlotFor(std::string_view pool, std::string_view release, TimePoint at);
  void Take(Slot& slot, std::string_view release, TimePoint at);
  void Count(Slot& slot, const LogRecord& record);

  int64_t width_seconds_ = 1;
  bool latency_ = false;
  std::vector<Pool> pools_;
  // The one-entry cache: the slot of the last record's pool and release.
  Slot* last_slot_ = nullptr;
  Pool* last_pool_ = nullptr;
  // The bucket index of the last record's time, valid for [index_begin_, index_end_).
  int64_t index_ = 0;
  size_t index_slot_ = 0;  // its place in every slot's ring
  TimePoint index_begin_ = TimePoint::max();
  TimePoint index_end_ = TimePoint::min();
  uint64_t dropped_ = 0;
};

}  // namespace poolwatch
