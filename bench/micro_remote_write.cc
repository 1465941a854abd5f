// One remote-write push of the whole /metrics at the cardinality caps (about 17,500 samples),
// step by step and as RemoteWriter does it: the scrape's text, read back into samples with
// their labels, then protobuf and snappy in batches. The network is left out (a receiver that
// accepts everything at once): what is measured is poolwatch's own CPU per push.
#include <benchmark/benchmark.h>
#include <prometheus/registry.h>

#include "bench/scrape_fill.h"
#include "exporter/exposition.h"
#include "exporter/metrics.h"
#include "remote_write/exposition_parser.h"
#include "remote_write/remote_writer.h"
#include "remote_write/write_request.h"

namespace poolwatch {
namespace {

// As the daemon keeps them: the per-request families apart, written by the metrics themselves.
struct CappedMetrics {
  CappedMetrics() : metrics(registry, options, &series_registry) {
    bench::FillToCardinalityCaps(metrics, options);
  }
  void AppendText(std::string& out) const {
    AppendTextExposition(registry.Collect(), out);
    metrics.AppendSeriesExposition(out);
  }
  prometheus::Registry registry, series_registry;
  MetricsOptions options;
  ExporterMetrics metrics;
};

CappedMetrics& Capped() {
  static CappedMetrics capped;
  return capped;
}

const std::map<std::string, std::string> kExternal = {{"region", "eu-west"}};
const std::map<std::string, std::string> kTarget = {{"instance", "edge-1.example"},
                                                    {"job", "poolwatch"}};

// Text → samples with their labels (external, job, instance), what Snapshot() queues: built
// afresh (SnapshotSamples), and kept from one snapshot to the next (SnapshotReader, what
// RemoteWriter does).
void BM_RemoteWriteSnapshot(benchmark::State& state) {
  std::string text;
  size_t samples = 0;
  for (auto _ : state) {
    text.clear();
    Capped().AppendText(text);
    auto queued = SnapshotSamples(ParseTextExposition(text), 1764140400000, kExternal, kTarget);
    samples = queued.size();
    benchmark::DoNotOptimize(queued);
  }
  state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_RemoteWriteSnapshot)->Unit(benchmark::kMillisecond);

void BM_RemoteWriteSnapshotReader(benchmark::State& state) {
  SnapshotReader reader(kExternal, kTarget);
  std::string text;
  for (auto _ : state) {
    text.clear();
    Capped().AppendText(text);
    benchmark::DoNotOptimize(reader.Read(text, 1764140400000));
  }
}
BENCHMARK(BM_RemoteWriteSnapshotReader)->Unit(benchmark::kMillisecond);

// The queued samples in batches of max_samples_per_send (the argument).
std::vector<std::vector<QueuedSample>> Batches(size_t batch) {
  std::string text;
  Capped().AppendText(text);
  const auto queued = SnapshotSamples(ParseTextExposition(text), 1764140400000, kExternal, kTarget);
  std::vector<std::vector<QueuedSample>> parts;
  for (size_t i = 0; i < queued.size(); i += batch) {
    parts.emplace_back(
        queued.begin() + static_cast<std::ptrdiff_t>(i),
        queued.begin() + static_cast<std::ptrdiff_t>(std::min(queued.size(), i + batch)));
  }
  return parts;
}

// The batches → request bodies (protobuf, then snappy), a fresh message per batch.
void BM_RemoteWriteEncode(benchmark::State& state) {
  const auto parts = Batches(static_cast<size_t>(state.range(0)));
  size_t bytes = 0, raw_bytes = 0;
  for (auto _ : state) {
    bytes = raw_bytes = 0;
    for (const auto& part : parts) {
      const std::string raw = SerializeWriteRequest(part);
      const std::string body = SnappyCompress(raw);
      raw_bytes += raw.size();
      bytes += body.size();
      benchmark::DoNotOptimize(body);
    }
  }
  state.counters["protobuf_bytes"] = static_cast<double>(raw_bytes);
  state.counters["snappy_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RemoteWriteEncode)->Arg(500)->Arg(2000)->Arg(10000)->Unit(benchmark::kMillisecond);

// The same with the encoder RemoteWriter keeps: the message's memory reused between batches.
void BM_RemoteWriteEncodeReused(benchmark::State& state) {
  const auto parts = Batches(static_cast<size_t>(state.range(0)));
  WriteRequestEncoder encoder;
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (const auto& part : parts) bytes += encoder.Encode(part).size();
  }
  state.counters["snappy_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RemoteWriteEncodeReused)
    ->Arg(500)
    ->Arg(2000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

// A whole push through RemoteWriter: Snapshot(), then SendOnce() until the queue is empty.
void BM_RemoteWritePush(benchmark::State& state) {
  RemoteWriteOptions options;
  options.url = "http://receiver.example/api/v1/write";
  options.external_labels = kExternal;
  options.capacity = 50000;
  options.max_samples_per_send = static_cast<size_t>(state.range(0));
  RemoteWriter::Deps deps;
  deps.exposition = [](std::string& out) { Capped().AppendText(out); };
  size_t requests = 0;
  deps.send = [&requests](const HttpPostRequest& request) {
    ++requests;
    benchmark::DoNotOptimize(request.body.data());
    return HttpResult{200, "", "", ""};
  };
  deps.target_labels = kTarget;
  RemoteWriter writer(options, deps);
  const TimePoint now = Clock::now();
  for (auto _ : state) {
    requests = 0;
    writer.Snapshot(now);
    while (writer.SendOnce(now, std::chrono::seconds(1), 0.5).outcome ==
           RemoteWriter::SendStep::kSent) {
    }
  }
  state.counters["requests"] = static_cast<double>(requests);
}
BENCHMARK(BM_RemoteWritePush)->Arg(2000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace poolwatch
