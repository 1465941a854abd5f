#include "app/state_keeper.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "app/logger.h"
#include "exporter/rotated_remainder.h"

namespace poolwatch {

StateKeeper::StateKeeper(const Config& config, Pipeline& pipeline, prometheus::Registry* registry)
    : config_(config), pipeline_(pipeline) {
  if (config.state_path.empty()) return;
  CheckpointerOptions options;
  options.path = config.state_path;
  options.interval = config.state_interval;
  options.registry = registry;
  options.log_info = [](std::string_view m) { LogInfo(m); };
  options.log_error = [](std::string_view m) { LogError(m); };
  checkpointer_ = std::make_unique<Checkpointer>(std::move(options));
}

StateKeeper::Restored StateKeeper::Restore(LogSetOptions* logs) {
  if (!enabled()) return {};
  std::optional<PersistedState> saved = checkpointer_->Restore();
  if (!saved) return {};

  pipeline_.resolver().ImportLearned(saved->learned_pools);
  AlertEngine& engine = pipeline_.engine();
  for (const std::string& skipped : saved->skipped) LogWarn("state file: " + skipped);
  for (const std::string& ignored : engine.ImportState(saved->alerting)) {
    LogWarn("state file: " + ignored);
  }
  const AlertingConfig& alerting = config_.alerting;
  if (alerting.maintenance != saved->configured_maintenance ||
      alerting.maintenance_until != saved->configured_maintenance_until) {
    // The operator changed the configured maintenance while poolwatch was down: that wins.
    engine.SetMaintenance(alerting.maintenance, alerting.maintenance_until);
  }
  Restored restored;
  restored.outbox = saved->outbox;
  outbox_saved_ = !restored.outbox.empty();
  size_t announced = 0;
  for (const AlertStateRecord& a : saved->alerting.alerts) announced += a.announced ? 1 : 0;
  restored.alertmanager_firing = AdoptableFiring(saved->alertmanager_firing);
  restored.slack_threads = AdoptableThreads(saved->slack_threads);

  lines_ = saved->lines;
  // A fixed path with no saved position was not open at the save: an empty position matches no
  // file, so what is there now is read from its beginning, since all of it was written after.
  for (const std::string& pattern : logs->patterns) {
    if (!IsGlobPattern(pattern) && saved->files.count(pattern) == 0) {
      saved->files[pattern] = FilePosition{};
    }
  }
  size_t resumed = 0;
  for (const auto& [saved_path, position] : saved->files) {
    // A named reference: lambdas cannot capture a structured binding before C++20's fix (clang).
    const std::string& path = saved_path;
    const bool named = std::any_of(logs->patterns.begin(), logs->patterns.end(),
                                   [&](const std::string& p) { return PathMatches(p, path); });
    if (!named) {
      LogWarn("the state file holds a position in " + path +
              ", which log.path no longer names: not resuming it");
      continue;
    }
    const LineSource source =
        NewLineSource(logs->source_of ? logs->source_of(path) : std::vector<std::string>());
    pipeline_.SetSource(&source);
    pipeline_.UseFormat(Pipeline::FormatFor(config_.log_files, path));
    RotatedRemainder rest = ReadRotatedRemainder(
        path, position, [this](std::string_view line) { pipeline_.ProcessLine(line); });
    pipeline_.CountOverlong(rest.overlong_lines);
    pipeline_.metrics().AddBytesRead(rest.bytes);
    lines_ += rest.lines + rest.overlong_lines;
    pipeline_.SetSource(nullptr);
    if (rest.needed) (rest.found ? LogInfo(rest.message) : LogWarn(rest.message));
    logs->resume_from[path] = position;
    ++resumed;
    LogInfo(
        "resuming " + path +
        (rest.needed ? " from its beginning" : " at offset " + std::to_string(position.offset)));
  }
  pipeline_.UseFormat(0);
  LogInfo("restored the state of " + std::to_string(resumed) + " log file(s) (" +
          std::to_string(saved->lines) + " lines consumed before the restart, " +
          std::to_string(saved->learned_pools.size()) + " learned upstream addresses, " +
          std::to_string(announced) + " alerts firing, " + std::to_string(restored.outbox.size()) +
          " notifications to deliver again)");
  return restored;
}

std::set<std::string> StateKeeper::AnnouncedKeys() const {
  std::set<std::string> announced;
  for (const AlertStateRecord& a : pipeline_.engine().ExportState().alerts) {
    if (!a.announced) continue;
    Notification key;
    key.rule = a.rule;
    key.labels = a.labels;
    announced.insert(key.Key());
  }
  return announced;
}

std::vector<SlackThread> StateKeeper::AdoptableThreads(const std::vector<SlackThread>& saved) {
  if (!exports_.slack_threads || saved.empty()) return {};
  // An open incident the restored engine no longer has as announced (its rule was removed or
  // renamed while poolwatch was down) will get no resolution: kept, its message would take the
  // next, unrelated firing of that key as a repeat, days later.
  const std::set<std::string> announced = AnnouncedKeys();
  std::vector<SlackThread> adopt;
  for (const SlackThread& thread : saved) {
    if (thread.resolved || announced.count(thread.key) > 0) adopt.push_back(thread);
  }
  return adopt;
}

std::vector<AlertmanagerFiring> StateKeeper::AdoptableFiring(
    const std::vector<AlertmanagerFiring>& saved) {
  const size_t alertmanagers = exports_.alertmanagers.size();
  if (alertmanagers == 0 || saved.empty()) return {};
  // Only alerts the restored engine still has as announced: it will send their resolution.
  // One it no longer knows (its rule was removed or renamed while poolwatch was down) would
  // otherwise be re-posted forever; left alone, Alertmanager lets it expire.
  const std::set<std::string> announced = AnnouncedKeys();
  std::vector<AlertmanagerFiring> adopt;
  for (const AlertmanagerFiring& a : saved) {
    if (announced.count(a.notification.Key()) > 0) adopt.push_back(a);
  }
  LogInfo("re-posting " + std::to_string(adopt.size()) + " firing alert(s) to " +
          std::to_string(alertmanagers) + " Alertmanager(s) after the restart" +
          (adopt.size() < saved.size()
               ? " (" + std::to_string(saved.size() - adopt.size()) +
                     " saved alert(s) no longer firing here left to expire in Alertmanager)"
               : ""));
  return adopt;
}

PersistedState StateKeeper::Capture(const std::vector<Notification>& handing_on) const {
  PersistedState state;
  const std::vector<std::string> patterns = LogPatterns(config_);
  for (const std::string& pattern : patterns) {
    state.log_path += (state.log_path.empty() ? "" : ", ") + pattern;
  }
  state.lines = lines_;
  if (logs_ != nullptr) {
    state.files = logs_->Positions();
    // One fixed path, as before issue 17: its position where an older poolwatch looks for it.
    if (patterns.size() == 1 && !IsGlobPattern(patterns[0])) {
      if (auto it = state.files.find(patterns[0]); it != state.files.end()) {
        state.position = it->second;
      }
    }
    // Lines past the saved positions (a new log's, while the rotated one is still read) are
    // read again after a restart: counted then, not now.
    state.lines -= std::min(lines_, logs_->LinesAfterPositions());
  }
  state.learned_pools = pipeline_.resolver().ExportLearned();
  state.alerting = pipeline_.engine().ExportState();
  state.configured_maintenance = config_.alerting.maintenance;
  state.configured_maintenance_until = config_.alerting.maintenance_until;
  if (exports_.outbox) state.outbox = exports_.outbox();
  state.outbox.insert(state.outbox.end(), handing_on.begin(), handing_on.end());
  // The dispatcher drops the oldest beyond its capacity; the outbox need not keep more.
  const size_t cap = std::max<size_t>(config_.notify.queue_capacity, 1);
  if (state.outbox.size() > cap) {
    state.outbox.erase(state.outbox.begin(), state.outbox.end() - static_cast<long>(cap));
  }
  // Every Alertmanager is sent the same alerts, but each on its own channel, so one may lag:
  // the union, the earliest startsAt and the newest notification of each.
  std::map<std::string, AlertmanagerFiring> firing;
  for (const auto& export_firing : exports_.alertmanagers) {
    for (AlertmanagerFiring& a : export_firing()) {
      auto [it, inserted] = firing.try_emplace(a.notification.Key(), a);
      if (inserted) continue;
      it->second.starts_at = std::min(it->second.starts_at, a.starts_at);
      if (a.notification.at > it->second.notification.at) {
        it->second.notification = std::move(a.notification);
      }
    }
  }
  for (auto& [key, a] : firing) state.alertmanager_firing.push_back(std::move(a));
  if (exports_.slack_threads) state.slack_threads = exports_.slack_threads();
  return state;
}

bool StateKeeper::Save(const PersistedState& state, std::chrono::steady_clock::time_point now,
                       bool urgent) {
  outbox_saved_ = !state.outbox.empty();
  return checkpointer_->Maybe(state, now, urgent);
}

void StateKeeper::BeforeEnqueue(const std::vector<Notification>& notifications) {
  if (!enabled() || notifications.empty()) return;
  Save(Capture(notifications), std::chrono::steady_clock::now(), /*urgent=*/true);
}

void StateKeeper::Tick(size_t dispatcher_queue_length) {
  if (!enabled()) return;
  const auto now = std::chrono::steady_clock::now();
  if (outbox_saved_ && dispatcher_queue_length == 0) {
    // Every notification saved as handed over has been delivered or given up on.
    Save(Capture(), now, /*urgent=*/true);
    return;
  }
  if (checkpointer_->Due(now)) Save(Capture(), now, /*urgent=*/false);
}

void StateKeeper::Shutdown() {
  if (!enabled()) return;
  if (Save(Capture(), std::chrono::steady_clock::now(), /*urgent=*/true)) {
    LogInfo("state saved to " + checkpointer_->path());
  }
}

}  // namespace poolwatch
