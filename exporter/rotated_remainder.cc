#include "exporter/rotated_remainder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

#include "exporter/hex.h"
#include "exporter/line_splitter.h"

namespace poolwatch {

RotatedRemainder ReadRotatedRemainder(const std::string& log_path, const FilePosition& saved,
                                      LineSink on_line) {
  RotatedRemainder out;
  out.from_offset = saved.offset;
  if (saved.dev == 0 && saved.inode == 0) return out;
  struct stat st {};
  if (::stat(log_path.c_str(), &st) == 0 && st.st_dev == saved.dev && st.st_ino == saved.inode) {
    return out;  // still at the path: the follower resumes in it
  }
  out.needed = true;
  std::string expected;
  if (!HexDecode(saved.fingerprint, &expected)) expected.clear();

  const std::filesystem::path path(log_path);
  std::string dir = path.parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    struct stat est {};
    if (::stat(entry.path().c_str(), &est) != 0 || !S_ISREG(est.st_mode)) continue;
    if (est.st_dev != saved.dev || est.st_ino != saved.inode) continue;
    const int candidate = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (candidate < 0) continue;
    // The inode number alone may have been reused by an unrelated file after a deletion.
    std::string head(expected.size(), '\0');
    const ssize_t n = ::pread(candidate, head.data(), head.size(), 0);
    if (n != static_cast<ssize_t>(head.size()) || head != expected ||
        static_cast<uint64_t>(est.st_size) < saved.offset) {
      ::close(candidate);
      continue;
    }
    fd = candidate;
    out.file = entry.path().string();
    break;
  }
  if (fd < 0) {
    out.message = "the file poolwatch was reading when it stopped (inode " +
                  std::to_string(saved.inode) + ") is no longer in " + dir +
                  " (deleted, compressed or moved): lines written to it after offset " +
                  std::to_string(saved.offset) + " are lost";
    return out;
  }
  out.found = true;
  LineSplitter splitter;
  auto deliver = [&](std::string_view line) {
    ++out.lines;
    on_line(line);
  };
  std::vector<char> block(256 * 1024);
  uint64_t offset = saved.offset;
  for (;;) {
    const ssize_t n = ::pread(fd, block.data(), block.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    offset += static_cast<uint64_t>(n);
    out.bytes += static_cast<uint64_t>(n);
    splitter.Feed(std::string_view(block.data(), static_cast<size_t>(n)), deliver);
  }
  // The writer has moved on to the new file: an unterminated last line will not be completed.
  splitter.Flush(deliver);
  out.overlong_lines = splitter.overlong_lines();
  ::close(fd);
  out.message = "the log was rotated while poolwatch was down: read the rest of " + out.file +
                " from offset " + std::to_string(saved.offset) + " (" + std::to_string(out.lines) +
                " lines), then the new " + log_path + " from its beginning";
  return out;
}

}  // namespace poolwatch
