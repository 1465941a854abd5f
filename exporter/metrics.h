#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "exporter/log_format.h"
#include "exporter/log_record.h"

namespace poolwatch {

struct MetricsOptions {
  std::vector<double> request_duration_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                  0.5,   1,    2.5,   5,    10};
  std::vector<double> upstream_duration_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                   0.5,   1,    2.5,   5,    10};
  size_t max_releases_per_pool = 20;  // more distinct releases of one pool → release="other"
  size_t max_pools = 20;              // more distinct pools → pool="other"
  size_t max_upstreams = 64;          // more distinct upstream addresses → upstream="other"
  std::set<std::string> allowed_pools;  // when set, any other pool → pool="other"
};

// Label value replacing what exceeded a cardinality cap or the pool allow-list.
inline constexpr std::string_view kOverflowLabel = "other";

// A label value as it may appear in the exposition: invalid UTF-8 replaced by U+FFFD, length
// capped, "none" for an empty value. (Quotes, backslashes and newlines are escaped later by
// prometheus-cpp's serializer.)
std::string SanitizeLabelValue(std::string_view raw);

// The per-request metrics. Record() is meant for one parsing thread; scrapes may run
// concurrently on other threads (prometheus-cpp's metric types are thread-safe).
//
// Metric handles are created once per label set and remembered: after warm-up a line costs a
// couple of hash lookups of short strings and no allocation.
class ExporterMetrics {
 public:
  ExporterMetrics(prometheus::Registry& registry, MetricsOptions options);

  void Record(const LogRecord& record);
  void CountMalformed(MalformedReason reason);
  void AddBytesRead(uint64_t bytes) { bytes_read_->Increment(static_cast<double>(bytes)); }
  void CountRotation() { rotations_->Increment(); }
  void CountTruncation() { truncations_->Increment(); }

 private:
  struct StatusCounter {
    int status;
    prometheus::Counter* counter;
  };
  struct ReleaseSeries {
    std::string label;
    prometheus::Histogram* duration = nullptr;
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
  struct PoolSeries {
    std::string label;
    prometheus::Histogram* upstream_duration = nullptr;
    StringMap<std::unique_ptr<ReleaseSeries>> releases;  // raw value → series
    std::unique_ptr<ReleaseSeries> overflow_release;
    StringMap<std::unique_ptr<UpstreamSeries>> upstreams;  // raw address → series
    std::unique_ptr<UpstreamSeries> overflow_upstream;
  };

  PoolSeries& PoolFor(std::string_view raw);
  ReleaseSeries& ReleaseFor(PoolSeries& pool, std::string_view raw);
  UpstreamSeries& UpstreamFor(PoolSeries& pool, std::string_view raw);
  prometheus::Counter& RequestCounter(PoolSeries& pool, ReleaseSeries& release, int status);
  prometheus::Counter& AttemptCounter(PoolSeries& pool, UpstreamSeries& upstream, int status);

  MetricsOptions options_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Family<prometheus::Histogram>& upstream_duration_;
  prometheus::Counter* lines_parsed_;
  prometheus::Counter* lines_malformed_;
  std::vector<prometheus::Counter*> malformed_by_reason_;
  prometheus::Counter* bytes_read_;
  prometheus::Counter* rotations_;
  prometheus::Counter* truncations_;

  StringMap<std::unique_ptr<PoolSeries>> pools_;  // raw pool → series
  std::unique_ptr<PoolSeries> overflow_pool_;
  size_t distinct_pools_ = 0;
  // Upstream addresses admitted as label values, capped across all pools.
  std::set<std::string, std::less<>> upstream_labels_;

  // Consecutive lines usually share pool and release: remember the last pair.
  std::string last_pool_raw_, last_release_raw_;
  PoolSeries* last_pool_ = nullptr;
  ReleaseSeries* last_release_ = nullptr;
};

// poolwatch_build_info{version,revision} 1.
void RegisterBuildInfo(prometheus::Registry& registry);
std::string_view PoolwatchVersion();
std::string_view PoolwatchRevision();

}  // namespace poolwatch
