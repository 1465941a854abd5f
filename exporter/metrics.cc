#include "exporter/metrics.h"

#include <prometheus/gauge.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>

#include "core/same_text.h"
#include "exporter/exposition.h"

namespace poolwatch {
namespace {

constexpr size_t kMaxLabelBytes = 128;

// The four per-request families, written both by prometheus-cpp (registered) and by
// AppendSeriesExposition().
constexpr const char* kRequestsName = "poolwatch_http_requests_total";
constexpr const char* kRequestsHelp =
    "Requests logged by nginx, by the pool and release that answered and the status the client "
    "received.";
constexpr const char* kRequestDurationName = "poolwatch_http_request_duration_seconds";
constexpr const char* kRequestDurationHelp =
    "nginx $request_time: from the first client byte to the last byte sent, by pool and "
    "release.";
constexpr const char* kAttemptsName = "poolwatch_upstream_attempts_total";
constexpr const char* kAttemptsHelp =
    "Requests nginx sent to an upstream server, one per attempt (retries included), by the "
    "server's pool, address and status (0: no response).";
constexpr const char* kUpstreamDurationName = "poolwatch_upstream_response_duration_seconds";
constexpr const char* kUpstreamDurationHelp =
    "nginx $upstream_response_time of each attempt, by pool.";

// A status as its label value (std::to_string's digits, without allocating).
std::string_view StatusText(int status, char (&buffer)[16]) {
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), status);
  return {buffer, static_cast<size_t>(result.ptr - buffer)};
}

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

// Appends `value` to a key that tells apart combinations of values (its length first, so no
// value's bytes can pass for a separator).
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

ExporterMetrics::ExporterMetrics(prometheus::Registry& registry, MetricsOptions options,
                                 prometheus::Registry* series_registry)
    : options_(std::move(options)),
      requests_(prometheus::BuildCounter()
                    .Name(kRequestsName)
                    .Help(kRequestsHelp)
                    .Register(series_registry != nullptr ? *series_registry : registry)),
      request_duration_(prometheus::BuildHistogram()
                            .Name(kRequestDurationName)
                            .Help(kRequestDurationHelp)
                            .Register(series_registry != nullptr ? *series_registry : registry)),
      attempts_(prometheus::BuildCounter()
                    .Name(kAttemptsName)
                    .Help(kAttemptsHelp)
                    .Register(series_registry != nullptr ? *series_registry : registry)),
      upstream_duration_(prometheus::BuildHistogram()
                             .Name(kUpstreamDurationName)
                             .Help(kUpstreamDurationHelp)
                             .Register(series_registry != nullptr ? *series_registry : registry)) {
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
  const size_t labels = options_.source_labels.size();
  for (size_t i = 0; i < labels; ++i) source_order_.push_back(i);
  std::sort(source_order_.begin(), source_order_.end(), [&](size_t a, size_t b) {
    return options_.source_labels[a] < options_.source_labels[b];
  });
  // Where lines with no source set, or all values empty, are counted.
  source_raw_.assign(labels, std::string());
  for (const std::string& raw : source_raw_) AppendSourceKey(source_key_, raw);
  source_ = &SourceLabelled(std::vector<std::string>(labels, SanitizeLabelValue("")));
  sources_.by_raw.emplace(source_key_, source_);
}

void ExporterMetrics::SetSource(std::span<const std::string> raw) {
  const size_t labels = options_.source_labels.size();
  auto value = [&](size_t i) { return i < raw.size() ? std::string_view(raw[i]) : ""; };
  bool same = true;
  for (size_t i = 0; i < labels && same; ++i) same = value(i) == source_raw_[i];
  if (same) return;
  source_key_.clear();
  for (size_t i = 0; i < labels; ++i) {
    source_raw_[i].assign(value(i));
    AppendSourceKey(source_key_, source_raw_[i]);
  }
  last_pool_ = nullptr;
  last_release_ = nullptr;
  if (auto it = sources_.by_raw.find(source_key_); it != sources_.by_raw.end()) {
    source_ = it->second;
    return;
  }
  std::vector<std::string> values;
  std::string key;
  for (size_t i = 0; i < labels; ++i) {
    values.push_back(SanitizeLabelValue(source_raw_[i]));
    AppendSourceKey(key, values.back());
  }
  const bool known = std::any_of(sources_.all.begin(), sources_.all.end(),
                                 [&](const auto& source) { return source->label == key; });
  // The series of all-empty values made by the constructor takes no slot.
  const size_t taken = sources_.all.size() - 1 - (sources_.overflow != nullptr ? 1 : 0);
  if (!known && taken >= options_.max_sources) {
    if (sources_.overflow == nullptr) {
      sources_.overflow =
          &SourceLabelled(std::vector<std::string>(labels, std::string(kOverflowLabel)));
    }
    source_ = sources_.overflow;
    // No slot is ever freed, so this combination stays "other": remember that, as an admitted
    // one is, so that datagrams of senders beyond the cap do not work it out (and allocate)
    // each time. Up to a bound: values that keep changing (new file names) must not grow the
    // map without end; past it a switch works it out again.
    if (sources_.by_raw.size() < 2 * options_.max_sources + 64) {
      sources_.by_raw.emplace(source_key_, source_);
    }
    return;
  }
  source_ = &SourceLabelled(std::move(values));
  sources_.by_raw.emplace(source_key_, source_);
}

ExporterMetrics::SourceSeries& ExporterMetrics::SourceLabelled(std::vector<std::string> values) {
  std::string key;
  for (const std::string& value : values) AppendSourceKey(key, value);
  for (const std::unique_ptr<SourceSeries>& series : sources_.all) {
    if (series->label == key) return *series;
  }
  auto series = std::make_unique<SourceSeries>();
  series->label = std::move(key);
  series->values = std::move(values);
  std::lock_guard<std::mutex> lock(series_mutex_);
  return *sources_.all.emplace_back(std::move(series));
}

void ExporterMetrics::CountMalformed(MalformedReason reason) {
  lines_malformed_->Increment();
  malformed_by_reason_[static_cast<size_t>(reason)]->Increment();
}

template <typename S>
S& ExporterMetrics::Labelled(SeriesSet<S>& set, std::string label) {
  for (const std::unique_ptr<S>& series : set.all) {
    if (series->label == label) return *series;
  }
  auto series = std::make_unique<S>();
  series->label = std::move(label);
  std::lock_guard<std::mutex> lock(series_mutex_);
  return *set.all.emplace_back(std::move(series));
}

template <typename S>
S& ExporterMetrics::Overflow(SeriesSet<S>& set) {
  if (set.overflow == nullptr) set.overflow = &Labelled(set, std::string(kOverflowLabel));
  return *set.overflow;
}

ExporterMetrics::PoolSeries& ExporterMetrics::PoolFor(std::string_view raw) {
  SeriesSet<PoolSeries>& pools = source_->pools;
  if (auto it = pools.by_raw.find(raw); it != pools.by_raw.end()) return *it->second;
  std::string label = SanitizeLabelValue(raw);
  bool allowed = options_.allowed_pools.empty() || options_.allowed_pools.count(label) > 0 ||
                 raw == kPoolNone || raw == kPoolUnknown;
  if (!allowed) return Overflow(pools);
  // The cap counts distinct pool names, whatever the source: a pool seen in two files takes
  // one slot.
  const bool known_label =
      std::any_of(sources_.all.begin(), sources_.all.end(), [&](const auto& source) {
        return std::any_of(source->pools.all.begin(), source->pools.all.end(),
                           [&](const auto& pool) { return pool->label == label; });
      });
  if (!known_label) {
    if (distinct_pools_ >= options_.max_pools) return Overflow(pools);
    ++distinct_pools_;
  }
  PoolSeries& series = Labelled(pools, std::move(label));
  pools.by_raw.emplace(std::string(raw), &series);
  return series;
}

bool ExporterMetrics::EvictIdleRelease(PoolSeries& pool, TimePoint now) {
  ReleaseSeries* oldest = nullptr;
  for (const std::unique_ptr<ReleaseSeries>& release : pool.releases.all) {
    if (release.get() == pool.releases.overflow) continue;  // "other" holds no slot
    if (oldest == nullptr || release->last_seen < oldest->last_seen) oldest = release.get();
  }
  if (oldest == nullptr || now - oldest->last_seen < options_.release_eviction_after) {
    return false;
  }
  Flush();  // pending counts may point into the series about to go
  if (last_release_ == oldest) {
    last_pool_ = nullptr;
    last_release_ = nullptr;
  }
  std::erase_if(pool.releases.by_raw, [&](const auto& entry) { return entry.second == oldest; });
  std::lock_guard<std::mutex> lock(series_mutex_);
  for (StatusCounter& c : oldest->requests) requests_.Remove(c.counter.counter);
  if (oldest->duration.histogram != nullptr) request_duration_.Remove(oldest->duration.histogram);
  std::erase_if(pool.releases.all, [&](const auto& release) { return release.get() == oldest; });
  return true;
}

ExporterMetrics::ReleaseSeries& ExporterMetrics::ReleaseFor(PoolSeries& pool, std::string_view raw,
                                                            TimePoint now) {
  SeriesSet<ReleaseSeries>& releases = pool.releases;
  if (auto it = releases.by_raw.find(raw); it != releases.by_raw.end()) return *it->second;
  std::string label = SanitizeLabelValue(raw);
  const bool known_label =
      std::any_of(releases.all.begin(), releases.all.end(),
                  [&](const auto& release) { return release->label == label; });
  const size_t slots_taken = releases.all.size() - (releases.overflow != nullptr ? 1 : 0);
  if (!known_label && slots_taken >= options_.max_releases_per_pool &&
      !EvictIdleRelease(pool, now)) {
    return Overflow(releases);
  }
  ReleaseSeries& series = Labelled(releases, std::move(label));
  releases.by_raw.emplace(std::string(raw), &series);
  return series;
}

ExporterMetrics::UpstreamSeries& ExporterMetrics::UpstreamFor(PoolSeries& pool,
                                                              std::string_view raw) {
  if (pool.last_upstream != nullptr && SameText(raw, pool.last_upstream_raw)) {
    return *pool.last_upstream;
  }
  return FindUpstream(pool, raw);
}

[[gnu::noinline]] ExporterMetrics::UpstreamSeries& ExporterMetrics::FindUpstream(
    PoolSeries& pool, std::string_view raw) {
  UpstreamSeries* found = nullptr;
  if (auto it = pool.upstreams.by_raw.find(raw); it != pool.upstreams.by_raw.end()) {
    found = it->second;
  } else {
    std::string label = SanitizeLabelValue(raw);
    bool admitted = upstream_labels_.count(label) > 0;
    if (!admitted && upstream_labels_.size() < options_.max_upstreams) {
      upstream_labels_.insert(label);
      admitted = true;
    }
    // Not cached: a later address may still be admitted.
    if (!admitted) return Overflow(pool.upstreams);
    found = &Labelled(pool.upstreams, std::move(label));
    pool.upstreams.by_raw.emplace(std::string(raw), found);
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
  std::lock_guard<std::mutex> lock(series_mutex_);
  auto& counter = requests_.Add(WithSource(
      {{"pool", pool.label}, {"release", release.label}, {"status", std::to_string(status)}}));
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
  std::lock_guard<std::mutex> lock(series_mutex_);
  auto& counter = attempts_.Add(WithSource(
      {{"pool", pool.label}, {"upstream", upstream.label}, {"status", std::to_string(status)}}));
  upstream.attempts.push_back({status, PendingCounter{&counter, 0}});
  return upstream.attempts.back().counter;
}

prometheus::Labels ExporterMetrics::WithSource(prometheus::Labels labels) const {
  for (size_t i = 0; i < options_.source_labels.size(); ++i) {
    labels[options_.source_labels[i]] = source_->values[i];
  }
  return labels;
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
  if (last_pool_ == nullptr || !SameText(record.pool, last_pool_raw_) ||
      !SameText(record.release, last_release_raw_)) {
    pool_series = &PoolFor(record.pool);
    release_series = &ReleaseFor(*pool_series, record.release, record.time);
    // A release counted as "other" is not cached: once an old release has been idle long
    // enough, its next line takes the freed slot.
    const bool overflow = release_series == pool_series->releases.overflow;
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
      std::lock_guard<std::mutex> lock(series_mutex_);
      InitHistogram(release.duration,
                    request_duration_.Add(
                        WithSource({{"pool", pool.label}, {"release", release.label}}),
                        prometheus::Histogram::BucketBoundaries(options_.request_duration_buckets)),
                    options_.request_duration_buckets);
    }
    Observe(release.duration, record.request_time);
  }

  for (const UpstreamAttempt& attempt : record.attempts) {
    PoolSeries& attempt_pool = SameText(attempt.pool, record.pool) ? pool : PoolFor(attempt.pool);
    UpstreamSeries& upstream = UpstreamFor(attempt_pool, attempt.address);
    Count(AttemptCounter(attempt_pool, upstream, attempt.status));
    if (attempt.response_time >= 0) {
      if (attempt_pool.upstream_duration.histogram == nullptr) {
        std::lock_guard<std::mutex> lock(series_mutex_);
        InitHistogram(attempt_pool.upstream_duration,
                      upstream_duration_.Add(WithSource({{"pool", attempt_pool.label}}),
                                             prometheus::Histogram::BucketBoundaries(
                                                 options_.upstream_duration_buckets)),
                      options_.upstream_duration_buckets);
      }
      Observe(attempt_pool.upstream_duration, attempt.response_time);
    }
  }
  if (++unflushed_records_ >= flush_every_) Flush();
}

void ExporterMetrics::AppendSeriesExposition(std::string& out) const {
  using prometheus::MetricType;
  using Label = TextFamilyWriter::Label;
  std::lock_guard<std::mutex> lock(series_mutex_);
  char status[16];
  // Label names in prometheus-cpp's order (sorted), so each line is the one it would write; the
  // source labels, whose names are configured, go in their sorted places.
  // Sized once per scrape and filled by index: a push_back's checks per label show at the caps.
  std::vector<Label> labels(3 + source_order_.size());
  const size_t sources = source_order_.size();
  auto metric = [&](TextFamilyWriter& writer, const SourceSeries& source,
                    std::initializer_list<Label> fixed) {
    if (sources == 0) {
      writer.MetricLabels(std::span<const Label>(fixed.begin(), fixed.size()));
      return;
    }
    size_t n = 0;
    size_t next = 0;  // into source_order_
    for (const Label& label : fixed) {
      for (; next < sources && options_.source_labels[source_order_[next]] < label.first; ++next) {
        labels[n++] = {options_.source_labels[source_order_[next]],
                       source.values[source_order_[next]]};
      }
      labels[n++] = label;
    }
    for (; next < sources; ++next) {
      labels[n++] = {options_.source_labels[source_order_[next]],
                     source.values[source_order_[next]]};
    }
    writer.MetricLabels(std::span<const Label>(labels.data(), n));
  };
  TextFamilyWriter requests(out, kRequestsName, kRequestsHelp, MetricType::Counter);
  for (const auto& source : sources_.all) {
    for (const auto& pool : source->pools.all) {
      for (const auto& release : pool->releases.all) {
        for (const StatusCounter& c : release->requests) {
          metric(requests, *source,
                 {{"pool", pool->label},
                  {"release", release->label},
                  {"status", StatusText(c.status, status)}});
          requests.Value(c.counter.counter->Value());
        }
      }
    }
  }
  TextFamilyWriter durations(out, kRequestDurationName, kRequestDurationHelp,
                             MetricType::Histogram);
  for (const auto& source : sources_.all) {
    for (const auto& pool : source->pools.all) {
      for (const auto& release : pool->releases.all) {
        if (release->duration.histogram == nullptr) continue;
        metric(durations, *source, {{"pool", pool->label}, {"release", release->label}});
        durations.Histogram(release->duration.histogram->Collect().histogram);
      }
    }
  }
  TextFamilyWriter attempts(out, kAttemptsName, kAttemptsHelp, MetricType::Counter);
  for (const auto& source : sources_.all) {
    for (const auto& pool : source->pools.all) {
      for (const auto& upstream : pool->upstreams.all) {
        for (const StatusCounter& c : upstream->attempts) {
          metric(attempts, *source,
                 {{"pool", pool->label},
                  {"status", StatusText(c.status, status)},
                  {"upstream", upstream->label}});
          attempts.Value(c.counter.counter->Value());
        }
      }
    }
  }
  TextFamilyWriter upstream_durations(out, kUpstreamDurationName, kUpstreamDurationHelp,
                                      MetricType::Histogram);
  for (const auto& source : sources_.all) {
    for (const auto& pool : source->pools.all) {
      if (pool->upstream_duration.histogram == nullptr) continue;
      metric(upstream_durations, *source, {{"pool", pool->label}});
      upstream_durations.Histogram(pool->upstream_duration.histogram->Collect().histogram);
    }
  }
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
