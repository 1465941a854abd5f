#pragma once

#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "alerting/notification.h"
#include "alerting/notify/alertmanager_notifier.h"
#include "alerting/notify/slack_incident.h"
#include "app/checkpointer.h"
#include "app/pipeline.h"
#include "config/config.h"
#include "exporter/file_follower.h"
#include "exporter/log_set.h"

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
// - Slack app: the open incidents' top messages (channel, ts) are saved too. A top message is
//   posted while its firing is in the outbox, and the outbox is saved again as soon as the
//   dispatcher has finished it, with the new ts: a later event (a reply, the resolution)
//   after a restart finds the message it updates. A crash in between re-posts the firing.
//
// Each part comes from its component as a value (the resolver's learned addresses, the
// engine's state, the dispatcher's outbox, each Alertmanager notifier's firing alerts) and is
// handed back to it at start-up: the keeper only combines them and decides when to save.
//
// Disabled (every call does nothing) without state.path. Not thread-safe: the daemon calls it
// under its engine lock.
class StateKeeper {
 public:
  // The notification side's parts of the state, exported as values only when a save is due.
  // Called under the engine lock: an export must be quick and never wait for a post.
  struct Exports {
    // Notifications handed to the dispatcher and not yet finished (Dispatcher::ExportOutbox).
    std::function<std::vector<Notification>()> outbox;
    // One per Alertmanager notifier (AlertmanagerNotifier::ExportState).
    std::vector<std::function<std::vector<AlertmanagerFiring>()>> alertmanagers;
    // The Slack app notifier's open incidents (SlackAppNotifier::ExportThreads); empty: none.
    std::function<std::vector<SlackThread>()> slack_threads;
  };
  // What Restore() hands back for the owner to import.
  struct Restored {
    std::vector<Notification> outbox;  // for Dispatcher::ImportOutbox
    // For each AlertmanagerNotifier::ImportState: the saved alerts the restored engine still
    // has as announced; empty without Alertmanager exports.
    std::vector<AlertmanagerFiring> alertmanager_firing;
    // For SlackAppNotifier::ImportThreads: the saved incidents, less the open ones the restored
    // engine no longer has as announced.
    std::vector<SlackThread> slack_threads;
  };

  StateKeeper(const Config& config, Pipeline& pipeline, prometheus::Registry* registry);

  bool enabled() const { return checkpointer_ != nullptr; }

  // Before Restore(). The functions must stay callable until the keeper's last call.
  void AttachExports(Exports exports) { exports_ = std::move(exports); }

  // At start-up, before following the logs: restores learned pools and the alerting state into
  // the pipeline, reads through it the rest of each file rotated away while poolwatch was down
  // (with its path label set), and fills logs->resume_from for the saved files log.path still
  // names. A fixed path with no saved position (it was not open) is read from its beginning; a
  // glob's file with none follows log.start_at. Returns the notification side's state to import.
  Restored Restore(LogSetOptions* logs);
  // The files whose positions are saved; set once they exist.
  void Attach(const LogSet* logs) { logs_ = logs; }

  // Lines the followers consumed (delivered or dropped as overlong) since the last call.
  void CountLines(uint64_t lines) { lines_ += lines; }
  // Call with the notifications of an evaluation before enqueuing them: saves at once, with
  // them in the outbox next to those the dispatcher has not finished.
  void BeforeEnqueue(const std::vector<Notification>& notifications);
  // Every run-loop iteration: saves at once when the dispatcher has just finished the outbox
  // saved last (its queue is empty now), otherwise when a change is due.
  void Tick(size_t dispatcher_queue_length);
  // At shutdown, after the dispatcher has drained: the final save, with the notifications the
  // dispatcher abandoned still in the outbox for the next start.
  void Shutdown();

  uint64_t lines() const { return lines_; }

 private:
  // `handing_on`: notifications about to be enqueued, saved in the outbox with the exported.
  PersistedState Capture(const std::vector<Notification>& handing_on = {}) const;
  std::vector<AlertmanagerFiring> AdoptableFiring(const std::vector<AlertmanagerFiring>& saved);
  // The saved Slack incidents to hand back: resolved ones, and open ones still announced.
  std::vector<SlackThread> AdoptableThreads(const std::vector<SlackThread>& saved);
  std::set<std::string> AnnouncedKeys() const;  // Notification::Key() of announced alerts
  bool Save(const PersistedState& state, std::chrono::steady_clock::time_point now, bool urgent);

  const Config& config_;
  Pipeline& pipeline_;
  std::unique_ptr<Checkpointer> checkpointer_;
  const LogSet* logs_ = nullptr;
  uint64_t lines_ = 0;
  Exports exports_;
  bool outbox_saved_ = false;  // the last state saved had notifications in its outbox
};

}  // namespace poolwatch
