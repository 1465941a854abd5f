#include "app/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace poolwatch {
namespace {

std::string ErrnoText(int error) { return std::generic_category().message(error); }

bool WriteAll(const WriteFunction& write, int fd, std::string_view data, int* error) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = errno;
      return false;
    }
    if (n == 0) {
      *error = ENOSPC;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool ReplaceFileAtomically(const std::string& path, std::string_view contents,
                           const WriteFunction& write, std::string* error) {
  // The temporary file lives next to the target: rename() is atomic only within a file system.
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot create " + temp + ": " + ErrnoText(errno);
    return false;
  }
  int e = 0;
  if (!WriteAll(write, fd, contents, &e)) {
    ::close(fd);
    ::unlink(temp.c_str());
    *error = "cannot write " + temp + ": " + ErrnoText(e);
    return false;
  }
  // Data on disk before the rename makes it visible; otherwise a power loss could leave an
  // empty file under the final name.
  if (::fsync(fd) != 0) {
    e = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    *error = "cannot fsync " + temp + ": " + ErrnoText(e);
    return false;
  }
  if (::close(fd) != 0) {
    e = errno;
    ::unlink(temp.c_str());
    *error = "cannot close " + temp + ": " + ErrnoText(e);
    return false;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    e = errno;
    ::unlink(temp.c_str());
    *error = "cannot rename " + temp + " to " + path + ": " + ErrnoText(e);
    return false;
  }
  // The rename itself is durable once the directory is synced. A failure here does not undo
  // the rename: the new state is visible, only its durability across power loss is in doubt.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = std::filesystem::path(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

}  // namespace poolwatch
