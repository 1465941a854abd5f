// Replays the fuzzers' seed corpus and every input that once crashed a fuzzer through the same
// code (fuzz/fuzz_targets.h), so the fixes stay fixed in the normal build and, under
// scripts/sanitizers.sh, with ASan and UBSan. Plus the two findings spelled out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "fuzz/fuzz_targets.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
const fs::path kFuzz = fs::path(POOLWATCH_SOURCE_DIR) / "fuzz";

size_t Replay(const std::string& target, void (*run)(const uint8_t*, size_t)) {
  size_t inputs = 0;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = kFuzz / kind / target;
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string data = ::poolwatch::testing::ReadFile(entry.path());
      SCOPED_TRACE(entry.path().string());
      run(reinterpret_cast<const uint8_t*>(data.data()), data.size());
      ++inputs;
    }
  }
  return inputs;
}

TEST(FuzzRegression, EveryLogFormatSeedAndPastCrashRunsClean) {
  EXPECT_GE(Replay("log_format", fuzz::LogFormatTarget), 8u);
}

TEST(FuzzRegression, EveryPipelineSeedAndPastCrashRunsClean) {
  EXPECT_GE(Replay("pipeline", fuzz::PipelineTarget), 5u);
}

TEST(FuzzRegression, EveryConfigSeedAndPastCrashRunsClean) {
  EXPECT_GE(Replay("config", fuzz::ConfigTarget), 6u);
}

TEST(FuzzRegression, EveryLogInputSeedAndPastCrashRunsClean) {
  EXPECT_GE(Replay("log_input", fuzz::LogInputTarget), 6u);
}

// Found by log_format_fuzzer: a year past 2262 overflowed the nanosecond clock (UB).
TEST(FuzzRegression, AYearBeyondTheClocksRangeIsABadTimeNotAnOverflow) {
  std::string error;
  auto format = LogFormat::Compile(kDefaultLogFormat, {}, &error);
  ASSERT_TRUE(format) << error;
  LogRecord record;
  const std::string line =
      "127.0.0.1 - - [26/Nov/4150:07:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\" pool=blue "
      "release=v1 upstream_status=200 upstream_addr=10.0.0.1:80 request_time=0.1 "
      "upstream_response_time=0.1";
  EXPECT_EQ(format->Parse(line, record), MalformedReason::kBadTime);
  EXPECT_FALSE(ParseTimeIso8601("9999-12-31T23:59:59Z").has_value());
  EXPECT_TRUE(ParseTimeIso8601("2200-01-01T00:00:00Z").has_value());
  // The same for $msec (found a second time by log_format_fuzzer).
  auto msec = LogFormat::Compile(
      "$msec $status pool=$upstream_http_x_app_pool release=$upstream_http_x_release_id "
      "$upstream_status $upstream_addr $request_time $upstream_response_time",
      {}, &error);
  ASSERT_TRUE(msec) << error;
  EXPECT_EQ(
      msec->Parse("12720000000000000.000 200 pool=blue release=v1 200 10.0.0.1:80 0.1 0.1", record),
      MalformedReason::kBadTime);
  EXPECT_FALSE(
      msec->Parse("1764140811.123 200 pool=blue release=v1 200 10.0.0.1:80 0.1 0.1", record)
          .has_value());
}

// Found by config_fuzzer: a key that is not a plain name ("? [a]") escaped as a yaml-cpp
// exception instead of a configuration error.
TEST(FuzzRegression, ANonScalarKeyIsAConfigurationError) {
  for (const char* yaml :
       {"? [a]\n: 1\n", "log:\n  ? {a: 1}\n  : x\n", "log:\n  pools:\n    ? [a]\n    : blue\n"}) {
    try {
      LoadConfigFromString(yaml, "poolwatch.yml", {});
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr("poolwatch.yml")) << yaml;
    }
  }
  try {
    ParseWebConfig("basic_auth_users:\n  ? [a]\n  : x\n", "web.yml");
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("web.yml:"));
  }
}

}  // namespace
}  // namespace poolwatch
