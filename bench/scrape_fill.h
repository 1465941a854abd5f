#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "core/log_record.h"
#include "exporter/metrics.h"

namespace poolwatch::bench {

// Statuses per release in the scrape benchmarks: with the default caps (20 pools, 20 releases
// each, 64 upstreams) this makes 10,000 request counters, 400 request histograms (5,600
// samples), 1,600 attempt counters and 20 upstream histograms: about 17,500 samples, past
// the 15,000 the scrape target is set at.
inline constexpr int kScrapeStatuses = 25;

// Records every (pool, release, status) once and every upstream with every status, up to the
// default cardinality caps, so a scrape serializes the largest exposition poolwatch allows
// (apart from "other" series).
inline void FillToCardinalityCaps(ExporterMetrics& metrics, const MetricsOptions& options) {
  std::vector<std::string> pools, releases, upstreams;
  char buffer[48];
  for (size_t p = 0; p < options.max_pools; ++p) {
    std::snprintf(buffer, sizeof(buffer), "pool-%02zu", p);
    pools.emplace_back(buffer);
  }
  for (size_t r = 0; r < options.max_releases_per_pool; ++r) {
    std::snprintf(buffer, sizeof(buffer), "v1.%zu.0", r);
    releases.emplace_back(buffer);
  }
  for (size_t u = 0; u < options.max_upstreams; ++u) {
    std::snprintf(buffer, sizeof(buffer), "10.0.%zu.%zu:8080", u / 16, u % 16);
    upstreams.emplace_back(buffer);
  }
  LogRecord record;
  record.time = TimePoint{} + std::chrono::hours(24 * 365 * 56);
  size_t n = 0;
  for (size_t p = 0; p < pools.size(); ++p) {
    for (const std::string& release : releases) {
      for (int s = 0; s < kScrapeStatuses; ++s, ++n) {
        record.attempts.clear();
        record.pool = pools[p];
        record.release = release;
        record.status = 200 + s * 12;  // 200 … 488, and a few 5xx below
        record.request_time = 0.001 * static_cast<double>(n % 3000);
        // The attempts go to the pool's share of the upstreams, each with every status.
        const std::string& upstream = upstreams[(p + pools.size() * (n % 4)) % upstreams.size()];
        record.attempts.push_back(
            {upstream, 200 + s * 12, 0.0005 * static_cast<double>(n % 500), pools[p]});
        metrics.Record(record);
      }
    }
  }
  // Statuses of the 5xx kind on every upstream, so attempts reach upstreams × statuses.
  for (size_t u = 0; u < upstreams.size(); ++u) {
    for (int s = 0; s < kScrapeStatuses; ++s) {
      record.attempts.clear();
      record.pool = pools[u % pools.size()];
      record.release = releases[0];
      record.status = 200;
      record.attempts.push_back({upstreams[u], 500 + s, 0.002, pools[u % pools.size()]});
      metrics.Record(record);
    }
  }
  metrics.Flush();
}

}  // namespace poolwatch::bench
