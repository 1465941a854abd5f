#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/alert_engine.h"
#include "alerting/notification.h"
#include "alerting/notify/alertmanager_notifier.h"
#include "exporter/file_follower.h"

namespace poolwatch {

// Everything poolwatch must remember across a restart (also a kill -9) so that it neither
// loses nor double-reports: where it stood in the log, which upstream address belongs to which
// pool, and what the alerting already told people.
//
// The position and the alerting state are captured together, under the same lock, so after a
// crash the lines re-read are exactly those after the position, and the alerting state matches
// what those lines had not yet caused.
struct PersistedState {
  std::string log_path;  // the path followed when saved; another path does not resume
  // Where the next undelivered line starts. Empty: no file was open (whatever is there now is
  // new, so it is read from its beginning).
  std::optional<FilePosition> position;
  uint64_t lines = 0;  // lines consumed up to `position`, counted across restarts
  std::map<std::string, std::string> learned_pools;  // upstream address → pool
  EngineState alerting;
  // The configuration's maintenance setting when saved: when it differs at start-up, the
  // operator changed it (e.g. MAINTENANCE_MODE=false) and the configuration wins over the
  // saved runtime state.
  bool configured_maintenance = false;
  std::optional<TimePoint> configured_maintenance_until;
  // Notifications handed to the dispatcher and not yet finished by it. A crash must not lose
  // them: they are delivered again after the restart (at least once; see state_store.cc).
  std::vector<Notification> outbox;
  // The alerts the Alertmanager notifiers keep re-posting (once per key: every Alertmanager is
  // sent the same alerts), with the startsAt they were posted with. After a restart they are
  // re-posted at once, so Alertmanager does not let a still-firing alert expire and resolve.
  // Optional in the file: state files written before it load with none.
  std::vector<AlertmanagerFiring> alertmanager_firing;
  TimePoint saved_at{};  // set by the writer; not part of the change detection
};

// JSON, version 1. Strings that are not valid UTF-8 (hostile label values) are kept exactly as
// {"hex": "..."} so that a restored alert matches its key byte for byte.
std::string EncodeState(const PersistedState& state);
// False with `error` set when the text is not a state file this version understands.
bool DecodeState(std::string_view text, PersistedState* state, std::string* error);

// Seam for the writes, so tests can make the disk full.
using WriteFunction = std::function<ssize_t(int fd, const void* data, size_t size)>;

// Reads and writes one state file. Writes are atomic: a temporary file next to it is written,
// fsync'ed and renamed over it, and the directory is fsync'ed, so a crash (or power loss)
// leaves either the old or the new file, never a torn one. Not thread-safe.
class StateStore {
 public:
  enum class LoadStatus { kLoaded, kMissing, kCorrupt, kUnreadable };
  struct LoadResult {
    LoadStatus status = LoadStatus::kMissing;
    PersistedState state;
    std::string message;  // what happened, with the path, for the log
  };

  explicit StateStore(std::string path, WriteFunction write = {});

  LoadResult Load() const;
  // False with `error` set (path and reason) when the file could not be replaced.
  bool Save(std::string_view contents, std::string* error);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  WriteFunction write_;
};

struct CheckpointerOptions {
  std::string path;
  // A changed state is written at most this long after the change (the bound is 5 s).
  std::chrono::milliseconds interval{1000};
  prometheus::Registry* registry = nullptr;  // self-metrics; null: none
  std::function<void(std::string_view)> log_info;
  std::function<void(std::string_view)> log_error;
  WriteFunction write;  // empty: write(2)
};

// Decides when to write the state file and counts how that goes:
// poolwatch_state_writes_total, poolwatch_state_write_errors_total (every failed attempt),
// poolwatch_state_last_write_successful, poolwatch_state_last_write_timestamp_seconds.
// A failure is logged once per condition (same message: not again) and retried at the next
// interval; the recovery is logged too. Never throws. Not thread-safe: the owner serialises.
class Checkpointer {
 public:
  explicit Checkpointer(CheckpointerOptions options);

  // Reads the state file at start-up and logs what it found. Missing or corrupt: nullopt (a
  // corrupt file is renamed to <path>.corrupt for inspection and poolwatch starts fresh).
  std::optional<PersistedState> Restore();

  // Whether `interval` has passed since the last check: only then is it worth capturing the
  // state for Maybe() (capturing copies the pool map and the alerting state).
  bool Due(std::chrono::steady_clock::time_point now) const {
    return !last_attempt_ || now - *last_attempt_ >= options_.interval;
  }
  // Writes `state` when Due() (or at once when `urgent`) and it differs from what the file
  // holds. Returns whether the file now holds `state`.
  bool Maybe(const PersistedState& state, std::chrono::steady_clock::time_point now,
             bool urgent = false);
  // Writes now if changed (shutdown, and before a notification is handed to the dispatcher).
  bool Flush(const PersistedState& state) {
    return Maybe(state, std::chrono::steady_clock::now(), true);
  }

  const std::string& path() const { return store_.path(); }
  uint64_t writes() const { return writes_; }
  uint64_t errors() const { return errors_; }

 private:
  CheckpointerOptions options_;
  StateStore store_;
  std::string last_written_;  // encoded state without saved_at
  std::optional<std::chrono::steady_clock::time_point> last_attempt_;
  std::string failing_;  // the current failure's message; "" while healthy
  uint64_t writes_ = 0;
  uint64_t errors_ = 0;
  prometheus::Counter* writes_metric_ = nullptr;
  prometheus::Counter* errors_metric_ = nullptr;
  prometheus::Gauge* ok_metric_ = nullptr;
  prometheus::Gauge* time_metric_ = nullptr;
};

// The part of a rotated-away file that poolwatch had not read when it stopped.
struct RotatedRemainder {
  bool needed = false;  // the saved file is no longer at the log path
  bool found = false;   // …and it was found under another name in the same directory
  std::string file;     // where it was found
  uint64_t from_offset = 0;
  uint64_t bytes = 0;
  uint64_t lines = 0;
  uint64_t overlong_lines = 0;
  std::string message;  // for the log: what was read, or what is lost and why
};

// When the log was rotated while poolwatch was down, the file it was reading has been renamed
// (logrotate: access.log → access.log.1, or further) and nginx writes to a new access.log.
// This finds the old file in the log's directory by its identity (device, inode, and the
// fingerprint of its first bytes), and delivers every line after the saved offset, the last
// unterminated one included. The follower then reads the new file from its beginning.
//
// Limits: a rotated file that was compressed, deleted or moved to another directory is not
// found (its unread lines are lost, and the message says so); with two rotations while down,
// the file in between is not read either. A copytruncate while down is seen by the follower as
// a different fingerprint: the file is read from its start.
RotatedRemainder ReadRotatedRemainder(const std::string& log_path, const FilePosition& saved,
                                      LineSink on_line);

}  // namespace poolwatch
