#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "app/atomic_file.h"
#include "app/state_codec.h"

namespace poolwatch {

// Reads and writes one state file; writes through ReplaceFileAtomically. Not thread-safe.
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

}  // namespace poolwatch
