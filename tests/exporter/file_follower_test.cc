#include "exporter/file_follower.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

namespace fs = std::filesystem;
using ::poolwatch::testing::AppendFile;
using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Writes like nginx: one descriptor opened with O_APPEND and kept until Reopen(), so writes
// after a rename or delete still go to the old file, as they do until nginx reopens its logs.
class Writer {
 public:
  explicit Writer(const fs::path& path) { Reopen(path); }
  ~Writer() { ::close(fd_); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void Reopen(const fs::path& path) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd_, 0) << path;
  }
  void Write(const std::string& text) {
    ASSERT_EQ(::write(fd_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

 private:
  int fd_ = -1;
};

FileFollowerOptions FromBeginning(const fs::path& path) {
  FileFollowerOptions options;
  options.path = path.string();
  options.start_at_end = false;
  return options;
}

FileFollowerOptions FromEnd(const fs::path& path) {
  FileFollowerOptions options;
  options.path = path.string();
  return options;
}

// One Poll(), its lines copied out (the views die with the call).
std::vector<std::string> PollLines(FileFollower& follower,
                                   FileFollower::PollResult* result = nullptr) {
  std::vector<std::string> lines;
  FileFollower::PollResult r =
      follower.Poll([&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_EQ(r.lines, lines.size());
  if (result != nullptr) *result = r;
  return lines;
}

bool Readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

ino_t InodeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST(FileFollower, StartsAtTheEndOfTheFileFoundAtStartupByDefault) {
  TempDir dir;
  WriteFile(dir / "access.log", "old 1\nold 2\n");
  FileFollower follower(FromEnd(dir / "access.log"));
  EXPECT_THAT(PollLines(follower), IsEmpty());
  AppendFile(dir / "access.log", "new 1\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("new 1"));
  EXPECT_EQ(follower.stats().offset, 18u);
  EXPECT_EQ(follower.stats().bytes_read, 6u);
}

TEST(FileFollower, ReadsTheExistingContentWhenStartingAtTheBeginning) {
  TempDir dir;
  WriteFile(dir / "access.log", "old 1\nold 2\n");
  FileFollower follower(FromBeginning(dir / "access.log"));
  EXPECT_THAT(PollLines(follower), ElementsAre("old 1", "old 2"));
  EXPECT_TRUE(follower.status().empty());
}

TEST(FileFollower, DeliversAppendedLinesOnEachPollAndCountsThem) {
  TempDir dir;
  WriteFile(dir / "access.log", "");
  FileFollower follower(FromEnd(dir / "access.log"));
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), IsEmpty());
  EXPECT_FALSE(result.active());
  AppendFile(dir / "access.log", "a\nb\n");
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("a", "b"));
  EXPECT_TRUE(result.active());
  EXPECT_EQ(result.bytes_read, 4u);
  AppendFile(dir / "access.log", "c\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("c"));
  EXPECT_EQ(follower.stats().lines, 3u);
  EXPECT_EQ(follower.stats().bytes_read, 6u);
  EXPECT_EQ(follower.stats().file_size, 6u);
  EXPECT_TRUE(follower.stats().file_open);
  EXPECT_EQ(follower.stats().inode, InodeOf(dir / "access.log"));
}

TEST(FileFollower, HoldsAPartialLastLineUntilItIsCompleted) {
  TempDir dir;
  WriteFile(dir / "access.log", "");
  FileFollower follower(FromEnd(dir / "access.log"));
  AppendFile(dir / "access.log", "complete\nhalf a ");
  EXPECT_THAT(PollLines(follower), ElementsAre("complete"));
  EXPECT_THAT(PollLines(follower), IsEmpty());
  AppendFile(dir / "access.log", "line\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("half a line"));
}

TEST(FileFollower, StartingAtTheEndDeliversALineBeingWrittenWhole) {
  TempDir dir;
  WriteFile(dir / "access.log", "old\nstill being wri");
  FileFollower follower(FromEnd(dir / "access.log"));
  EXPECT_THAT(PollLines(follower), IsEmpty());
  AppendFile(dir / "access.log", "tten\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("still being written"));
}

TEST(FileFollower, ReadsAFileLargerThanOneBlockAndBoundsEachPoll) {
  TempDir dir;
  std::string content;
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    expected.push_back("request number " + std::to_string(i));
    content += expected.back() + "\n";
  }
  WriteFile(dir / "access.log", content);
  FileFollowerOptions options = FromBeginning(dir / "access.log");
  options.block_bytes = 7;  // lines straddle every block boundary
  options.max_bytes_per_poll = 500;
  FileFollower follower(options);
  std::vector<std::string> lines;
  FileFollower::PollResult result;
  int polls = 0;
  do {
    std::vector<std::string> got = PollLines(follower, &result);
    lines.insert(lines.end(), got.begin(), got.end());
    EXPECT_LE(result.bytes_read, 500u + 7u);
    ++polls;
  } while (result.more);
  EXPECT_EQ(lines, expected);
  EXPECT_GE(polls, static_cast<int>(content.size() / 500));
}

TEST(FileFollower, DrainsRenamedFileBeforeOpeningNewOne) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  nginx.Write("1\n2\n");
  FileFollower follower(FromBeginning(log));
  EXPECT_THAT(PollLines(follower), ElementsAre("1", "2"));
  const ino_t old_inode = InodeOf(log);

  nginx.Write("3\n");                     // not read yet
  fs::rename(log, dir / "access.log.1");  // logrotate: rename, then create
  nginx.Write("4\n");                     // nginx still writes to the renamed file...
  WriteFile(log, "");
  nginx.Write("5\n");
  nginx.Reopen(log);  // ...until it reopens (USR1)
  nginx.Write("6\n7\n");

  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("3", "4", "5", "6", "7"));
  EXPECT_TRUE(result.rotated);
  EXPECT_EQ(follower.stats().rotations, 1u);
  EXPECT_EQ(follower.stats().truncations, 0u);
  EXPECT_NE(follower.stats().inode, old_inode);
  EXPECT_EQ(follower.stats().inode, InodeOf(log));

  nginx.Write("8\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("8"));
  EXPECT_TRUE(follower.status().empty());
}

TEST(FileFollower, KeepsReadingTheRenamedFileWhileTheNewOneIsEmpty) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  FileFollower follower(FromBeginning(log));
  const ino_t old_inode = InodeOf(log);
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, "");
  nginx.Write("late\n");  // nginx has not reopened yet
  EXPECT_THAT(PollLines(follower), ElementsAre("late"));
  EXPECT_EQ(follower.stats().rotations, 0u);
  EXPECT_EQ(follower.stats().inode, old_inode);

  nginx.Write("later\n");
  nginx.Reopen(log);
  nginx.Write("new\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("later", "new"));
  EXPECT_EQ(follower.stats().rotations, 1u);
}

TEST(FileFollower, FollowsTheOldFileWhileThePathIsMissing) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  FileFollower follower(FromBeginning(log));
  fs::rename(log, dir / "access.log.1");
  nginx.Write("still counted\n");
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("still counted"));
  EXPECT_FALSE(result.status_changed);  // a normal moment of a rotation, not an error
  EXPECT_EQ(follower.stats().open_errors, 0u);
}

// A steady clock the test moves by hand, for the grace given to a rotated file.
struct ManualClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  void Advance(std::chrono::milliseconds d) { now += d; }
};

FileFollowerOptions WithClock(FileFollowerOptions options, ManualClock& clock) {
  options.steady_now = [&clock] { return clock.now; };
  return options;
}

TEST(FileFollower, DeliversTheUnterminatedLastLineOfARotatedFileOnceItsGraceIsOver) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, "whole\ncut off");
  ManualClock clock;
  FileFollower follower(WithClock(FromBeginning(log), clock));
  EXPECT_THAT(PollLines(follower), ElementsAre("whole"));
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, "next\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("next"));  // a late writer may still finish it
  clock.Advance(std::chrono::milliseconds(1999));
  EXPECT_THAT(PollLines(follower), IsEmpty());
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_THAT(PollLines(follower), ElementsAre("cut off"));
  EXPECT_FALSE(follower.stats().draining_rotated_file);
  EXPECT_THAT(PollLines(follower), IsEmpty());
}

// nginx workers reopen the log each on its own after USR1: one may still append to the renamed
// file after another has written to the new one.
TEST(FileFollower, ReadsALateWorkersLinesInTheRenamedFileAfterTheNewOneHasData) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer early(log);
  Writer late(log);
  ManualClock clock;
  FileFollower follower(WithClock(FromBeginning(log), clock));
  early.Write("a1\n");
  late.Write("b1\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("a1", "b1"));

  fs::rename(log, dir / "access.log.1");
  WriteFile(log, "");
  early.Reopen(log);
  early.Write("a2\n");
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("a2"));
  EXPECT_TRUE(result.rotated);
  EXPECT_TRUE(follower.stats().draining_rotated_file);

  late.Write("b2\n");  // the late worker, still on the renamed file
  EXPECT_THAT(PollLines(follower), ElementsAre("b2"));
  clock.Advance(std::chrono::milliseconds(1500));
  late.Write("b3\n");
  early.Write("a3\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("b3", "a3"));  // the old file first
  clock.Advance(std::chrono::milliseconds(1500));             // 1.5 s since b3: still in the grace
  late.Write("b4\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("b4"));
  late.Reopen(log);
  late.Write("b5\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("b5"));
  EXPECT_TRUE(follower.stats().draining_rotated_file);

  clock.Advance(std::chrono::milliseconds(2000));
  EXPECT_THAT(PollLines(follower), IsEmpty());
  EXPECT_FALSE(follower.stats().draining_rotated_file);
  EXPECT_EQ(follower.stats().lines, 8u);  // each line exactly once
  EXPECT_EQ(follower.stats().rotations, 1u);
  EXPECT_TRUE(follower.status().empty());
}

TEST(FileFollower, ALateWorkerCompletesTheRenamedFilesPartialLine) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer late(log);
  ManualClock clock;
  FileFollower follower(WithClock(FromBeginning(log), clock));
  late.Write("one\nhalf a ");
  EXPECT_THAT(PollLines(follower), ElementsAre("one"));
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, "new\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("new"));
  clock.Advance(std::chrono::milliseconds(1000));
  late.Write("line\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("half a line"));
  clock.Advance(std::chrono::milliseconds(5000));
  EXPECT_THAT(PollLines(follower), IsEmpty());  // nothing left over to flush
  EXPECT_FALSE(follower.stats().draining_rotated_file);
}

TEST(FileFollower, StopsReadingARotatedFileAtOnceWhenItIsDeleted) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer late(log);
  ManualClock clock;
  FileFollower follower(WithClock(FromBeginning(log), clock));
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, "new\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("new"));
  late.Write("before the delete\nunfinished");
  fs::remove(dir / "access.log.1");  // e.g. compressed away: nobody will read it after us
  EXPECT_THAT(PollLines(follower), ElementsAre("before the delete", "unfinished"));
  EXPECT_FALSE(follower.stats().draining_rotated_file);
}

TEST(FileFollower, ASecondRotationWithinTheGraceFinishesTheOlderFile) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer first(log);
  ManualClock clock;
  FileFollower follower(WithClock(FromBeginning(log), clock));
  first.Write("1\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("1"));
  fs::rename(log, dir / "access.log.1");
  Writer second(log);
  second.Write("2\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("2"));
  first.Write("late 1\npart");
  fs::rename(log, dir / "access.log.2");
  WriteFile(log, "3\n");
  second.Write("late 2\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("late 1", "late 2", "part", "3"));
  EXPECT_EQ(follower.stats().rotations, 2u);
  EXPECT_TRUE(follower.stats().draining_rotated_file);  // the second file, for its grace
  second.Write("late 3\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("late 3"));
}

// While the renamed file is still read, a restart must go on from it: its unread rest is read
// by the start-up (ReadRotatedRemainder), then the new file from its beginning. The lines of the
// new file are then read twice, so the saved count of consumed lines must leave them out.
TEST(FileFollower, ThePositionStaysInTheRotatedFileUntilItsGraceIsOver) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer late(log);
  ManualClock clock;
  FileFollower follower(WithClock(FromBeginning(log), clock));
  late.Write("old 1\nold");
  EXPECT_THAT(PollLines(follower), ElementsAre("old 1"));
  const ino_t old_inode = InodeOf(log);
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, "new 1\nnew 2\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("new 1", "new 2"));

  FileFollower::Position saved = follower.CurrentPosition();
  EXPECT_EQ(saved.inode, old_inode);
  EXPECT_EQ(saved.offset, 6u);  // the start of the unfinished "old"
  EXPECT_EQ(follower.LinesAfterPosition(), 2u);
  {
    // A restart from here reads the new file again: exactly the lines left out.
    FileFollowerOptions options = FromEnd(log);
    options.resume_from = saved;
    FileFollower restarted(options);
    EXPECT_EQ(PollLines(restarted).size(), follower.LinesAfterPosition());
  }

  AppendFile(log, "new 3\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("new 3"));
  EXPECT_EQ(follower.LinesAfterPosition(), 3u);
  clock.Advance(std::chrono::milliseconds(2000));
  EXPECT_THAT(PollLines(follower), ElementsAre("old"));
  saved = follower.CurrentPosition();
  EXPECT_EQ(saved.inode, InodeOf(log));
  EXPECT_EQ(saved.offset, 18u);
  EXPECT_EQ(follower.LinesAfterPosition(), 0u);
}

TEST(FileFollower, WakesTheWaitFdWhenTheRotatedFileIsWritten) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer late(log);
  FileFollower follower(FromBeginning(log));
  if (follower.WaitFd() < 0) GTEST_SKIP() << "inotify is not available here";
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, "new\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("new"));
  follower.DrainWakeups();
  late.Write("late\n");
  EXPECT_TRUE(Readable(follower.WaitFd()));
  EXPECT_THAT(PollLines(follower), ElementsAre("late"));
}

TEST(FileFollower, RestartsFromTheBeginningAfterCopytruncate) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  nginx.Write("a\nb\nc\n");
  FileFollower follower(FromBeginning(log));
  EXPECT_THAT(PollLines(follower), ElementsAre("a", "b", "c"));
  nginx.Write("par");
  EXPECT_THAT(PollLines(follower), IsEmpty());
  const ino_t inode = InodeOf(log);

  fs::copy_file(log, dir / "access.log.1");
  fs::resize_file(log, 0);  // copytruncate
  nginx.Write("x\n");       // O_APPEND: goes on at the new end
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("x"));  // "par" is not glued to it
  EXPECT_TRUE(result.truncated);
  EXPECT_FALSE(result.rotated);
  EXPECT_EQ(follower.stats().truncations, 1u);
  EXPECT_EQ(follower.stats().rotations, 0u);
  EXPECT_EQ(follower.stats().inode, inode);
  EXPECT_EQ(follower.stats().offset, 2u);

  nginx.Write("y\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("y"));
}

TEST(FileFollower, DetectsCopytruncateEvenWhenRefilledPastTheOffsetBeforeThePoll) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  nginx.Write("10:00:01 a\n");
  FileFollower follower(FromBeginning(log));
  EXPECT_THAT(PollLines(follower), ElementsAre("10:00:01 a"));
  fs::resize_file(log, 0);
  nginx.Write("10:00:02 b\n10:00:03 c\n");  // longer than what we had read: size looks fine
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("10:00:02 b", "10:00:03 c"));
  EXPECT_TRUE(result.truncated);
}

TEST(FileFollower, DrainsDeletedFileBeforeOpeningRecreatedOne) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  nginx.Write("1\n");
  FileFollower follower(FromBeginning(log));
  EXPECT_THAT(PollLines(follower), ElementsAre("1"));
  nginx.Write("2\n");
  fs::remove(log);
  nginx.Write("3\n");  // into the deleted file, which nginx still holds
  nginx.Reopen(log);   // creates the new file
  nginx.Write("4\n");
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("2", "3", "4"));
  EXPECT_TRUE(result.rotated);
  EXPECT_EQ(follower.stats().rotations, 1u);
  EXPECT_EQ(follower.stats().inode, InodeOf(log));
}

TEST(FileFollower, WaitsForAMissingFileAndReadsItFromTheBeginningWhenItAppears) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  FileFollower follower(FromEnd(log));  // start_at_end is for the file found at start-up only
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), IsEmpty());
  EXPECT_TRUE(result.status_changed);
  EXPECT_THAT(follower.status(), HasSubstr("waiting for " + log.string()));
  EXPECT_FALSE(follower.stats().file_open);

  EXPECT_THAT(PollLines(follower, &result), IsEmpty());
  EXPECT_FALSE(result.status_changed);  // reported once, not on every retry
  EXPECT_EQ(follower.stats().open_errors, 1u);

  WriteFile(log, "first\nsecond\n");
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("first", "second"));
  EXPECT_TRUE(result.status_changed);
  EXPECT_TRUE(follower.status().empty());
  EXPECT_EQ(follower.stats().rotations, 0u);
}

TEST(FileFollower, WaitsForADirectoryThatDoesNotExistYet) {
  TempDir dir;
  const fs::path log = dir / "nginx" / "access.log";
  FileFollower follower(FromEnd(log));
  EXPECT_THAT(PollLines(follower), IsEmpty());
  fs::create_directory(dir / "nginx");
  WriteFile(log, "hello\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("hello"));
}

TEST(FileFollower, ReportsANonRegularFileOnceAndRecoversWhenItIsReplaced) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  fs::create_directory(log);
  FileFollower follower(FromBeginning(log));
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), IsEmpty());
  EXPECT_TRUE(result.status_changed);
  EXPECT_THAT(follower.status(), HasSubstr("not a regular file"));
  PollLines(follower, &result);
  EXPECT_FALSE(result.status_changed);
  EXPECT_EQ(follower.stats().open_errors, 1u);

  fs::remove(log);
  WriteFile(log, "ok\n");
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("ok"));
  EXPECT_TRUE(result.status_changed);
  EXPECT_TRUE(follower.status().empty());
}

// Root reads a file whatever its mode. Without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH in its
// effective set it obeys the mode like any user (CI runs as root). Capabilities belong to the
// thread: only this test's thread loses them, and gets them back at the end.
class WithoutPermissionOverride {
 public:
  WithoutPermissionOverride() {
    ok_ = syscall(SYS_capget, &header_, saved_) == 0;
    if (!ok_) return;
    __user_cap_data_struct reduced[2] = {saved_[0], saved_[1]};
    reduced[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    ok_ = syscall(SYS_capset, &header_, reduced) == 0;
  }
  ~WithoutPermissionOverride() {
    if (ok_) syscall(SYS_capset, &header_, saved_);
  }
  bool ok() const { return ok_; }

 private:
  __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct saved_[2] = {};
  bool ok_ = false;
};

TEST(FileFollower, ReportsPermissionDeniedOnceAndRetriesUntilItIsFixed) {
  WithoutPermissionOverride as_a_plain_user;
  ASSERT_TRUE(as_a_plain_user.ok()) << "capget/capset: " << std::strerror(errno);
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, "secret\n");
  fs::permissions(log, fs::perms::none);
  FileFollower follower(FromBeginning(log));
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), IsEmpty());
  EXPECT_TRUE(result.status_changed);
  EXPECT_THAT(follower.status(), HasSubstr("Permission denied"));
  PollLines(follower, &result);
  EXPECT_FALSE(result.status_changed);
  EXPECT_EQ(follower.stats().open_errors, 1u);

  fs::permissions(log, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("secret"));
  EXPECT_TRUE(follower.status().empty());
}

TEST(FileFollower, CountsOverlongLinesAndDeliversTheRest) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, "short\n" + std::string(100, 'x') + "\nafter\n");
  FileFollowerOptions options = FromBeginning(log);
  options.max_line_bytes = 16;
  options.block_bytes = 32;
  FileFollower follower(options);
  FileFollower::PollResult result;
  EXPECT_THAT(PollLines(follower, &result), ElementsAre("short", "after"));
  EXPECT_EQ(result.overlong_lines, 1u);
  EXPECT_EQ(follower.stats().overlong_lines, 1u);
}

TEST(FileFollower, RecordsRotationTimeFromTheGivenClock) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, "");
  FileFollowerOptions options = FromBeginning(log);
  const auto rotation_time = std::chrono::system_clock::time_point(std::chrono::hours(400000));
  options.now = [&] { return rotation_time; };
  FileFollower follower(options);
  EXPECT_EQ(follower.stats().last_rotation, std::chrono::system_clock::time_point{});
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, "x\n");
  PollLines(follower);
  EXPECT_EQ(follower.stats().last_rotation, rotation_time);
}

TEST(FileFollower, ResumesFromASavedPosition) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, "1\n2\n3\npart");
  FileFollower::Position saved;
  {
    FileFollower follower(FromBeginning(log));
    EXPECT_THAT(PollLines(follower), ElementsAre("1", "2", "3"));
    saved = follower.CurrentPosition();
  }
  EXPECT_EQ(saved.offset, 6u);  // before the partial line, so it is read again whole
  EXPECT_EQ(saved.inode, InodeOf(log));
  EXPECT_EQ(saved.fingerprint, "310a320a330a70617274");  // hex of "1\n2\n3\npart"

  AppendFile(log, "ial\n4\n");
  FileFollowerOptions options = FromEnd(log);  // the saved position wins over start_at_end
  options.resume_from = saved;
  FileFollower follower(options);
  EXPECT_THAT(PollLines(follower), ElementsAre("partial", "4"));
}

TEST(FileFollower, FingerprintIsTheFirst64BytesOfTheFile) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, std::string(100, 'A') + "\n");
  FileFollower follower(FromEnd(log));
  std::string hex_of_64_a;
  for (int i = 0; i < 64; ++i) hex_of_64_a += "41";  // 'A'
  EXPECT_EQ(follower.CurrentPosition().fingerprint, hex_of_64_a);
  EXPECT_EQ(follower.CurrentPosition().offset, 101u);
}

TEST(FileFollower, ReadsFromTheBeginningWhenTheSavedPositionIsForAnotherFile) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  nginx.Write("old 1\nold 2\n");
  FileFollower::Position saved;
  {
    FileFollower follower(FromBeginning(log));
    PollLines(follower);
    saved = follower.CurrentPosition();
  }
  // Rotated while poolwatch was down: the file at the path is a new one.
  fs::rename(log, dir / "access.log.1");
  nginx.Reopen(log);
  nginx.Write("new 1\nnew 2\nnew 3\n");
  FileFollowerOptions options = FromEnd(log);
  options.resume_from = saved;
  FileFollower follower(options);
  EXPECT_THAT(PollLines(follower), ElementsAre("new 1", "new 2", "new 3"));
}

TEST(FileFollower, ReadsFromTheBeginningWhenTheFileIsShorterThanTheSavedOffset) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, "aaaa\nbbbb\n");
  FileFollower::Position saved;
  {
    FileFollower follower(FromBeginning(log));
    PollLines(follower);
    saved = follower.CurrentPosition();
  }
  fs::resize_file(log, 0);  // copytruncate while poolwatch was down
  AppendFile(log, "aaaa\n");
  FileFollowerOptions options = FromEnd(log);
  options.resume_from = saved;
  FileFollower follower(options);
  EXPECT_THAT(PollLines(follower), ElementsAre("aaaa"));
}

TEST(FileFollower, ReadsFromTheBeginningWhenTheFingerprintDiffers) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, "aaaa\nbbbb\n");
  FileFollower::Position saved;
  {
    FileFollower follower(FromBeginning(log));
    PollLines(follower);
    saved = follower.CurrentPosition();
  }
  // Same inode, long enough, but other content: truncated and refilled while we were down.
  WriteFile(log, "cccc\ndddd\neeee\n");
  ASSERT_EQ(InodeOf(log), saved.inode);
  FileFollowerOptions options = FromEnd(log);
  options.resume_from = saved;
  FileFollower follower(options);
  EXPECT_THAT(PollLines(follower), ElementsAre("cccc", "dddd", "eeee"));
}

TEST(FileFollower, WakesTheWaitFdWhenTheFileIsWritten) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  FileFollower follower(FromEnd(log));
  if (follower.WaitFd() < 0) GTEST_SKIP() << "inotify is not available here";
  follower.DrainWakeups();
  EXPECT_FALSE(Readable(follower.WaitFd()));
  nginx.Write("wake up\n");
  EXPECT_TRUE(Readable(follower.WaitFd()));  // queued by write(2) itself: no sleep needed
  follower.DrainWakeups();
  EXPECT_FALSE(Readable(follower.WaitFd()));
  EXPECT_THAT(PollLines(follower), ElementsAre("wake up"));
}

TEST(FileFollower, WakesTheWaitFdWhenTheFileAppearsOrIsReplaced) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  FileFollower follower(FromEnd(log));
  if (follower.WaitFd() < 0) GTEST_SKIP() << "inotify is not available here";
  follower.DrainWakeups();
  WriteFile(log, "");
  EXPECT_TRUE(Readable(follower.WaitFd()));
  follower.DrainWakeups();
  PollLines(follower);

  WriteFile(dir / "access.log.new", "");
  follower.DrainWakeups();
  fs::rename(dir / "access.log.new", log);  // replaced by rename
  EXPECT_TRUE(Readable(follower.WaitFd()));
}

// The run loop polls this often when WaitFd() is -1: a line must be counted within 50 ms.
static_assert(FileFollower::kFallbackPollInterval <= std::chrono::milliseconds(40));

TEST(FileFollower, FollowsWithoutInotify) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  FileFollowerOptions options = FromBeginning(log);
  options.use_inotify = false;
  FileFollower follower(options);
  EXPECT_EQ(follower.WaitFd(), -1);
  follower.DrainWakeups();  // harmless
  WriteFile(log, "polled\n");
  EXPECT_THAT(PollLines(follower), ElementsAre("polled"));
}

// Every kind of rotation, again and again, with writes in between: every line exactly once,
// in order.
TEST(FileFollower, SurvivesRepeatedRotationsWithoutLosingOrRepeatingALine) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  Writer nginx(log);
  FileFollowerOptions options = FromBeginning(log);
  options.block_bytes = 5;
  FileFollower follower(options);
  std::vector<std::string> delivered;
  int next = 0;
  auto write_lines = [&](int n) {
    for (int i = 0; i < n; ++i) nginx.Write("line " + std::to_string(next++) + "\n");
  };
  auto poll = [&] { follower.Poll([&](std::string_view line) { delivered.emplace_back(line); }); };
  for (int round = 0; round < 30; ++round) {
    write_lines(round % 4);
    if (round % 3 == 0) poll();
    switch (round % 3) {
      case 0:  // rename + create, nginx reopens later
        fs::rename(log, dir / "access.log.1");
        write_lines(2);
        WriteFile(log, "");
        write_lines(1);
        nginx.Reopen(log);
        break;
      case 1:  // delete + recreate
        fs::remove(log);
        write_lines(1);
        nginx.Reopen(log);
        break;
      case 2:  // copytruncate; lines after the last poll are only in the copy
        poll();
        fs::resize_file(log, 0);
        break;
    }
    write_lines(1 + round % 2);
    poll();
  }
  poll();
  std::vector<std::string> expected;
  for (int i = 0; i < next; ++i) expected.push_back("line " + std::to_string(i));
  EXPECT_EQ(delivered, expected);
  EXPECT_EQ(follower.stats().rotations, 20u);
  EXPECT_EQ(follower.stats().truncations, 10u);
  EXPECT_EQ(follower.stats().open_errors + follower.stats().read_errors, 0u);
}

}  // namespace
}  // namespace poolwatch
