// Load: real nginx driven by wrk for a bounded time. Every request nginx logged is counted by
// poolwatch (nginx's own count is the lines of its access log), and poolwatch's memory stays
// flat once its series exist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

using std::chrono::seconds;

// Resident memory of a process in KiB, from /proc; -1 when unknown.
long RssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = -1;
      status >> kib;
      return kib;
    }
    status.ignore(4096, '\n');
  }
  return -1;
}

TEST(Load, EveryRequestIsCountedAndMemoryStaysFlat) {
  const std::string wrk = FindProgram("wrk");
  if (wrk.empty()) GTEST_SKIP() << "wrk is not installed";
  StackOptions options;
  options.slack = false;
  options.poolwatch_args = {"--state.path", "/dev/null/not-a-dir/state.json"};  // write errors too
  Stack stack(options);
  const std::string url = "http://127.0.0.1:" + std::to_string(stack.nginx_port()) + "/version";
  auto drive = [&](int secs) {
    std::string out;
    EXPECT_EQ(RunCommand({wrk, "-t2", "-c16", "-d" + std::to_string(secs) + "s", url}, &out), 0)
        << out;
    return out;
  };
  auto caught_up = [&] {
    return WaitUntil(
        [&] {
          return stack.Metric("poolwatch_http_requests_total") ==
                 static_cast<double>(stack.AccessLogLines());
        },
        seconds(60), std::chrono::milliseconds(100));
  };

  drive(3);  // warm-up: every series poolwatch will have exists now
  ASSERT_TRUE(caught_up()) << stack.Metric("poolwatch_http_requests_total") << " of "
                           << stack.AccessLogLines();
  const long rss_before = RssKib(stack.poolwatch()->pid());
  const size_t lines_before = stack.AccessLogLines();

  const std::string report = drive(10);
  ASSERT_TRUE(caught_up()) << stack.Metric("poolwatch_http_requests_total") << " of "
                           << stack.AccessLogLines();
  const long rss_after = RssKib(stack.poolwatch()->pid());
  const size_t lines = stack.AccessLogLines();
  const size_t during = lines - lines_before;

  EXPECT_GT(during, 2000u) << report;  // a real load, not a trickle
  EXPECT_EQ(stack.Metric("poolwatch_log_lines_total", {{"result", "malformed"}}), 0);
  ASSERT_GT(rss_before, 0);
  // Flat: a line costs no memory once its series exist (the log itself grew by megabytes).
  EXPECT_LT(rss_after - rss_before, 8 * 1024) << rss_before << " KiB → " << rss_after << " KiB";
  EXPECT_TRUE(stack.poolwatch()->Running());
  std::cout << "load: " << during << " requests in 10 s (" << during / 10
            << "/s), all counted; RSS " << rss_before << " → " << rss_after << " KiB\n";
  RecordProperty("requests", static_cast<int>(during));
}

}  // namespace
}  // namespace poolwatch::testing
