#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log_record.h"
#include "exporter/log_format.h"

namespace poolwatch {

struct MetricsOptions {
  std::vector<double> request_duration_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                  0.5,   1,    2.5,   5,    10};
  std::vector<double> upstream_duration_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                   0.5,   1,    2.5,   5,    10};
  size_t max_releases_per_pool = 20;  // more distinct releases of one pool → release="other"
  // A new release of a pool at its cap takes the slot of the release seen least recently when
  // that one has not been seen for this long (log time): after many deploys the newest release
  // gets its own series again instead of "other" until a restart.
  std::chrono::milliseconds release_eviction_after{std::chrono::minutes(15)};
  size_t max_pools = 20;                // more distinct pools → pool="other"
  size_t max_upstreams = 64;            // more distinct upstream addresses → upstream="other"
  std::set<std::string> allowed_pools;  // when set, any other pool → pool="other"
  // The source labels (SourceLabelNames(config): log.path_label's name, then log.syslog.labels):
  // labels on the four per-request families whose values say where a line came from
  // (SetSource()); none by default.
  std::vector<std::string> source_labels;
  // More distinct combinations of their values → "other" in every source label.
  size_t max_sources = 50;
};

// Label value replacing what exceeded a cardinality cap or the pool allow-list.
inline constexpr std::string_view kOverflowLabel = "other";

// A label value as it may appear in the exposition: invalid UTF-8 replaced by U+FFFD, length
// capped, "none" for an empty value. (Quotes, backslashes and newlines are escaped later by
// prometheus-cpp's serializer.)
std::string SanitizeLabelValue(std::string_view raw);

// The per-request metrics. Record() is meant for one parsing thread; scrapes may run
// concurrently on other threads (prometheus-cpp's metric types are thread-safe, and
// AppendSeriesExposition() takes the lock Record() takes when it adds or removes a series).
//
// Metric handles are created once per label set and remembered: after warm-up a line costs a
// few string compares (one-entry caches in front of the hash maps) and no allocation. Raw values
// that clean up to the same label ("" and "none", two long values cut at the same length, a
// pool named "other") share one series, so no prometheus-cpp metric has two owners.
//
// Record() counts into plain per-series tallies and publishes them to prometheus-cpp every
// `flush_every` records and at Flush(): prometheus-cpp's Counter::Increment is a CAS loop and
// Histogram::Observe takes a mutex, so a batch of lines costs one Increment(n) and one
// ObserveMultiple() per touched series instead of one call per line. The published values are
// the same as with one update per line, histogram sums included (see Flush()). The default,
// flush_every = 1, publishes every record at once; a caller that batches must call Flush() at
// the end of each batch so scrapes stay current.
class ExporterMetrics {
 public:
  // The four per-request families (requests, request durations, attempts, upstream durations:
  // nearly every series at the caps) are registered in `series_registry` when given, else in
  // `registry` with the others. The daemon keeps them apart and serves them with
  // AppendSeriesExposition(), so a scrape skips prometheus-cpp's Collect() for them.
  ExporterMetrics(prometheus::Registry& registry, MetricsOptions options,
                  prometheus::Registry* series_registry = nullptr);
  // Pending counts point into the object.
  ExporterMetrics(const ExporterMetrics&) = delete;
  ExporterMetrics& operator=(const ExporterMetrics&) = delete;

  void Record(const LogRecord& record);
  // Publishes what Record() has counted since the last flush.
  void Flush();
  // Publish after this many records (at least 1) even without Flush().
  void SetFlushEvery(uint32_t records) { flush_every_ = records == 0 ? 1 : records; }
  void CountMalformed(MalformedReason reason);
  void AddBytesRead(uint64_t bytes) { bytes_read_->Increment(static_cast<double>(bytes)); }
  void CountRotation() { rotations_->Increment(); }
  void CountTruncation() { truncations_->Increment(); }
  // The source labels' values of the lines recorded from now on (the file's or the sender's),
  // in source_labels' order; missing ones are "". Ignored without source labels. Called per
  // file or datagram: unchanged values cost a compare each, a known combination one lookup.
  void SetSource(std::span<const std::string> raw);

  // Appends the four per-request families in the text format: the lines
  // AppendTextExposition() writes for their part of Collect(), in another order of series, read
  // straight from the series this object keeps (at the caps several times cheaper than
  // prometheus-cpp's Collect(), which copies every label of every series twice). Thread-safe.
  void AppendSeriesExposition(std::string& out) const;

 private:
  // A counter's increments not yet published. Lives at a stable address (inside a series that
  // is never moved, or in a vector that is only appended to right after a Flush()), so the
  // dirty list can point at it.
  struct PendingCounter {
    prometheus::Counter* counter = nullptr;
    uint64_t pending = 0;
  };
  // A histogram's observations not yet published, bucketed as prometheus-cpp buckets them.
  struct PendingHistogram {
    prometheus::Histogram* histogram = nullptr;
    const std::vector<double>* bounds = nullptr;
    std::vector<double> buckets;  // bounds->size() + 1, the last one +Inf
    uint64_t count = 0;
    double last = 0;       // the only value when count == 1
    double sum = 0;        // what prometheus-cpp's sum would be with one Observe() per value
    double published = 0;  // what it is
  };
  struct StatusCounter {
    int status;
    PendingCounter counter;
  };
  struct ReleaseSeries {
    std::string label;
    TimePoint last_seen{};  // log time of its latest request
    PendingHistogram duration;
    std::vector<StatusCounter> requests;  // few distinct statuses: a linear scan beats a map
  };
  struct UpstreamSeries {
    std::string label;
    std::vector<StatusCounter> attempts;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, Hash, std::equal_to<>>;
  // The distinct series of one kind, each once (the scrape walks `all`), and the raw values
  // that lead to them (several raw values may lead to one series). `overflow` is the series
  // labelled "other", once something exceeded the cap; it is also in `all`.
  template <typename S>
  struct SeriesSet {
    std::vector<std::unique_ptr<S>> all;  // changed under series_mutex_
    StringMap<S*> by_raw;                 // the parsing thread's alone
    S* overflow = nullptr;
  };
  struct PoolSeries {
    std::string label;
    PendingHistogram upstream_duration;
    SeriesSet<ReleaseSeries> releases;
    SeriesSet<UpstreamSeries> upstreams;
    // Consecutive attempts usually go to the same server: remember the last one.
    std::string last_upstream_raw;
    UpstreamSeries* last_upstream = nullptr;
  };

  // The series of one combination of the source labels' values (one, without source labels).
  struct SourceSeries {
    std::string label;                // SourceKey() of `values`: what tells two apart
    std::vector<std::string> values;  // in source_labels' order, as exposed
    SeriesSet<PoolSeries> pools;
  };

  // The source series with these (sanitized) values, created when there is none.
  SourceSeries& SourceLabelled(std::vector<std::string> values);
  // The series labelled `label` in `set`, created when there is none; under series_mutex_.
  template <typename S>
  S& Labelled(SeriesSet<S>& set, std::string label);
  // `set`'s "other" series.
  template <typename S>
  S& Overflow(SeriesSet<S>& set);
  PoolSeries& PoolFor(std::string_view raw);
  ReleaseSeries& ReleaseFor(PoolSeries& pool, std::string_view raw, TimePoint now);
  // Frees the slot of the pool's least recently seen release when it has been idle long enough;
  // false when no release qualifies.
  bool EvictIdleRelease(PoolSeries& pool, TimePoint now);
  UpstreamSeries& UpstreamFor(PoolSeries& pool, std::string_view raw);
  // UpstreamFor() past its one-entry cache, out of line: the per-attempt cache hit then needs no
  // stack frame for the label string.
  UpstreamSeries& FindUpstream(PoolSeries& pool, std::string_view raw);
  PendingCounter& RequestCounter(PoolSeries& pool, ReleaseSeries& release, int status);
  PendingCounter& AttemptCounter(PoolSeries& pool, UpstreamSeries& upstream, int status);
  // `labels` plus the source labels, when there are some, for prometheus-cpp's families.
  prometheus::Labels WithSource(prometheus::Labels labels) const;
  static void InitHistogram(PendingHistogram& h, prometheus::Histogram& histogram,
                            const std::vector<double>& bounds);
  void Count(PendingCounter& counter);
  void Observe(PendingHistogram& histogram, double value);

  MetricsOptions options_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Family<prometheus::Histogram>& upstream_duration_;
  PendingCounter lines_parsed_;
  prometheus::Counter* lines_malformed_;
  std::vector<prometheus::Counter*> malformed_by_reason_;
  prometheus::Counter* bytes_read_;
  prometheus::Counter* rotations_;
  prometheus::Counter* truncations_;
  // Taken by the parsing thread when it adds or removes a series or a metric handle, and by
  // AppendSeriesExposition() while it walks them; lookups on the parsing thread need none.
  mutable std::mutex series_mutex_;

  SeriesSet<SourceSeries> sources_;
  SourceSeries* source_ = nullptr;       // where Record() counts
  std::vector<std::string> source_raw_;  // the raw values source_ came from
  std::string source_key_;               // SourceKey() of source_raw_ (its buffer reused)
  // Indices into source_labels in the order of their names: the exposition writes labels sorted.
  std::vector<size_t> source_order_;
  size_t distinct_pools_ = 0;  // admitted under the cap ("other" and shared labels not counted)
  // Upstream addresses admitted as label values, capped across all pools.
  std::set<std::string, std::less<>> upstream_labels_;

  // Consecutive lines usually share pool and release: remember the last pair.
  std::string last_pool_raw_, last_release_raw_;
  PoolSeries* last_pool_ = nullptr;
  ReleaseSeries* last_release_ = nullptr;

  // Series with unpublished counts, and how many records since the last flush.
  std::vector<PendingCounter*> dirty_counters_;
  std::vector<PendingHistogram*> dirty_histograms_;
  uint32_t flush_every_ = 1;
  uint32_t unflushed_records_ = 0;
};

// poolwatch_build_info{version,revision} 1.
void RegisterBuildInfo(prometheus::Registry& registry);
std::string_view PoolwatchVersion();
std::string_view PoolwatchRevision();

}  // namespace poolwatch
