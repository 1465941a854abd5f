// The per-datagram work of the syslog labels allocates nothing once the senders are known:
// finding the sender's source (SyslogSources) and switching the metrics to it
// (ExporterMetrics::SetSource), with datagrams of several senders interleaved.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <span>
#include <string>
#include <vector>

#include "exporter/metrics.h"
#include "exporter/syslog_sources.h"
#include "tests/support/allocation_count.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::AllocationCount;

TEST(SyslogSourcesAllocations, a_known_senders_datagram_allocates_nothing) {
  SyslogSourcesOptions options;
  options.labels = {SyslogLabel::kTag, SyslogLabel::kHost};
  options.leading_values = 1;  // a path label too
  SyslogSources senders(options);
  MetricsOptions metrics_options;
  metrics_options.source_labels = {"site", "syslog_tag", "host"};
  prometheus::Registry registry;
  ExporterMetrics metrics(registry, metrics_options);

  // Datagrams as the receiver hands them on: views into its buffer.
  std::vector<std::string> texts = {"shop",
                                    "web-1",
                                    "api",
                                    "web-2",
                                    "a-rather-long-tag-name",
                                    "a-host-name-longer-than-short-strings.example"};
  std::vector<SyslogMessage> datagrams;
  for (size_t i = 0; i + 1 < texts.size(); i += 2) {
    SyslogMessage message;
    message.tag = texts[i];
    message.host = texts[i + 1];
    datagrams.push_back(message);
  }
  LogRecord record;
  record.status = 200;
  record.pool = "blue";
  record.release = "v1";
  record.request_time = 0.01;
  auto receive = [&](const SyslogMessage& message) {
    metrics.SetSource(std::span<const std::string>(senders.SourceOf(message).values));
    metrics.Record(record);
  };
  // Warm-up: the senders known, their series made, and the metrics' list of counts to publish
  // as long as it gets (a sender's first line publishes at once, making its series).
  for (int round = 0; round < 2; ++round) {
    for (const SyslogMessage& message : datagrams) receive(message);
  }

  AllocationCount count;
  for (int round = 0; round < 1000; ++round) {
    for (const SyslogMessage& message : datagrams) receive(message);
  }
  EXPECT_EQ(count.value(), 0);
}

// More senders than the metrics' cap: those beyond it are counted as "other" without working
// that out again at each of their datagrams.
TEST(SyslogSourcesAllocations, a_sender_beyond_the_metrics_cap_allocates_nothing_either) {
  SyslogSourcesOptions options;
  options.labels = {SyslogLabel::kHost};
  SyslogSources senders(options);  // room for 50 senders
  MetricsOptions metrics_options;
  metrics_options.source_labels = {"host"};
  metrics_options.max_sources = 2;  // files took the rest, say
  prometheus::Registry registry;
  ExporterMetrics metrics(registry, metrics_options);
  std::vector<std::string> hosts;
  for (int i = 0; i < 6; ++i) hosts.push_back("web-" + std::to_string(i) + ".example.com");
  std::vector<SyslogMessage> datagrams(hosts.size());
  for (size_t i = 0; i < hosts.size(); ++i) datagrams[i].host = hosts[i];
  LogRecord record;
  record.status = 200;
  record.pool = "blue";
  auto receive = [&](const SyslogMessage& message) {
    metrics.SetSource(std::span<const std::string>(senders.SourceOf(message).values));
    metrics.Record(record);
  };
  for (int round = 0; round < 2; ++round) {
    for (const SyslogMessage& message : datagrams) receive(message);
  }

  AllocationCount count;
  for (int round = 0; round < 1000; ++round) {
    for (const SyslogMessage& message : datagrams) receive(message);
  }
  EXPECT_EQ(count.value(), 0);
}

}  // namespace
}  // namespace poolwatch
