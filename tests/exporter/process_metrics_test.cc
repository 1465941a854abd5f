#include "exporter/process_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <map>
#include <string>

namespace poolwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

// A real line of /proc/<pid>/stat, with a command name that holds ") (" and spaces.
constexpr std::string_view kStat =
    "4242 (pool) (watch x) S 1 4242 4242 0 -1 4194560 2345 0 12 0 731 269 0 0 20 0 5 0 "
    "123456 226529280 2918 18446744073709551615 1 1 0 0 0 0 0 4096 17127 0 0 0 17 1 0 0 0 0 "
    "0 0 0 0 0 0 0 0 0\n";

constexpr std::string_view kLimits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            1024                 524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

std::map<std::string, double> ValuesOf(const std::vector<prometheus::MetricFamily>& families) {
  std::map<std::string, double> values;
  for (const auto& family : families) {
    EXPECT_EQ(family.metric.size(), 1u) << family.name;
    EXPECT_TRUE(family.metric[0].label.empty()) << family.name;
    const auto& metric = family.metric[0];
    values[family.name] =
        family.type == prometheus::MetricType::Counter ? metric.counter.value : metric.gauge.value;
  }
  return values;
}

TEST(ProcStat, FieldsAreCountedFromTheLastParenthesisOfTheName) {
  const std::optional<ProcStat> stat = ParseProcStat(kStat);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->user_ticks, 731u);
  EXPECT_EQ(stat->system_ticks, 269u);
  EXPECT_EQ(stat->start_ticks, 123456u);
  EXPECT_EQ(stat->virtual_bytes, 226529280u);
  EXPECT_EQ(stat->resident_pages, 2918u);
}

TEST(ProcStat, ATruncatedOrGarbledLineIsNotRead) {
  EXPECT_FALSE(ParseProcStat(""));
  EXPECT_FALSE(ParseProcStat("4242 (poolwatch) S 1 4242"));
  EXPECT_FALSE(ParseProcStat("4242 poolwatch S 1 4242 4242 0 -1 4194560 2345 0 12 0 731 269"));
  EXPECT_FALSE(
      ParseProcStat("4242 (poolwatch) S 1 4242 4242 0 -1 4194560 2345 0 12 0 x 269 0 0 20 0 5 0 "
                    "123456 226529280 2918"));
}

TEST(ProcStat, BootTimeIsTheBtimeLine) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\ncpu0 1 2 3\nintr 5 0 0\nctxt 99\nbtime 1764140000\n"
                          "processes 12\n"),
            1764140000u);
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\n"), std::nullopt);
  EXPECT_EQ(ParseBootTime("btime soon\n"), std::nullopt);
}

TEST(ProcLimits, MaxFdsIsTheSoftLimitOfOpenFiles) {
  EXPECT_EQ(ParseMaxOpenFiles(kLimits), 1024.0);
  EXPECT_EQ(ParseMaxOpenFiles("Max open files            unlimited            unlimited   files\n"),
            18446744073709551615.0);
  EXPECT_EQ(ParseMaxOpenFiles("Max cpu time              unlimited            unlimited\n"),
            std::nullopt);
}

TEST(ProcessSample, CombinesTicksPagesAndBootTimeAsClientGolangDoes) {
  const ProcessSample sample =
      ToProcessSample(ParseProcStat(kStat), 1764140000, 1024.0, 7.0, 100, 4096);
  EXPECT_EQ(ValuesOf(ProcessFamilies(sample)),
            (std::map<std::string, double>{
                {"process_cpu_seconds_total", 10.0},  // (731 + 269) ticks at 100 a second
                {"process_max_fds", 1024.0},
                {"process_open_fds", 7.0},
                {"process_resident_memory_bytes", 2918.0 * 4096},
                {"process_start_time_seconds", 1764140000.0 + 1234.56},
                {"process_virtual_memory_bytes", 226529280.0},
            }));
}

TEST(ProcessSample, WhatCouldNotBeReadIsLeftOut) {
  const ProcessSample sample =
      ToProcessSample(std::nullopt, std::nullopt, std::nullopt, 3.0, 100, 4096);
  EXPECT_THAT(ProcessFamilies(sample),
              ElementsAre(Field(&prometheus::MetricFamily::name, "process_open_fds")));
  const ProcessSample no_boot_time =
      ToProcessSample(ParseProcStat(kStat), std::nullopt, std::nullopt, std::nullopt, 100, 4096);
  EXPECT_EQ(ValuesOf(ProcessFamilies(no_boot_time)).count("process_start_time_seconds"), 0u);
}

TEST(ProcessFamilies, HaveClientGolangsNamesTypesAndHelp) {
  const auto families =
      ProcessFamilies(ToProcessSample(ParseProcStat(kStat), 1764140000, 1024.0, 7.0, 100, 4096));
  std::map<std::string, std::pair<prometheus::MetricType, std::string>> kinds;
  for (const auto& family : families) kinds[family.name] = {family.type, family.help};
  using prometheus::MetricType;
  EXPECT_EQ(kinds["process_cpu_seconds_total"],
            std::make_pair(MetricType::Counter,
                           std::string("Total user and system CPU time spent in seconds.")));
  for (const char* gauge : {"process_resident_memory_bytes", "process_virtual_memory_bytes",
                            "process_start_time_seconds", "process_open_fds", "process_max_fds"}) {
    EXPECT_EQ(kinds[gauge].first, MetricType::Gauge) << gauge;
    EXPECT_FALSE(kinds[gauge].second.empty()) << gauge;
  }
}

TEST(ProcessCollector, ReadsThisProcessFromProc) {
  const auto before = std::chrono::system_clock::now();
  const std::map<std::string, double> values = ValuesOf(ProcessCollector().Collect());
  ASSERT_EQ(values.size(), 6u) << "every metric must be readable from /proc/self";
  rlimit files{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &files), 0);
  EXPECT_EQ(values.at("process_max_fds"), static_cast<double>(files.rlim_cur));
  // stdin, stdout, stderr and the directory being read at least.
  EXPECT_GE(values.at("process_open_fds"), 4.0);
  EXPECT_LE(values.at("process_open_fds"), values.at("process_max_fds"));
  EXPECT_GT(values.at("process_resident_memory_bytes"), 0.0);
  EXPECT_GE(values.at("process_virtual_memory_bytes"), values.at("process_resident_memory_bytes"));
  EXPECT_GE(values.at("process_cpu_seconds_total"), 0.0);
  // Started before this test, and not before the year 2020 (the boot time was added in).
  const double now = std::chrono::duration<double>(before.time_since_epoch()).count();
  EXPECT_LE(values.at("process_start_time_seconds"), now + 1);
  EXPECT_GT(values.at("process_start_time_seconds"), 1577836800.0);
}

}  // namespace
}  // namespace poolwatch
