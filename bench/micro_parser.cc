// The parser alone: one line → LogRecord, and its pieces.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/micro_lines.h"
#include "exporter/line_splitter.h"
#include "exporter/log_format.h"
#include "exporter/log_time.h"

namespace poolwatch {
namespace {

LogFormat DefaultFormat() {
  std::string error;
  return *LogFormat::Compile(kDefaultLogFormat, LogFormatOptions{}, &error);
}

void BM_ParseLine(benchmark::State& state) {
  const LogFormat format = DefaultFormat();
  LogRecord record;
  size_t i = 0;
  for (auto _ : state) {
    auto reason = format.Parse(bench::kSampleLines[i++ & 7], record);
    benchmark::DoNotOptimize(reason);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseLine);

void BM_ParseRetriedLine(benchmark::State& state) {
  const LogFormat format = DefaultFormat();
  LogRecord record;
  for (auto _ : state) {
    auto reason = format.Parse(bench::kSampleLines[5], record);
    benchmark::DoNotOptimize(reason);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseRetriedLine);

void BM_ParseTimeLocal(benchmark::State& state) {
  // Alternating seconds: measures the parse, not a cache of the last second.
  const std::string_view stamps[2] = {"26/Nov/2026:07:00:30 +0000", "26/Nov/2026:07:00:31 +0000"};
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(ParseTimeLocal(stamps[i++ & 1]));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseTimeLocal);

void BM_SplitLines(benchmark::State& state) {
  // A 256 KiB block of sample lines through the splitter, as replay feeds it.
  std::string block;
  size_t lines = 0;
  while (block.size() < 256 * 1024) {
    block += bench::kSampleLines[lines++ & 7];
    block += '\n';
  }
  LineSplitter splitter;
  for (auto _ : state) {
    size_t seen = 0;
    splitter.Feed(block, [&](std::string_view line) { seen += line.size(); });
    benchmark::DoNotOptimize(seen);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * lines));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * block.size()));
}
BENCHMARK(BM_SplitLines);

}  // namespace
}  // namespace poolwatch
