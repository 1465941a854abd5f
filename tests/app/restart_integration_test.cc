// Restarts with the real stack: nginx under steady traffic, poolwatch killed with SIGKILL
// several times, the log rotated (rename + nginx reopen) while poolwatch runs and while it is
// down. Checked: every line nginx wrote is consumed exactly once in the saved accounting (none
// skipped), a crash re-reads at most the lines since the last checkpoint, and the Slack
// stand-in receives each alert once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyTime = std::chrono::steady_clock::time_point;
constexpr auto kDeadline = seconds(30);

// Requests through nginx from a thread of its own, ~100 per second, until stopped. Keeps the
// completion time of each so a test can ask how many lines nginx wrote in the last seconds.
class Traffic {
 public:
  explicit Traffic(Stack& stack) : stack_(stack), thread_([this] { Run(); }) {}
  ~Traffic() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t CompletedSince(SteadyTime since) {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<size_t>(
        std::count_if(done_.begin(), done_.end(), [&](SteadyTime t) { return t >= since; }));
  }
  size_t failures() const { return failures_; }

 private:
  void Run() {
    while (!stop_) {
      HttpResponse r = stack_.Get("/version");
      if (r.status == 0) ++failures_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_.push_back(std::chrono::steady_clock::now());
        if (done_.size() > 100000) done_.pop_front();
      }
      // Pacing, not waiting for a condition: a steady, modest request rate.
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

  Stack& stack_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> failures_{0};
  std::mutex mu_;
  std::deque<SteadyTime> done_;
  std::thread thread_;
};

pid_t NginxPid(const Stack& stack) {
  for (const fs::path& p :
       {stack.dir() / "nginx/nginx.pid", stack.dir() / "nginx/logs/nginx.pid"}) {
    if (fs::exists(p)) return std::stoi(ReadFile(p));
  }
  return -1;
}

// Every line nginx wrote, in the current log and every rotated one.
size_t LinesWritten(const Stack& stack) {
  size_t lines = 0;
  for (const auto& entry : fs::directory_iterator(stack.access_log().parent_path())) {
    if (entry.path().filename().string().rfind("access.log", 0) != 0) continue;
    std::string text = ReadFile(entry.path());
    lines += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  return lines;
}

// logrotate's create mode by hand: rename, then tell nginx to reopen (SIGUSR1); returns once
// nginx has created the new file.
void RotateLog(const Stack& stack, const std::string& suffix) {
  const fs::path log = stack.access_log();
  fs::rename(log, log.string() + "." + suffix);
  ASSERT_EQ(kill(NginxPid(stack), SIGUSR1), 0);
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(log); }, seconds(10))) << "nginx did not reopen";
}

nlohmann::json ReadState(const fs::path& path) {
  return nlohmann::json::parse(ReadFile(path), nullptr, false);
}

// "failover:firing", "failover:resolved", … from the Slack headlines.
std::vector<std::string> Received(Stack& stack) {
  std::vector<std::string> out;
  for (const std::string& text : stack.SlackTexts()) {
    std::string rule = text.find("ERROR_RATE") != std::string::npos ? "error_rate"
                       : text.find("FAILOVER") != std::string::npos ? "failover"
                                                                    : "other";
    out.push_back(rule + (text.find("RESOLVED") != std::string::npos ? ":resolved" : ":firing"));
  }
  return out;
}

int Count(const std::vector<std::string>& v, const std::string& what) {
  return static_cast<int>(std::count(v.begin(), v.end(), what));
}

TEST(Restart, KillNineAndRotationLoseNoLineAndRepeatNoAlert) {
  TempDir state_dir;
  const fs::path state = state_dir / "state.json";
  StackOptions options;
  options.poolwatch_args = {"--state.path", state.string()};
  options.nginx_workers = 2;  // each reopens the log on its own after USR1, as in production
  Stack stack(options);
  Traffic traffic(stack);

  int restarts = 0;
  size_t max_reread = 0;
  // Lets poolwatch work under traffic for a while (it must have checkpointed at least once),
  // then kills it with SIGKILL and checks the saved state against what nginx wrote.
  auto crash = [&](const std::string& when) {
    const double before = stack.Metric("poolwatch_log_lines_total");
    ASSERT_TRUE(WaitUntil([&] { return stack.Metric("poolwatch_log_lines_total") >= before + 100; },
                          kDeadline))
        << when << ": poolwatch is not reading\n"
        << stack.poolwatch()->Output();
    stack.poolwatch()->Kill9();
    const SteadyTime killed = std::chrono::steady_clock::now();
    const size_t written = LinesWritten(stack);
    nlohmann::json saved = ReadState(state);
    ASSERT_FALSE(saved.is_discarded()) << when << ": the state file is torn";
    const size_t consumed = saved["log"]["lines"].get<size_t>();
    EXPECT_LE(consumed, written) << when;
    // Lines after the checkpoint are read again by the next run: at most what nginx wrote
    // during the last checkpoint interval (1 s); after a rotation, while the old file is still
    // read (until idle for 2 s), the saved position stays in it, so up to 2 s more; plus
    // scheduling slack.
    const size_t reread = written - std::min(consumed, written);
    const size_t recent = traffic.CompletedSince(killed - seconds(4));
    EXPECT_LE(reread, recent + 5) << when << ": the last checkpoint is too old";
    max_reread = std::max(max_reread, reread);
    ++restarts;
  };

  // 1. Rotation while poolwatch runs, then a crash.
  ASSERT_TRUE(WaitUntil([&] { return stack.Metric("poolwatch_log_lines_total") > 50; }, kDeadline));
  RotateLog(stack, "1");
  crash("after a rotation");
  stack.StartPoolwatch();

  // 2. A failover: announced once, then a crash while it is still firing.
  stack.StartChaos("blue", "error");
  ASSERT_TRUE(WaitUntil([&] { return Count(Received(stack), "failover:firing") == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  crash("while a failover fires");
  stack.StartPoolwatch();

  // 3. Rotation and a crash, the failover still firing: not announced again.
  RotateLog(stack, "2");
  crash("after a second rotation, still failing over");
  stack.StartPoolwatch();

  // 4. Recovery: the resolution is sent once; a crash, then a rotation while poolwatch is
  // down (its unread tail must be read from the renamed file, wherever it was renamed to).
  stack.StopChaos("blue");
  ASSERT_TRUE(
      WaitUntil([&] { return Count(Received(stack), "failover:resolved") == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  crash("after the resolution");
  RotateLog(stack, "3");
  ASSERT_TRUE(WaitUntil([&] { return fs::file_size(stack.access_log()) > 0; }, kDeadline));
  fs::rename(stack.access_log().string() + ".3", stack.access_log().string() + ".3.old");
  stack.StartPoolwatch();
  EXPECT_THAT(ReadFile(stack.dir() / "poolwatch.log"), ::testing::HasSubstr("access.log.3.old"));

  // 5. One more plain crash.
  crash("plain");
  stack.StartPoolwatch();

  // Traffic stops; the last run catches up and is stopped cleanly.
  traffic.Stop();
  const size_t written = LinesWritten(stack);
  ASSERT_TRUE(WaitUntil(
      [&] {
        nlohmann::json s = ReadState(state);
        return !s.is_discarded() && s["log"]["lines"].get<size_t>() == written;
      },
      kDeadline))
      << "saved " << ReadState(state)["log"].dump() << " of " << written << " lines\n"
      << ReadFile(stack.dir() / "poolwatch.log");
  stack.StopPoolwatch();
  EXPECT_EQ(ReadState(state)["log"]["lines"].get<size_t>(), written);
  EXPECT_EQ(LinesWritten(stack), written);

  const std::vector<std::string> received = Received(stack);
  EXPECT_EQ(Count(received, "failover:firing"), 1) << ::testing::PrintToString(received);
  EXPECT_EQ(Count(received, "failover:resolved"), 1) << ::testing::PrintToString(received);
  EXPECT_EQ(received.size(), 2u) << ::testing::PrintToString(received);
  EXPECT_EQ(restarts, 5);
  EXPECT_EQ(traffic.failures(), 0u);
  RecordProperty("restarts", restarts);
  RecordProperty("lines", static_cast<int>(written));
  RecordProperty("max_reread", static_cast<int>(max_reread));
  std::cout << "restarts survived: " << restarts << ", lines written: " << written
            << ", most lines re-read after one crash: " << max_reread << "\n";
}

}  // namespace
}  // namespace poolwatch::testing
