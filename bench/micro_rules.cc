// The rule step: AlertEngine::Observe per record and Evaluate per tick, with the seed's rules.
#include <benchmark/benchmark.h>

#include "alerting/alert_engine.h"
#include "bench/micro_records.h"

namespace poolwatch {
namespace {

void BM_EngineObserve(benchmark::State& state) {
  PoolResolver resolver;
  std::vector<LogRecord> records = bench::SampleRecords(resolver);
  AlertEngine engine(AlertingConfig::SeedDefaults());
  size_t i = 0;
  TimePoint t = records[0].time;
  for (auto _ : state) {
    LogRecord& r = records[i++ & 7];
    r.time = t;
    engine.Observe(r);
  }
  benchmark::DoNotOptimize(engine.Evaluate(t));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EngineObserve);

// The same with both seed rules grouped by site (group_by, issue 17), the lines coming from two
// files in runs of 100 as the reader hands them over: the routing's cost per line.
void BM_EngineObserveGrouped(benchmark::State& state) {
  PoolResolver resolver;
  std::vector<LogRecord> records = bench::SampleRecords(resolver);
  AlertingConfig config = AlertingConfig::SeedDefaults();
  for (RuleConfig& rule : config.rules) rule.group_by = {{"site", 0}};
  AlertEngine engine(config);
  const LineSource files[2] = {{{"shop"}, NewLineSourceId()}, {{"blog"}, NewLineSourceId()}};
  size_t i = 0;
  TimePoint t = records[0].time;
  for (auto _ : state) {
    LogRecord& r = records[i & 7];
    r.time = t;
    r.source = &files[(i / 100) & 1];
    ++i;
    engine.Observe(r);
  }
  benchmark::DoNotOptimize(engine.Evaluate(t));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EngineObserveGrouped);

// One evaluation (a tick) after 400 records: about one second of the generated log.
void BM_EngineEvaluate(benchmark::State& state) {
  PoolResolver resolver;
  std::vector<LogRecord> records = bench::SampleRecords(resolver);
  AlertEngine engine(AlertingConfig::SeedDefaults());
  TimePoint t = records[0].time;
  for (auto _ : state) {
    state.PauseTiming();
    for (int k = 0; k < 400; ++k) {
      LogRecord& r = records[static_cast<size_t>(k) & 7];
      r.time = t;
      engine.Observe(r);
    }
    t += std::chrono::seconds(1);
    state.ResumeTiming();
    Evaluation evaluation = engine.Evaluate(t);
    benchmark::DoNotOptimize(evaluation);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EngineEvaluate);

}  // namespace
}  // namespace poolwatch
