#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "exporter/line_splitter.h"

namespace poolwatch {

// Where a follower stood in a file, so that a restarted poolwatch can go on from there
// instead of re-reading or skipping lines.
struct FilePosition {
  dev_t dev = 0;
  ino_t inode = 0;
  uint64_t offset = 0;      // where the first undelivered line starts
  std::string fingerprint;  // the file's first bytes (up to 64), hex: detects inode reuse
};

struct FileFollowerOptions {
  std::string path;
  // Only for the file found at start-up: skip what it already holds. A file that appears or
  // replaces it later is always read from its beginning, since all of it is new.
  bool start_at_end = true;
  // Overrides start_at_end: resume in the start-up file if it is still the same file (same
  // identity and fingerprint, at least `offset` long); otherwise read it from the beginning.
  std::optional<FilePosition> resume_from;
  size_t block_bytes = 256 * 1024;
  size_t max_line_bytes = LineSplitter::kDefaultMaxLineBytes;
  // Upper bound on what one Poll() reads, so a large backlog does not starve the run loop;
  // Poll() then returns with `more` set.
  uint64_t max_bytes_per_poll = 8 * 1024 * 1024;
  bool use_inotify = true;
  // How long a file rotated away is still read after it last grew. Each nginx worker reopens
  // the log on its own after USR1, so a busy one may append to the renamed file after the new
  // one already has lines.
  std::chrono::milliseconds rotated_file_grace{2000};
  // Source of FileFollowerStats::last_rotation; injected so tests (and replay) control time.
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
  // Measures rotated_file_grace; injected so tests need no sleeps.
  std::function<std::chrono::steady_clock::time_point()> steady_now = [] {
    return std::chrono::steady_clock::now();
  };
};

struct FileFollowerStats {
  uint64_t bytes_read = 0;
  uint64_t lines = 0;
  uint64_t rotations = 0;    // switched to a new file at the path (rename or delete+recreate)
  uint64_t truncations = 0;  // same file cut and refilled (copytruncate)
  uint64_t open_errors = 0;  // counted once per condition, not once per retry
  uint64_t read_errors = 0;  // likewise
  uint64_t overlong_lines = 0;
  bool file_open = false;
  bool draining_rotated_file = false;  // still reading the file rotated away (see the grace)
  dev_t dev = 0;                       // identity of the file being read (the one at the path)
  ino_t inode = 0;
  uint64_t offset = 0;                                    // bytes of the current file consumed
  uint64_t file_size = 0;                                 // as last seen
  std::chrono::system_clock::time_point last_rotation{};  // epoch until the first rotation
};

struct FileFollowerPollResult {
  uint64_t bytes_read = 0;
  uint64_t lines = 0;
  uint64_t overlong_lines = 0;  // dropped lines, for the caller's "too_long" count
  bool rotated = false;
  bool truncated = false;
  bool status_changed = false;  // status() changed: log it (once per condition)
  bool more = false;            // stopped at max_bytes_per_poll: poll again without waiting
  bool active() const { return bytes_read > 0 || rotated || truncated || status_changed; }
};

class LineSink;
template <typename F>
concept LineCallable =
    std::invocable<F&, std::string_view> && !std::same_as<std::remove_cvref_t<F>, LineSink>;

// A non-owning reference to a line callback: one indirect call per line, no allocation.
// Poll() only uses it during the call, so referring to a temporary lambda is safe.
class LineSink {
 public:
  template <LineCallable F>
  LineSink(F&& f)  // NOLINT(google-explicit-constructor): stands in for a callable
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, std::string_view line) {
          (*static_cast<std::remove_reference_t<F>*>(object))(line);
        }) {}

  void operator()(std::string_view line) const { call_(object_, line); }

 private:
  void* object_;
  void (*call_)(void*, std::string_view);
};

// Follows one path across log rotation, like `tail -F` done right: rename+create,
// copytruncate and delete+recreate, without losing or double-counting a line; waits for a
// path that does not exist yet; holds a partial last line until it is completed. Run-time
// errors never throw: they are counted, described by status(), and retried on the next Poll().
//
// After a rename or delete, the old file stays open and is read alongside the new one (lines
// in order within each file) until it has not grown for rotated_file_grace, or is deleted or
// truncated: nginx workers that have not reopened yet still append to it. Only then is its
// unterminated last line, if any, handed out. At most one such file is kept: a second
// rotation within the grace finishes the older one first.
//
// Driven from outside: the run loop waits on WaitFd(), then calls DrainWakeups() and Poll().
// It polls anyway every run-loop tick, because inotify misses some cases (a directory that
// does not exist yet, network file systems) and the grace above ends without any event; and
// every kFallbackPollInterval when WaitFd() is -1, so that a line is still counted within
// 50 ms without inotify. Tests call Poll() directly.
//
// Not thread-safe: one owner thread calls everything, stats() included.
class FileFollower {
 public:
  using Options = FileFollowerOptions;
  using Position = FilePosition;
  using Stats = FileFollowerStats;
  using PollResult = FileFollowerPollResult;

  static constexpr std::chrono::milliseconds kFallbackPollInterval{40};
  static constexpr size_t kFingerprintBytes = 64;

  // Opens the file if it is there (so start_at_end means "the end as of now"). Never throws
  // for a missing or unreadable file: see status().
  explicit FileFollower(Options options);
  ~FileFollower();
  FileFollower(const FileFollower&) = delete;
  FileFollower& operator=(const FileFollower&) = delete;

  // One step: reads what is available now (in the rotated-away file first, then in the
  // current one), calling on_line for each complete line, then checks whether the path now
  // names another file and if so switches to it (after reading the old one to its end).
  PollResult Poll(LineSink on_line);

  // An inotify descriptor that becomes readable when the file is written or the path's
  // directory gains or loses entries; -1 when inotify is unavailable (poll every
  // kFallbackPollInterval then).
  int WaitFd() const { return inotify_fd_; }
  // Consumes pending inotify events so WaitFd() stops being readable.
  void DrainWakeups();

  const Stats& stats() const { return stats_; }
  // Where a restart must go on from so that no line is skipped: while a rotated-away file is
  // still being read, that file (a restart then reads its rest, then the new file from its
  // beginning: see ReadRotatedRemainder).
  Position CurrentPosition() const;
  // Lines consumed (delivered or dropped as overlong) that lie after CurrentPosition(): those
  // of the new file while the old one is still read. A restart from the position reads them
  // again, so a saved count of consumed lines must not include them.
  uint64_t LinesAfterPosition() const { return lines_after_position_; }
  // Empty while healthy, otherwise what is wrong (e.g. "cannot open /var/log/x: Permission
  // denied"). A change is flagged once in PollResult::status_changed.
  const std::string& status() const { return status_; }
  const std::string& path() const { return options_.path; }

 private:
  enum class ErrorKind { kOpen, kRead };

  // One open log file and how far it has been read.
  struct OpenFile {
    explicit OpenFile(size_t max_line_bytes) : splitter(max_line_bytes) {}
    int fd = -1;
    dev_t dev = 0;
    ino_t inode = 0;
    uint64_t offset = 0;
    std::string fingerprint;  // its raw first bytes
    LineSplitter splitter;    // its partial last line
    int watch = -1;           // inotify watch on it
  };

  int OpenRegular(struct stat* st, std::string* error) const;
  uint64_t StartOffset(int fd, const struct stat& st);
  uint64_t EndOfLastCompleteLine(int fd, uint64_t size) const;
  bool ResumePositionValid(int fd, const struct stat& st) const;
  void StartFile(int fd, const struct stat& st, uint64_t offset);
  void CloseFile(OpenFile& file);
  void CheckTruncation(PollResult* result);
  uint64_t ReadAvailable(OpenFile& file, LineSink on_line, bool to_eof, PollResult* result);
  void CheckReplacement(LineSink on_line, PollResult* result);
  void ReadRotated(LineSink on_line, PollResult* result);
  void FinishRotated(LineSink on_line, PollResult* result);
  void UpdateFingerprint(OpenFile& file);
  void WatchDirectory();
  void WatchFile(OpenFile& file);
  void NoteError(ErrorKind kind, std::string message);
  void FinishPoll(PollResult* result);

  Options options_;
  std::vector<char> buffer_;  // one block, reused for every read

  OpenFile file_;  // the file at the path, or the last one that was
  // The file rotated away, read until rotated_file_grace after it last grew.
  std::optional<OpenFile> rotated_;
  std::chrono::steady_clock::time_point rotated_last_growth_{};
  uint64_t lines_after_position_ = 0;

  // The file at the path when we started; start_at_end / resume_from apply to it only.
  std::optional<std::pair<dev_t, ino_t>> startup_identity_;
  bool startup_pending_ = true;

  Stats stats_;
  std::string status_;
  bool status_unreported_ = false;  // set by the constructor, reported by the first Poll()
  std::string poll_error_;          // first error of the current Poll()
  ErrorKind poll_error_kind_ = ErrorKind::kOpen;

  int inotify_fd_ = -1;
  int dir_wd_ = -1;
  std::string directory_;
};

}  // namespace poolwatch
