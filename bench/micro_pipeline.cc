// One line through the whole pipeline (parse, resolve, metrics, rules), as replay runs it.
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

#include "app/logger.h"
#include "app/pipeline.h"
#include "bench/micro_lines.h"

namespace poolwatch {
namespace {

void BM_PipelineProcessLine(benchmark::State& state) {
  Logger::SetLevel(LogLevel::kError);
  Config config;
  prometheus::Registry registry;
  Pipeline pipeline(config, registry);
  pipeline.SetFlushEvery(static_cast<uint32_t>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) pipeline.ProcessLine(bench::kSampleLines[i++ & 7]);
  pipeline.Flush();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PipelineProcessLine)->Arg(1)->Arg(4096);

}  // namespace
}  // namespace poolwatch
