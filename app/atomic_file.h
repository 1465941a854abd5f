#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace poolwatch {

// Seam for the writes, so tests can make the disk full.
using WriteFunction = std::function<ssize_t(int fd, const void* data, size_t size)>;

// Replaces the file at `path` with `contents` so that a crash (or power loss) leaves either the
// old or the new file, never a torn one: a temporary file next to it is written, fsync'ed and
// renamed over it, and the directory is fsync'ed. False with `error` set (path and reason)
// when the file could not be replaced; the old one is then untouched.
bool ReplaceFileAtomically(const std::string& path, std::string_view contents,
                           const WriteFunction& write, std::string* error);

}  // namespace poolwatch
