#pragma once

#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "alerting/notification.h"
#include "alerting/notify/alertmanager_notifier.h"
#include "app/pipeline.h"
#include "app/state_store.h"
#include "config/config.h"
#include "exporter/file_follower.h"

namespace poolwatch {

// The daemon's side of the state file: what to capture, when, and how to resume from it.
//
// Guarantees (with state.path set):
// - Lines: the saved position and the saved alerting state are captured together, so after a
//   crash poolwatch re-reads exactly the lines after the last checkpoint (at most
//   state.checkpoint_interval of traffic) and none is skipped: at least once.
// - Alerts: the state is saved before a notification is handed to the dispatcher, with the
//   notification in an outbox that is emptied once the dispatcher has finished with it. A
//   restart therefore neither re-sends an alert the engine already decided (it is "announced"
//   in the saved state) nor loses one that was still queued (the outbox is queued again).
//   The one window left for a duplicate is between Slack accepting a message and the next
//   save (one run-loop tick, ~100 ms); a crash there re-sends that message once.
// - Alertmanager: the alerts the Alertmanager notifiers keep re-posting are saved too, and
//   handed back to them at start-up (those the restored engine still has as announced), so a
//   still-firing alert is re-posted at once with its original startsAt instead of expiring in
//   Alertmanager as a false resolution. A change is saved at the next checkpoint.
//
// Disabled (every call does nothing) without state.path. Not thread-safe: the daemon calls it
// under its engine lock.
class StateKeeper {
 public:
  StateKeeper(const Config& config, Pipeline& pipeline, prometheus::Registry* registry);

  bool enabled() const { return checkpointer_ != nullptr; }

  // The Alertmanager notifiers whose firing alerts are saved and restored; before Restore().
  // They must outlive the keeper's last call (the dispatcher that owns them does, in the
  // daemon).
  void AttachAlertmanagers(std::vector<AlertmanagerNotifier*> alertmanagers) {
    alertmanagers_ = std::move(alertmanagers);
  }

  // At start-up, before following the log: restores learned pools and the alerting state into
  // the pipeline, reads the rest of a file rotated away while poolwatch was down through it,
  // and sets follow->resume_from. Returns the notifications to hand to the dispatcher again.
  std::vector<Notification> Restore(FileFollowerOptions* follow);
  // The follower whose position is saved; set once it exists.
  void Attach(const FileFollower* follower) { follower_ = follower; }

  // Lines the follower consumed (delivered or dropped as overlong) since the last call.
  void CountLines(uint64_t lines) { lines_ += lines; }
  // Call with the notifications of an evaluation before enqueuing them: saves at once.
  void BeforeEnqueue(const std::vector<Notification>& notifications);
  // Every run-loop iteration: empties the outbox once the dispatcher has nothing left and
  // saves when a change is due.
  void Tick(size_t dispatcher_queue_length);
  // At shutdown, after the dispatcher has drained: the final save. The `abandoned` newest
  // notifications (undelivered when the drain timed out) stay in the outbox for the next start.
  void Shutdown(size_t abandoned);

  uint64_t lines() const { return lines_; }

 private:
  PersistedState Capture() const;
  void RestoreAlertmanagers(const std::vector<AlertmanagerFiring>& saved);

  const Config& config_;
  Pipeline& pipeline_;
  std::unique_ptr<Checkpointer> checkpointer_;
  const FileFollower* follower_ = nullptr;
  uint64_t lines_ = 0;
  std::vector<Notification> outbox_;
  std::vector<AlertmanagerNotifier*> alertmanagers_;
};

}  // namespace poolwatch
