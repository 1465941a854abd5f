// One scrape of /metrics at the cardinality caps, step by step: collecting the registry,
// serializing it to text (prometheus-cpp's serializer, poolwatch's, and the daemon's path that
// skips Collect() for the per-request series), compressing it. The HTTP round trip is
// measured by bench/scrape.py.
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <string>
#include <vector>

#include "bench/scrape_fill.h"
#include "exporter/exposition.h"
#include "exporter/metrics.h"
#include "web/content_coding.h"

namespace poolwatch {
namespace {

// Every family in one registry, as replay and the tests keep them.
struct FullRegistry {
  FullRegistry() : metrics(registry, options) { bench::FillToCardinalityCaps(metrics, options); }
  prometheus::Registry registry;
  MetricsOptions options;
  ExporterMetrics metrics;
};

// As the daemon keeps them: the per-request families apart, written by the metrics themselves.
struct DaemonRegistries {
  DaemonRegistries() : metrics(registry, options, &series_registry) {
    bench::FillToCardinalityCaps(metrics, options);
  }
  prometheus::Registry registry, series_registry;
  MetricsOptions options;
  ExporterMetrics metrics;
};

FullRegistry& Full() {
  static FullRegistry full;
  return full;
}

void BM_ScrapeCollect(benchmark::State& state) {
  prometheus::Registry& registry = Full().registry;
  for (auto _ : state) benchmark::DoNotOptimize(registry.Collect());
}
BENCHMARK(BM_ScrapeCollect)->Unit(benchmark::kMillisecond);

void BM_ScrapePrometheusCppSerializer(benchmark::State& state) {
  const auto families = Full().registry.Collect();
  for (auto _ : state) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    benchmark::DoNotOptimize(out.str());
  }
}
BENCHMARK(BM_ScrapePrometheusCppSerializer)->Unit(benchmark::kMillisecond);

// What the daemon does for /metrics before compressing: the small registry, then the series.
template <typename Registries>
void ScrapeDaemonText(benchmark::State& state) {
  static Registries daemon;
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendTextExposition(daemon.registry.Collect(), out);
    daemon.metrics.AppendSeriesExposition(out);
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}

void BM_ScrapeDaemonText(benchmark::State& state) { ScrapeDaemonText<DaemonRegistries>(state); }
BENCHMARK(BM_ScrapeDaemonText)->Unit(benchmark::kMillisecond);

// The same series with three source labels (a path label, syslog's tag and host), all lines
// from one source: what the extra labels cost a scrape.
struct DaemonRegistriesWithSources {
  static MetricsOptions Options() {
    MetricsOptions options;
    options.source_labels = {"site", "syslog_tag", "host"};
    return options;
  }
  DaemonRegistriesWithSources() : metrics(registry, Options(), &series_registry) {
    metrics.SetSource(std::vector<std::string>{"shop", "nginx", "web-1.example.com"});
    bench::FillToCardinalityCaps(metrics, Options());
  }
  prometheus::Registry registry, series_registry;
  ExporterMetrics metrics;
};

void BM_ScrapeDaemonTextSourceLabels(benchmark::State& state) {
  ScrapeDaemonText<DaemonRegistriesWithSources>(state);
}
BENCHMARK(BM_ScrapeDaemonTextSourceLabels)->Unit(benchmark::kMillisecond);

// A fresh buffer every time, as one scrape alone would see it.
void BM_ScrapeSerializeNewBuffer(benchmark::State& state) {
  const auto families = Full().registry.Collect();
  for (auto _ : state) {
    std::string out;
    AppendTextExposition(families, out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ScrapeSerializeNewBuffer)->Unit(benchmark::kMillisecond);

void BM_ScrapeSerializeReusedBuffer(benchmark::State& state) {
  const auto families = Full().registry.Collect();
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendTextExposition(families, out);
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_ScrapeSerializeReusedBuffer)->Unit(benchmark::kMillisecond);

// gzip of the daemon's text at zlib level state.range(0).
void BM_ScrapeGzip(benchmark::State& state) {
  static DaemonRegistries daemon;
  std::string text;
  AppendTextExposition(daemon.registry.Collect(), text);
  daemon.metrics.AppendSeriesExposition(text);
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendGzip(text, static_cast<int>(state.range(0)), out);
    benchmark::DoNotOptimize(out);
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_ScrapeGzip)->Arg(1)->Arg(6)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace poolwatch
