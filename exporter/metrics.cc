#include "exporter/metrics.h"

#include <prometheus/gauge.h>

#include <cmath>
#include <limits>

namespace poolwatch {
namespace {

constexpr size_t kMaxLabelBytes = 128;

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;                          // overlong
  if (n == 3 && c == 0xE0 && byte(i + 1) < 0xA0) return 0;   // overlong
  if (n == 3 && c == 0xED && byte(i + 1) >= 0xA0) return 0;  // surrogate
  if (n == 4 &&
      (c > 0xF4 || (c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) >= 0x90))) {
    return 0;
  }
  return n;
}

}  // namespace

std::string SanitizeLabelValue(std::string_view raw) {
  if (raw.empty()) return "none";
  std::string out;
  out.reserve(std::min(raw.size(), kMaxLabelBytes));
  for (size_t i = 0; i < raw.size() && out.size() < kMaxLabelBytes;) {
    size_t n = Utf8SequenceLength(raw, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(raw.substr(i, n));
      i += n;
    }
  }
  return out;
}

ExporterMetrics::ExporterMetrics(prometheus::Registry& registry, MetricsOptions options)
    : options_(std::move(options)),
      requests_(prometheus::BuildCounter()
                    .Name("poolwatch_http_requests_total")
                    .Help("Requests logged by nginx, by the pool and release that answered and "
                          "the status the client received.")
                    .Register(registry)),
      request_duration_(prometheus::BuildHistogram()
                            .Name("poolwatch_http_request_duration_seconds")
                            .Help("nginx $request_time: from the first client byte to the last "
                                  "byte sent, by pool and release.")
                            .Register(registry)),
      attempts_(prometheus::BuildCounter()
                    .Name("poolwatch_upstream_attempts_total")
                    .Help("Requests nginx sent to an upstream server, one per attempt (retries "
                          "included), by the server's pool, address and status (0: no "
                          "response).")
                    .Register(registry)),
      upstream_duration_(prometheus::BuildHistogram()
                             .Name("poolwatch_upstream_response_duration_seconds")
                             .Help("nginx $upstream_response_time of each attempt, by pool.")
                             .Register(registry)) {
  auto& lines = prometheus::BuildCounter()
                    .Name("poolwatch_log_lines_total")
                    .Help("Access-log lines read, by result.")
                    .Register(registry);
  lines_parsed_.counter = &lines.Add({{"result", "parsed"}});
  lines_malformed_ = &lines.Add({{"result", "malformed"}});
  auto& malformed = prometheus::BuildCounter()
                        .Name("poolwatch_log_malformed_lines_total")
                        .Help("Access-log lines skipped, by reason.")
                        .Register(registry);
  for (size_t r = 0; r < static_cast<size_t>(MalformedReason::kCount_); ++r) {
    auto name = MalformedReasonName(static_cast<MalformedReason>(r));
    malformed_by_reason_.push_back(&malformed.Add({{"reason", std::string(name)}}));
  }
  bytes_read_ = &prometheus::BuildCounter()
                     .Name("poolwatch_log_bytes_read_total")
                     .Help("Bytes read from access logs.")
                     .Register(registry)
                     .Add({});
  rotations_ = &prometheus::BuildCounter()
                    .Name("poolwatch_log_rotations_total")
                    .Help(
                        "Times the followed log was replaced by a new file (rename or "
                        "delete and re-create).")
                    .Register(registry)
                    .Add({});
  truncations_ = &prometheus::BuildCounter()
                      .Name("poolwatch_log_truncations_total")
                      .Help("Times the followed log shrank in place (copytruncate).")
                      .Register(registry)
                      .Add({});
}

void ExporterMetrics::CountMalformed(MalformedReason reason) {
  lines_malformed_->Increment();
  malformed_by_reason_[static_cast<size_t>(reason)]->Increment();
}

ExporterMetrics::PoolSeries& ExporterMetrics::PoolFor(std::string_view raw) {
  if (auto it = pools_.find(raw); it != pools_.end()) return *it->second;
  std::string label = SanitizeLabelValue(raw);
  bool allowed = options_.allowed_pools.empty() || options_.allowed_pools.count(label) > 0 ||
                 raw == kPoolNone || raw == kPoolUnknown;
  if (!allowed || distinct_pools_ >= options_.max_pools) {
    if (!overflow_pool_) {
      overflow_pool_ = std::make_unique<PoolSeries>();
      overflow_pool_->label = kOverflowLabel;
    }
    return *overflow_pool_;
  }
  ++distinct_pools_;
  auto series = std::make_unique<PoolSeries>();
  series->label = std::move(label);
  return *pools_.emplace(std::string(raw), std::move(series)).first->second;
}

bool ExporterMetrics::EvictIdleRelease(PoolSeries& pool, TimePoint now) {
  auto oldest = pool.releases.end();
  for (auto it = pool.releases.begin(); it != pool.releases.end(); ++it) {
    if (oldest == pool.releases.end() || it->second->last_seen < oldest->second->last_seen) {
      oldest = it;
    }
  }
  if (oldest == pool.releases.end() ||
      now - oldest->second->last_seen < options_.release_eviction_after) {
    return false;
  }
  Flush();  // pending counts may point into the series about to go
  ReleaseSeries& gone = *oldest->second;
  for (StatusCounter& c : gone.requests) requests_.Remove(c.counter.counter);
  if (gone.duration.histogram != nullptr) request_duration_.Remove(gone.duration.histogram);
  if (last_release_ == &gone) {
    last_pool_ = nullptr;
    last_release_ = nullptr;
  }
  pool.releases.erase(oldest);
  return true;
}

ExporterMetrics::ReleaseSeries& ExporterMetrics::ReleaseFor(PoolSeries& pool, std::string_view raw,
                                                            TimePoint now) {
  if (auto it = pool.releases.find(raw); it != pool.releases.end()) return *it->second;
  if (pool.releases.size() >= options_.max_releases_per_pool && !EvictIdleRelease(pool, now)) {
    if (!pool.overflow_release) {
      pool.overflow_release = std::make_unique<ReleaseSeries>();
      pool.overflow_release->label = kOverflowLabel;
    }
    return *pool.overflow_release;
  }
  auto series = std::make_unique<ReleaseSeries>();
  series->label = SanitizeLabelValue(raw);
  return *pool.releases.emplace(std::string(raw), std::move(series)).first->second;
}

ExporterMetrics::UpstreamSeries& ExporterMetrics::UpstreamFor(PoolSeries& pool,
                                                              std::string_view raw) {
  if (pool.last_upstream != nullptr && raw == pool.last_upstream_raw) return *pool.last_upstream;
  UpstreamSeries* found = nullptr;
  if (auto it = pool.upstreams.find(raw); it != pool.upstreams.end()) {
    found = it->second.get();
  } else {
    std::string label = SanitizeLabelValue(raw);
    bool admitted = upstream_labels_.count(label) > 0;
    if (!admitted && upstream_labels_.size() < options_.max_upstreams) {
      upstream_labels_.insert(label);
      admitted = true;
    }
    if (!admitted) {
      if (!pool.overflow_upstream) {
        pool.overflow_upstream = std::make_unique<UpstreamSeries>();
        pool.overflow_upstream->label = kOverflowLabel;
      }
      return *pool.overflow_upstream;  // not cached: a later address may still be admitted
    }
    auto series = std::make_unique<UpstreamSeries>();
    series->label = std::move(label);
    found = pool.upstreams.emplace(std::string(raw), std::move(series)).first->second.get();
  }
  pool.last_upstream_raw.assign(raw);
  pool.last_upstream = found;
  return *found;
}

ExporterMetrics::PendingCounter& ExporterMetrics::RequestCounter(PoolSeries& pool,
                                                                 ReleaseSeries& release,
                                                                 int status) {
  for (StatusCounter& c : release.requests) {
    if (c.status == status) return c.counter;
  }
  Flush();  // the vector may move: no pending count may point into it
  auto& counter = requests_.Add(
      {{"pool", pool.label}, {"release", release.label}, {"status", std::to_string(status)}});
  release.requests.push_back({status, PendingCounter{&counter, 0}});
  return release.requests.back().counter;
}

ExporterMetrics::PendingCounter& ExporterMetrics::AttemptCounter(PoolSeries& pool,
                                                                 UpstreamSeries& upstream,
                                                                 int status) {
  for (StatusCounter& c : upstream.attempts) {
    if (c.status == status) return c.counter;
  }
  Flush();  // the vector may move: no pending count may point into it
  auto& counter = attempts_.Add(
      {{"pool", pool.label}, {"upstream", upstream.label}, {"status", std::to_string(status)}});
  upstream.attempts.push_back({status, PendingCounter{&counter, 0}});
  return upstream.attempts.back().counter;
}

void ExporterMetrics::InitHistogram(PendingHistogram& h, prometheus::Histogram& histogram,
                                    const std::vector<double>& bounds) {
  h.histogram = &histogram;
  h.bounds = &bounds;
  h.buckets.assign(bounds.size() + 1, 0.0);
}

void ExporterMetrics::Count(PendingCounter& counter) {
  if (counter.pending++ == 0) dirty_counters_.push_back(&counter);
}

void ExporterMetrics::Observe(PendingHistogram& h, double value) {
  if (h.count++ == 0) dirty_histograms_.push_back(&h);
  // The bucket prometheus-cpp's Observe() picks: the first bound >= value, else +Inf.
  const std::vector<double>& bounds = *h.bounds;
  size_t i = 0;
  while (i < bounds.size() && bounds[i] < value) ++i;
  h.buckets[i] += 1;
  h.last = value;
  h.sum += value;
}

void ExporterMetrics::Flush() {
  unflushed_records_ = 0;
  for (PendingCounter* c : dirty_counters_) {
    // Exact: the counts are integers far below 2^53, as one Increment() per line would sum them.
    c->counter->Increment(static_cast<double>(c->pending));
    c->pending = 0;
  }
  dirty_counters_.clear();
  for (PendingHistogram* h : dirty_histograms_) {
    if (h->count == 1) {
      h->histogram->Observe(h->last);
      h->published += h->last;
      h->buckets.assign(h->buckets.size(), 0.0);
    } else {
      // `sum` is the sum a sequence of Observe() calls would have built, added in the same
      // order. Publish the increment that takes the published sum exactly there (a plain
      // difference can be an ulp off when the sum more than doubled since the last flush), so
      // the exposition does not depend on how lines were batched.
      double delta = h->sum == h->published ? 0.0 : h->sum - h->published;
      for (int k = 0; k < 4 && h->published + delta != h->sum; ++k) {
        delta = std::nextafter(delta, h->published + delta < h->sum
                                          ? std::numeric_limits<double>::infinity()
                                          : -std::numeric_limits<double>::infinity());
      }
      h->histogram->ObserveMultiple(h->buckets, delta);
      h->published += delta;
      h->buckets.assign(h->buckets.size(), 0.0);
    }
    h->sum = h->published;
    h->count = 0;
  }
  dirty_histograms_.clear();
}

void ExporterMetrics::Record(const LogRecord& record) {
  Count(lines_parsed_);

  PoolSeries* pool_series = last_pool_;
  ReleaseSeries* release_series = last_release_;
  if (last_pool_ == nullptr || record.pool != last_pool_raw_ ||
      record.release != last_release_raw_) {
    pool_series = &PoolFor(record.pool);
    release_series = &ReleaseFor(*pool_series, record.release, record.time);
    // A release counted as "other" is not cached: once an old release has been idle long
    // enough, its next line takes the freed slot.
    const bool overflow = release_series == pool_series->overflow_release.get();
    last_pool_ = overflow ? nullptr : pool_series;
    last_release_ = overflow ? nullptr : release_series;
    last_pool_raw_.assign(record.pool);
    last_release_raw_.assign(record.release);
  }
  PoolSeries& pool = *pool_series;
  ReleaseSeries& release = *release_series;
  if (release.last_seen < record.time) release.last_seen = record.time;
  Count(RequestCounter(pool, release, record.status));
  if (record.request_time >= 0) {
    if (release.duration.histogram == nullptr) {
      InitHistogram(release.duration,
                    request_duration_.Add(
                        {{"pool", pool.label}, {"release", release.label}},
                        prometheus::Histogram::BucketBoundaries(options_.request_duration_buckets)),
                    options_.request_duration_buckets);
    }
    Observe(release.duration, record.request_time);
  }

  for (const UpstreamAttempt& attempt : record.attempts) {
    PoolSeries& attempt_pool = attempt.pool == record.pool ? pool : PoolFor(attempt.pool);
    UpstreamSeries& upstream = UpstreamFor(attempt_pool, attempt.address);
    Count(AttemptCounter(attempt_pool, upstream, attempt.status));
    if (attempt.response_time >= 0) {
      if (attempt_pool.upstream_duration.histogram == nullptr) {
        InitHistogram(attempt_pool.upstream_duration,
                      upstream_duration_.Add({{"pool", attempt_pool.label}},
                                             prometheus::Histogram::BucketBoundaries(
                                                 options_.upstream_duration_buckets)),
                      options_.upstream_duration_buckets);
      }
      Observe(attempt_pool.upstream_duration, attempt.response_time);
    }
  }
  if (++unflushed_records_ >= flush_every_) Flush();
}

std::string_view PoolwatchVersion() { return POOLWATCH_VERSION; }
std::string_view PoolwatchRevision() { return POOLWATCH_REVISION; }

void RegisterBuildInfo(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("poolwatch_build_info")
      .Help("Always 1; the labels say which poolwatch is running.")
      .Register(registry)
      .Add({{"version", std::string(PoolwatchVersion())},
            {"revision", std::string(PoolwatchRevision())}})
      .Set(1);
}

}  // namespace poolwatch
