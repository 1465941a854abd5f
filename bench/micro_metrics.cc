// The metrics update of one record, and the resolver step before it.
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

#include "bench/micro_records.h"
#include "exporter/metrics.h"

namespace poolwatch {
namespace {

void BM_ResolvePools(benchmark::State& state) {
  PoolResolver resolver;
  std::vector<LogRecord> records = bench::SampleRecords(resolver);
  const std::vector<LogRecord> parsed = records;
  size_t i = 0;
  for (auto _ : state) {
    LogRecord& r = records[i & 7];
    r.pool = parsed[i & 7].pool;  // Resolve fills in a missing pool; start from the parse
    resolver.Resolve(r);
    benchmark::DoNotOptimize(r);
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ResolvePools);

// Record() as the pipeline calls it; Flush() every `batch` records (1: at once, as in tests).
void BM_MetricsRecord(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  PoolResolver resolver;
  const std::vector<LogRecord> records = bench::SampleRecords(resolver);
  prometheus::Registry registry;
  ExporterMetrics metrics(registry, MetricsOptions{});
  size_t i = 0;
  for (auto _ : state) {
    metrics.Record(records[i & 7]);
    if (++i % batch == 0) metrics.Flush();
  }
  metrics.Flush();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_MetricsRecord)->Arg(1)->Arg(4096);

}  // namespace
}  // namespace poolwatch
