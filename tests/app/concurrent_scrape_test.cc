// The parsing thread records while scrapes serialize the registry on other threads, as in the
// daemon (civetweb's threads answer /metrics). Run under ThreadSanitizer by
// scripts/sanitizers.sh; in the normal build it checks that nothing is lost or torn.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/pipeline.h"
#include "exporter/exposition.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

std::string Line(int i) {
  // New pools and releases keep appearing, so series are created while scrapes run.
  return "127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] \"GET /version HTTP/1.1\" " +
         std::string(i % 10 == 0 ? "502" : "200") + " 51 \"-\" \"curl\" pool=pool-" +
         std::to_string(i % 7) + " release=r" + std::to_string(i % 31) +
         " upstream_status=500, 200 upstream_addr=10.0.0." + std::to_string(i % 5) +
         ":80, 10.0.0.9:80 request_time=0.012 upstream_response_time=0.002, 0.010";
}

TEST(ConcurrentScrape, RecordingWhileScrapingLosesNothing) {
  auto registry = std::make_shared<prometheus::Registry>();
  Config config;
  Pipeline pipeline(config, *registry);
  constexpr int kLines = 20000;
  std::atomic<bool> done{false};
  std::atomic<int> scrapes{0};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 3; ++t) {
    scrapers.emplace_back([&] {
      while (!done) {
        const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
        EXPECT_FALSE(text.empty());
        ++scrapes;
      }
    });
  }
  for (int i = 0; i < kLines; ++i) {
    pipeline.ProcessLine(Line(i));
    if (i % 1000 == 0) (void)pipeline.engine().Evaluate(Clock::now());
  }
  pipeline.Flush();
  done = true;
  for (auto& s : scrapers) s.join();
  EXPECT_GT(scrapes.load(), 0);
  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  EXPECT_EQ(::poolwatch::testing::MetricValue(text, "poolwatch_http_requests_total"), kLines);
  EXPECT_EQ(pipeline.lines_parsed(), static_cast<uint64_t>(kLines));
}

// As the daemon serves them: the per-request series walked by AppendSeriesExposition while the
// parsing thread adds series and, with no idle time required, evicts releases all the time.
// Each scraper walks a fixed number of times, each walk due once the parser is that far through
// the lines, so the walks are spread over the whole parse and the work is bounded. Scrapers that
// walked back to back for as long as the parse lasted held the series lock nearly all the time:
// under ThreadSanitizer the parser waited minutes for it.
TEST(ConcurrentScrape, WalkingTheSeriesWhileTheyComeAndGoServesEachOnce) {
  prometheus::Registry registry, series_registry;
  Config config;
  config.metrics.max_releases_per_pool = 5;
  config.metrics.release_eviction_after = std::chrono::milliseconds(0);
  Pipeline pipeline(config, registry, &series_registry);
  const ExporterMetrics& metrics = pipeline.metrics();
  constexpr int kLines = 20000;
  constexpr int kScrapers = 3;
  constexpr int kWalksPerScraper = 100;
  constexpr int kLinesPerWalk = kLines / kWalksPerScraper;
  // Lines the parser has processed, published every kLinesPerWalk lines.
  std::mutex progress_mutex;
  std::condition_variable progress_changed;
  int lines_done = 0;
  std::atomic<int> scrapes{0};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < kScrapers; ++t) {
    scrapers.emplace_back([&] {
      std::string text;
      for (int walk = 0; walk < kWalksPerScraper; ++walk) {
        {
          std::unique_lock<std::mutex> lock(progress_mutex);
          progress_changed.wait(lock, [&] { return lines_done >= walk * kLinesPerWalk; });
        }
        text.clear();
        metrics.AppendSeriesExposition(text);
        ++scrapes;
      }
    });
  }
  for (int i = 0; i < kLines; ++i) {
    pipeline.ProcessLine(Line(i));
    if ((i + 1) % kLinesPerWalk == 0) {
      {
        std::lock_guard<std::mutex> lock(progress_mutex);
        lines_done = i + 1;
      }
      progress_changed.notify_all();
    }
  }
  pipeline.Flush();
  for (auto& s : scrapers) s.join();
  EXPECT_EQ(scrapes.load(), kScrapers * kWalksPerScraper);
  EXPECT_EQ(pipeline.lines_parsed(), static_cast<uint64_t>(kLines));

  std::string served, collected;
  metrics.AppendSeriesExposition(served);
  AppendTextExposition(series_registry.Collect(), collected);
  EXPECT_FALSE(served.empty());
  EXPECT_EQ(::poolwatch::testing::SortedLines(served),
            ::poolwatch::testing::SortedLines(collected));
}

}  // namespace
}  // namespace poolwatch
