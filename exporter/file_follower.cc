#include "exporter/file_follower.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "exporter/hex.h"
#include "exporter/inotify_events.h"

namespace poolwatch {
namespace {

std::string ErrnoMessage(int error) { return std::generic_category().message(error); }

// pread until `size` bytes or end of file; returns the bytes read, -1 on error.
ssize_t PreadFull(int fd, char* data, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

FileFollower::FileFollower(Options options)
    : options_(std::move(options)),
      buffer_(std::max<size_t>(options_.block_bytes, 1)),
      file_(options_.max_line_bytes) {
  std::string parent = std::filesystem::path(options_.path).parent_path().string();
  directory_ = parent.empty() ? std::string(".") : std::move(parent);
  if (options_.use_inotify) {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ >= 0) WatchDirectory();
  }

  struct stat st {};
  if (::stat(options_.path.c_str(), &st) == 0) startup_identity_.emplace(st.st_dev, st.st_ino);
  std::string error;
  const int fd = OpenRegular(&st, &error);
  if (fd >= 0) {
    StartFile(fd, st, StartOffset(fd, st));
  } else {
    // Not fatal: the file may appear later. The first Poll() reports it.
    status_ = std::move(error);
    status_unreported_ = true;
    ++stats_.open_errors;
  }
  stats_.file_open = file_.fd >= 0;
  stats_.dev = file_.dev;
  stats_.inode = file_.inode;
  stats_.offset = file_.offset;
}

FileFollower::~FileFollower() {
  if (rotated_) CloseFile(*rotated_);
  CloseFile(file_);
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

int FileFollower::OpenRegular(struct stat* st, std::string* error) const {
  // O_NONBLOCK: opening a FIFO put at the path must not hang the run loop; it is then
  // rejected below like any other non-regular file.
  const int fd = ::open(options_.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int e = errno;
    *error = (e == ENOENT ? "waiting for " + options_.path + " to appear: "
                          : "cannot open " + options_.path + ": ") +
             ErrnoMessage(e);
    return -1;
  }
  if (::fstat(fd, st) != 0) {
    *error = "cannot stat " + options_.path + ": " + ErrnoMessage(errno);
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st->st_mode)) {
    *error = "cannot follow " + options_.path + ": not a regular file";
    ::close(fd);
    return -1;
  }
  return fd;
}

uint64_t FileFollower::StartOffset(int fd, const struct stat& st) {
  const bool is_startup_file = startup_pending_ && startup_identity_ &&
                               *startup_identity_ == std::pair<dev_t, ino_t>(st.st_dev, st.st_ino);
  startup_pending_ = false;
  if (!is_startup_file) return 0;  // appeared or was replaced since: all of it is new
  if (options_.resume_from) return ResumePositionValid(fd, st) ? options_.resume_from->offset : 0;
  if (options_.start_at_end) return EndOfLastCompleteLine(fd, static_cast<uint64_t>(st.st_size));
  return 0;
}

uint64_t FileFollower::EndOfLastCompleteLine(int fd, uint64_t size) const {
  // Starting exactly at the end could cut a line that is being written in half and later
  // deliver its second half as a line of its own. Start after the last newline instead, so
  // that line is delivered whole once completed. A window of max+2 bytes (line, '\r', '\n')
  // is enough: if it holds no newline, the line there is overlong anyway and the splitter
  // drops it as such.
  const uint64_t window = std::min<uint64_t>(size, file_.splitter.max_line_bytes() + 2);
  if (window == 0) return 0;
  std::string tail(window, '\0');
  const ssize_t n = PreadFull(fd, tail.data(), tail.size(), size - window);
  if (n != static_cast<ssize_t>(window)) return size;  // raced with a truncation: keep it simple
  const size_t newline = tail.rfind('\n');
  if (newline == std::string::npos) return size - window;
  return size - window + newline + 1;
}

bool FileFollower::ResumePositionValid(int fd, const struct stat& st) const {
  const Position& saved = *options_.resume_from;
  if (saved.dev != st.st_dev || saved.inode != st.st_ino) return false;
  if (saved.offset > static_cast<uint64_t>(st.st_size)) return false;  // truncated since
  // Inode numbers are reused once a file is deleted, so identity alone could match an
  // unrelated newer file; its first bytes (which hold a timestamp in any access log) will not.
  std::string expected;
  if (!HexDecode(saved.fingerprint, &expected) || expected.size() > kFingerprintBytes) return false;
  std::string actual(expected.size(), '\0');
  if (PreadFull(fd, actual.data(), actual.size(), 0) != static_cast<ssize_t>(actual.size())) {
    return false;
  }
  return actual == expected;
}

void FileFollower::StartFile(int fd, const struct stat& st, uint64_t offset) {
  file_.fd = fd;
  file_.dev = st.st_dev;
  file_.inode = st.st_ino;
  file_.offset = offset;
  stats_.file_size = static_cast<uint64_t>(st.st_size);
  file_.splitter.Reset();
  file_.fingerprint.clear();
  UpdateFingerprint(file_);
  WatchFile(file_);
}

void FileFollower::CloseFile(OpenFile& file) {
  if (file.watch >= 0) ::inotify_rm_watch(inotify_fd_, file.watch);
  file.watch = -1;
  if (file.fd >= 0) ::close(file.fd);
  file.fd = -1;
}

FileFollower::PollResult FileFollower::Poll(LineSink on_line) {
  PollResult result;
  poll_error_.clear();
  if (inotify_fd_ >= 0 && dir_wd_ < 0) WatchDirectory();  // the directory may exist by now

  if (rotated_) ReadRotated(on_line, &result);
  if (file_.fd < 0) {
    struct stat st {};
    std::string error;
    const int fd = OpenRegular(&st, &error);
    if (fd >= 0) {
      StartFile(fd, st, StartOffset(fd, st));
    } else {
      NoteError(ErrorKind::kOpen, std::move(error));
    }
  }
  if (file_.fd >= 0 && !result.more) {
    CheckTruncation(&result);
    const uint64_t consumed = ReadAvailable(file_, on_line, /*to_eof=*/false, &result);
    if (rotated_) lines_after_position_ += consumed;
    // Only once the current file is read to its end: rotation switches files for good.
    if (!result.more) CheckReplacement(on_line, &result);
  }

  FinishPoll(&result);
  return result;
}

void FileFollower::CheckTruncation(PollResult* result) {
  struct stat st {};
  if (::fstat(file_.fd, &st) != 0) {
    NoteError(ErrorKind::kRead, "cannot stat " + options_.path + ": " + ErrnoMessage(errno));
    return;
  }
  stats_.file_size = static_cast<uint64_t>(st.st_size);
  // Same file, but shorter than what we already read: copytruncate copied it away and cut it
  // to zero, and the writer (O_APPEND) goes on from the new end. Everything in it now is new,
  // and a partial line we held belongs to the old content.
  bool truncated = static_cast<uint64_t>(st.st_size) < file_.offset;
  // Size alone misses a file that was truncated and refilled past our offset between two
  // polls (likely right after a rotation, when the offset is small). Its first bytes then
  // differ from those we saw: an access log starts with a client address and a timestamp.
  // One small pread per poll, from the page cache.
  if (!truncated && !file_.fingerprint.empty()) {
    char head[kFingerprintBytes];
    const ssize_t n = PreadFull(file_.fd, head, file_.fingerprint.size(), 0);
    truncated = n >= 0 && std::string_view(head, static_cast<size_t>(n)) != file_.fingerprint;
  }
  if (!truncated) return;
  file_.offset = 0;
  file_.splitter.Reset();
  file_.fingerprint.clear();
  // What was read of this file before the cut lives on only in the copy: a restart will not
  // read it again.
  lines_after_position_ = 0;
  ++stats_.truncations;
  result->truncated = true;
}

uint64_t FileFollower::ReadAvailable(OpenFile& file, LineSink on_line, bool to_eof,
                                     PollResult* result) {
  uint64_t consumed = 0;
  auto deliver = [&](std::string_view line) {
    ++consumed;
    ++result->lines;
    on_line(line);
  };
  auto overlong = [&] {
    ++consumed;
    ++result->overlong_lines;
  };
  for (;;) {
    if (!to_eof && result->bytes_read >= options_.max_bytes_per_poll) {
      result->more = true;
      return consumed;
    }
    // pread at our own offset: the offset stays the single source of truth (truncation,
    // resume) and no lseek is needed.
    const ssize_t n =
        ::pread(file.fd, buffer_.data(), buffer_.size(), static_cast<off_t>(file.offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      NoteError(ErrorKind::kRead, "cannot read " + options_.path + ": " + ErrnoMessage(errno));
      return consumed;
    }
    if (n == 0) {
      if (&file == &file_) stats_.file_size = std::max(stats_.file_size, file.offset);
      return consumed;
    }
    const auto bytes = static_cast<uint64_t>(n);
    file.offset += bytes;
    result->bytes_read += bytes;
    stats_.bytes_read += bytes;
    file.splitter.Feed(std::string_view(buffer_.data(), static_cast<size_t>(n)), deliver, overlong);
    if (file.fingerprint.size() < kFingerprintBytes) UpdateFingerprint(file);
    // At the size this Poll()'s fstat saw: what was appended since is read by the next Poll()
    // (the write's event wakes it), so the pread that would return 0 is saved. With many
    // files, each read of one is a handful of system calls and this is one of them.
    if (&file == &file_ && !to_eof && static_cast<size_t>(n) < buffer_.size() &&
        file.offset >= stats_.file_size && stats_.file_size > 0) {
      return consumed;
    }
  }
}

void FileFollower::CheckReplacement(LineSink on_line, PollResult* result) {
  struct stat st {};
  if (::stat(options_.path.c_str(), &st) != 0) {
    // ENOENT: renamed or deleted and not recreated yet. Keep reading the old file, which we
    // still hold open: the writer appends to it until it reopens the path.
    if (errno != ENOENT) {
      NoteError(ErrorKind::kOpen, "cannot stat " + options_.path + ": " + ErrnoMessage(errno));
    }
    return;
  }
  // Identity is device + inode of the open descriptor. Comparing it with the path tells a
  // replaced file (rename+create, delete+recreate) from a grown or truncated one, whatever
  // the sizes. It is reliable because we keep the old file open: its inode number cannot be
  // handed to the new file while it is still in use.
  if (st.st_dev == file_.dev && st.st_ino == file_.inode) return;
  // The rotated file renamed back into place: it is being read already, from where we are.
  if (rotated_ && st.st_dev == rotated_->dev && st.st_ino == rotated_->inode) return;
  // A new, still empty file: the writer has not reopened yet (logrotate runs its postrotate
  // reopen after creating the file) and may still append to the old one. Stay on the old file
  // until the new one has data: the grace for late writers starts then.
  if (st.st_size == 0) return;

  struct stat new_st {};
  std::string error;
  const int fd = OpenRegular(&new_st, &error);
  if (fd < 0) {
    NoteError(ErrorKind::kOpen, std::move(error));  // keep the old file; retry next Poll()
    return;
  }
  if ((new_st.st_dev == file_.dev && new_st.st_ino == file_.inode) ||
      (rotated_ && new_st.st_dev == rotated_->dev && new_st.st_ino == rotated_->inode)) {
    ::close(fd);  // renamed back in the meantime
    return;
  }

  // One rotated file at a time: a second rotation within the grace ends the older one.
  if (rotated_) FinishRotated(on_line, result);
  // Read what was appended since, ignoring the per-poll budget (it is small), so the old file's
  // lines written before the new file's come first as far as can be told.
  ReadAvailable(file_, on_line, /*to_eof=*/true, result);
  rotated_.emplace(std::move(file_));
  rotated_last_growth_ = options_.steady_now();
  file_ = OpenFile(options_.max_line_bytes);
  StartFile(fd, new_st, 0);
  ++stats_.rotations;
  stats_.last_rotation = options_.now();
  result->rotated = true;
  lines_after_position_ = ReadAvailable(file_, on_line, /*to_eof=*/false, result);
}

void FileFollower::ReadRotated(LineSink on_line, PollResult* result) {
  OpenFile& old = *rotated_;
  struct stat st {};
  if (::fstat(old.fd, &st) != 0) {
    FinishRotated(on_line, result);
    return;
  }
  // Cut to zero (a copytruncate run on the renamed file): what it holds now is not the rest of
  // what we read. Anything else is read, a deleted file too: nginx may have written to it
  // before it was removed.
  const bool truncated = static_cast<uint64_t>(st.st_size) < old.offset;
  if (!truncated) {
    const uint64_t bytes_before = result->bytes_read;
    ReadAvailable(old, on_line, /*to_eof=*/false, result);
    if (result->bytes_read > bytes_before) rotated_last_growth_ = options_.steady_now();
    if (result->more) return;  // not at its end yet: not idle
  }
  const bool idle = options_.steady_now() - rotated_last_growth_ >= options_.rotated_file_grace;
  if (truncated || st.st_nlink == 0 || idle) FinishRotated(on_line, result);
}

void FileFollower::FinishRotated(LineSink on_line, PollResult* result) {
  OpenFile& old = *rotated_;
  // Whatever came in since the last read (nothing, unless the file is ended early by another
  // rotation), then the unterminated last line: nobody will complete it now. Hand it out
  // rather than lose it; the parser counts it as malformed if it is cut.
  struct stat st {};
  if (::fstat(old.fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= old.offset) {
    ReadAvailable(old, on_line, /*to_eof=*/true, result);
  }
  old.splitter.Flush(
      [&](std::string_view line) {
        ++result->lines;
        on_line(line);
      },
      [&] { ++result->overlong_lines; });
  CloseFile(old);
  rotated_.reset();
  lines_after_position_ = 0;  // the position is in the current file again
}

void FileFollower::UpdateFingerprint(OpenFile& file) {
  char head[kFingerprintBytes];
  const ssize_t n = PreadFull(file.fd, head, sizeof(head), 0);
  if (n >= 0) file.fingerprint.assign(head, static_cast<size_t>(n));
}

FileFollower::Position FileFollower::CurrentPosition() const {
  const OpenFile& file = rotated_ ? *rotated_ : file_;
  Position position;
  if (file.fd < 0) return position;  // matches no file: a resume reads from the beginning
  position.dev = file.dev;
  position.inode = file.inode;
  // The start of the first line not yet delivered, so a partial line is read again whole.
  position.offset =
      file.offset - std::min<uint64_t>(file.offset, file.splitter.bytes_since_newline());
  position.fingerprint = HexEncode(file.fingerprint);
  return position;
}

void FileFollower::WatchDirectory() {
  // Entries appearing (create, rename into place) or going away, and chmod/chown of the file
  // (IN_ATTRIB reports it for entries too) so a fixed permission is picked up promptly.
  dir_wd_ = ::inotify_add_watch(inotify_fd_, directory_.c_str(),
                                IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_ATTRIB | IN_ONLYDIR);
}

void FileFollower::WatchFile(OpenFile& file) {
  if (inotify_fd_ < 0) return;
  if (file.watch >= 0) ::inotify_rm_watch(inotify_fd_, file.watch);
  // Watch the inode we hold, not whatever the path names by now: /proc/self/fd/N resolves to
  // the open file even after it was renamed or deleted.
  const std::string self = "/proc/self/fd/" + std::to_string(file.fd);
  file.watch = ::inotify_add_watch(inotify_fd_, self.c_str(), IN_MODIFY);
  if (file.watch < 0)
    file.watch = ::inotify_add_watch(inotify_fd_, options_.path.c_str(), IN_MODIFY);
}

void FileFollower::DrainWakeups() {
  // The events only wake us up; Poll() re-checks everything itself. But a watch the kernel
  // dropped (its directory was removed) must be re-added.
  DrainInotifyEvents(inotify_fd_, [this](const struct inotify_event& event) {
    if ((event.mask & IN_IGNORED) == 0) return;
    if (event.wd == dir_wd_) dir_wd_ = -1;
    if (event.wd == file_.watch) file_.watch = -1;
    if (rotated_ && event.wd == rotated_->watch) rotated_->watch = -1;
  });
}

void FileFollower::NoteError(ErrorKind kind, std::string message) {
  if (!poll_error_.empty()) return;  // the first error of a poll is the one that matters
  poll_error_ = std::move(message);
  poll_error_kind_ = kind;
}

void FileFollower::FinishPoll(PollResult* result) {
  stats_.lines += result->lines;
  stats_.overlong_lines += result->overlong_lines;
  stats_.file_open = file_.fd >= 0;
  stats_.draining_rotated_file = rotated_.has_value();
  stats_.dev = file_.dev;
  stats_.inode = file_.inode;
  stats_.offset = file_.offset;

  // A poll cut short by the budget did not run every check, so it may report a new error
  // but not a recovery. A condition is counted and reported when it starts, not per retry.
  if (!poll_error_.empty() || !result->more) {
    if (poll_error_ != status_) {
      status_ = poll_error_;
      result->status_changed = true;
      if (!status_.empty()) {
        ++(poll_error_kind_ == ErrorKind::kOpen ? stats_.open_errors : stats_.read_errors);
      }
    }
  }
  if (status_unreported_) {
    result->status_changed = true;
    status_unreported_ = false;
  }
}

}  // namespace poolwatch
