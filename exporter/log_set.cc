#include "exporter/log_set.h"

#include <fnmatch.h>
#include <glob.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "exporter/inotify_events.h"

namespace poolwatch {
namespace {

// What wakes the run loop: a write to a log and every change of a directory's entries.
constexpr uint32_t kDirectoryEvents = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
                                      IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
// The events after which the globs may name other files.
constexpr uint32_t kRescanEvents =
    IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_IGNORED | IN_Q_OVERFLOW;

std::string DirectoryOf(const std::string& pattern) {
  const size_t slash = pattern.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return pattern.substr(0, slash);
}

}  // namespace

bool IsGlobPattern(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

bool PathMatches(std::string_view pattern, std::string_view path) {
  if (pattern == path) return true;
  if (!IsGlobPattern(pattern)) return false;
  return ::fnmatch(std::string(pattern).c_str(), std::string(path).c_str(), FNM_PATHNAME) == 0;
}

LogSet::LogSet(LogSetOptions options) : options_(std::move(options)) {
  if (options_.use_inotify) inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  WatchDirectories();
  for (const std::string& pattern : options_.patterns) {
    if (!IsGlobPattern(pattern)) Add(pattern, /*from_glob=*/false, /*at_start=*/true);
  }
  for (const std::string& path : Expand()) Add(path, /*from_glob=*/true, /*at_start=*/true);
  last_scan_ = options_.steady_now();
  rescan_due_ = false;
}

LogSet::~LogSet() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void LogSet::WatchDirectories() {
  if (inotify_fd_ < 0) return;
  for (const std::string& pattern : options_.patterns) {
    const std::string directory = DirectoryOf(pattern);
    // A wildcard in a directory name: new directories are found by the periodic rescan only.
    if (IsGlobPattern(directory)) continue;
    auto [it, inserted] = directory_watches_.try_emplace(directory, -1);
    if (it->second >= 0) continue;
    it->second = ::inotify_add_watch(inotify_fd_, directory.c_str(), kDirectoryEvents);
  }
}

std::vector<std::string> LogSet::Expand() const {
  std::set<std::string> found;
  for (const std::string& pattern : options_.patterns) {
    if (!IsGlobPattern(pattern)) continue;
    glob_t matches{};
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches) == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        struct stat st {};
        // Directories and sockets are not logs; a path that vanished since is found next time.
        if (::stat(matches.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
          found.insert(matches.gl_pathv[i]);
        }
      }
    }
    ::globfree(&matches);
  }
  return {found.begin(), found.end()};
}

void LogSet::Add(const std::string& path, bool from_glob, bool at_start) {
  for (const auto& file : files_) {
    if (file->path == path) return;
  }
  auto file = std::make_unique<File>();
  file->path = path;
  file->from_glob = from_glob;
  file->source =
      NewLineSource(options_.source_of ? options_.source_of(path) : std::vector<std::string>());
  if (options_.format_of) file->format = options_.format_of(path);
  FileFollowerOptions follow = options_.follow;
  follow.path = path;
  // The set's descriptor wakes the loop for every file: one per follower would take one of the
  // user's inotify instances (128 by default) per log.
  follow.use_inotify = false;
  follow.start_at_end = at_start && options_.follow.start_at_end;
  follow.resume_from.reset();
  if (at_start) {
    if (auto it = options_.resume_from.find(path); it != options_.resume_from.end()) {
      follow.resume_from = it->second;
    }
  }
  file->follower = std::make_unique<FileFollower>(std::move(follow));
  auto at = std::lower_bound(files_.begin(), files_.end(), path,
                             [](const auto& f, const std::string& p) { return f->path < p; });
  files_.insert(at, std::move(file));
}

LogSet::Changes LogSet::Refresh() {
  Changes changes;
  const auto now = options_.steady_now();
  if (!rescan_due_ && now - last_scan_ < options_.rescan_interval) return changes;
  rescan_due_ = false;
  last_scan_ = now;
  WatchDirectories();  // a directory may exist by now, or have been re-created
  const std::vector<std::string> found = Expand();
  for (const std::string& path : found) {
    const bool known = std::any_of(files_.begin(), files_.end(),
                                   [&](const auto& file) { return file->path == path; });
    if (known) continue;
    Add(path, /*from_glob=*/true, /*at_start=*/false);
    changes.added.push_back(path);
  }
  // A glob's file no longer there: read on until it is idle for the grace, then dropped.
  std::erase_if(files_, [&](const std::unique_ptr<File>& file) {
    if (!file->from_glob) return false;
    if (std::binary_search(found.begin(), found.end(), file->path)) {
      file->missing_since = {};
      return false;
    }
    if (file->missing_since == std::chrono::steady_clock::time_point{}) {
      file->missing_since = now;
      return false;
    }
    const FileFollower::Stats& stats = file->follower->stats();
    if (now - file->missing_since < options_.vanish_grace || !file->idle ||
        stats.draining_rotated_file) {
      return false;  // looked at again at the next rescan
    }
    changes.removed.push_back(file->path);
    return true;
  });
  return changes;
}

void LogSet::DrainWakeups() {
  DrainInotifyEvents(inotify_fd_, [this](const struct inotify_event& event) {
    if ((event.mask & kRescanEvents) != 0) rescan_due_ = true;
    if ((event.mask & IN_Q_OVERFLOW) != 0) last_full_read_ = {};  // events were lost
    if (event.len > 0) MarkDirty(event.wd, event.name);
    if ((event.mask & IN_IGNORED) != 0) {
      // The directory went away: watch it again once it is back.
      for (auto& [directory, watch] : directory_watches_) {
        if (watch == event.wd) watch = -1;
      }
    }
  });
}

void LogSet::MarkDirty(int watch, std::string_view name) {
  for (const auto& [directory, wd] : directory_watches_) {
    if (wd != watch) continue;
    for (const auto& file : files_) {
      const std::string& path = file->path;
      // path == directory + "/" + name, without building the string.
      const bool here = directory == "." && path == name;  // a relative path without a '/'
      if (here ||
          (path.size() == directory.size() + 1 + name.size() && path.starts_with(directory) &&
           path[directory.size()] == '/' && path.ends_with(name))) {
        file->dirty = true;
      }
    }
  }
}

bool LogSet::FullReadDue() {
  const auto now = options_.steady_now();
  // Each read of a quiet file costs a few system calls: with many files, a full read at every
  // tick would cost more than the lines (bench/README.md, "Many logs").
  const auto interval = files_.size() > 1 ? kFullReadInterval : std::chrono::milliseconds(0);
  if (inotify_fd_ >= 0 && now - last_full_read_ < interval) return false;
  last_full_read_ = now;
  return true;
}

bool LogSet::Names(std::string_view path) const {
  return std::any_of(options_.patterns.begin(), options_.patterns.end(),
                     [&](const std::string& pattern) { return PathMatches(pattern, path); });
}

std::map<std::string, FilePosition> LogSet::Positions() const {
  std::map<std::string, FilePosition> positions;
  for (const auto& file : files_) {
    FilePosition position = file->follower->CurrentPosition();
    if (position.dev != 0 || position.inode != 0) positions[file->path] = std::move(position);
  }
  return positions;
}

uint64_t LogSet::LinesAfterPositions() const {
  uint64_t lines = 0;
  for (const auto& file : files_) lines += file->follower->LinesAfterPosition();
  return lines;
}

}  // namespace poolwatch
