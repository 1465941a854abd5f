#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_record.h"
#include "exporter/file_follower.h"

namespace poolwatch {

// True when `pattern` holds a glob(3) wildcard (*, ? or [): it names files found at run time,
// not one fixed path.
bool IsGlobPattern(std::string_view pattern);
// True when `path` is `pattern` itself or matches it as a glob (fnmatch with FNM_PATHNAME: a
// wildcard never spans a '/').
bool PathMatches(std::string_view pattern, std::string_view path);

struct LogSetOptions {
  // log.path: fixed paths and globs. A fixed path is followed from the start and never dropped
  // (it may not exist yet, as with one file); a glob's files are followed once they appear.
  std::vector<std::string> patterns;
  // What every file's follower starts from; `path`, `start_at_end` and `resume_from` are set per
  // file. start_at_end applies to the files there at start-up only: a file found later is read
  // from its beginning, since all of it was written after poolwatch started.
  FileFollowerOptions follow;
  // Saved positions (state file), by path: a file there at start-up with a saved position goes
  // on from it (see FileFollowerOptions::resume_from).
  std::map<std::string, FilePosition> resume_from;
  // How often the globs are expanded again without an inotify event (directories that do not
  // exist yet, network file systems, no inotify at all).
  std::chrono::milliseconds rescan_interval{1000};
  // A glob's file whose path is gone (deleted, or renamed away and not re-created) is still
  // read until it has not grown for this long, then dropped: nginx may still write to it.
  std::chrono::milliseconds vanish_grace{2000};
  // The values of a file's source labels (LineSource::values; see Pipeline::FileSourceValues),
  // computed once when the file is found. None without.
  std::function<std::vector<std::string>(const std::string& path)> source_of;
  // The index of a file's log format (log.files; see Pipeline::FormatFor), found once too.
  std::function<size_t(const std::string& path)> format_of;
  bool use_inotify = true;
  std::function<std::chrono::steady_clock::time_point()> steady_now = [] {
    return std::chrono::steady_clock::now();
  };
};

// The access logs poolwatch follows: the files that log.path's paths and globs name, each with
// its own FileFollower (rotation, truncation, position), found and dropped while running.
//
// One inotify descriptor watches the patterns' directories for every change (a write to a file
// in them too), so the run loop waits on a single descriptor however many files there are; the
// followers have none of their own. A file rotated into another directory is not watched: the
// run loop's tick still reads it. Run-time errors never throw: a follower describes its own in
// status().
//
// Not thread-safe: one owner thread, as for FileFollower.
class LogSet {
 public:
  struct File {
    std::string path;
    // The file's source values (log.path_label's, then an empty one per syslog label; none
    // without source labels), with an id of its own.
    LineSource source;
    size_t format = 0;  // its log format: 0 log.format, i + 1 log.files[i]'s
    std::unique_ptr<FileFollower> follower;
    bool from_glob = false;
    // Set by the reader after each Poll(): whether the last read found nothing, for dropping.
    bool idle = false;
    // Written to since it was last read (an inotify event named it), or not done with the last
    // read (more to read, a rotated file still read, not open): read it at the next read.
    bool dirty = true;
    bool busy = true;
    std::chrono::steady_clock::time_point missing_since{};  // epoch while the path exists
  };
  // Files found and dropped by the last Refresh(), for the owner's log.
  struct Changes {
    std::vector<std::string> added, removed;
  };

  explicit LogSet(LogSetOptions options);
  ~LogSet();
  LogSet(const LogSet&) = delete;
  LogSet& operator=(const LogSet&) = delete;

  // Expands the globs when an event or the rescan interval asks for it, adds the new files and
  // drops the vanished ones that have been read to their end. Cheap when nothing is due.
  Changes Refresh();
  // The files, in path order; stable between Refresh() calls.
  std::vector<std::unique_ptr<File>>& files() { return files_; }
  const std::vector<std::unique_ptr<File>>& files() const { return files_; }

  // Readable when something changed in a watched directory; -1 without inotify (poll every
  // FileFollower::kFallbackPollInterval then).
  int WaitFd() const { return inotify_fd_; }
  // Consumes pending events; a file created, moved or deleted makes the next Refresh() rescan.
  void DrainWakeups();
  // Whether the next read must read every file, not only the dirty and busy ones: always
  // without inotify, else every kFullReadInterval (events can be missed: a network file
  // system's writes from another host), with one file at every run-loop tick as before. Marks
  // the full read as done when it says so.
  bool FullReadDue();
  static constexpr std::chrono::milliseconds kFullReadInterval{500};
  // Whether `path` is one log.path names (fixed or matched by a glob).
  bool Names(std::string_view path) const;
  // Every file's position for the state file (files not opened yet are left out), and the lines
  // after those positions (see FileFollower::LinesAfterPosition).
  std::map<std::string, FilePosition> Positions() const;
  uint64_t LinesAfterPositions() const;

 private:
  void Add(const std::string& path, bool from_glob, bool at_start);
  void WatchDirectories();
  // The file `name` in the directory watched by `watch`, if followed, is read next time.
  void MarkDirty(int watch, std::string_view name);
  std::vector<std::string> Expand() const;

  LogSetOptions options_;
  std::vector<std::unique_ptr<File>> files_;
  int inotify_fd_ = -1;
  std::map<std::string, int> directory_watches_;  // directory → watch descriptor (-1: missing)
  bool rescan_due_ = true;
  std::chrono::steady_clock::time_point last_full_read_{};
  std::chrono::steady_clock::time_point last_scan_{};
};

}  // namespace poolwatch
