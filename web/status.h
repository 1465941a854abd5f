#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/alert_engine.h"
#include "alerting/alerting_config.h"
#include "alerting/notify/dispatcher.h"
#include "exporter/file_follower.h"

namespace poolwatch {

// The follower as the run loop last saw it (FileFollower is not thread-safe, so the run loop
// copies this out under the daemon's lock after each Poll()).
struct FollowerHealth {
  std::string path;
  std::string problem;  // FileFollower::status(): "" while healthy
  FileFollowerStats stats;
};

// Everything the status page and its JSON API show, copied out of the daemon in one go under
// its lock so the answer is consistent. Holds no secret: destinations and delivery errors are
// redacted by the dispatcher, and no webhook URL is ever put here.
struct StatusSnapshot {
  TimePoint now{};  // wall clock at the snapshot; ages are measured from it
  std::string instance;
  std::string version;
  bool admin_api = false;  // the page shows the maintenance buttons only then
  EngineStatus engine;
  std::vector<RuleConfig> rules;           // for severity; matched to engine.rules by name
  std::vector<DeliveryRecord> deliveries;  // oldest first, as Dispatcher gives them
  std::vector<std::string> destinations;   // redacted
  FollowerHealth follower;
  uint64_t lines_parsed = 0;
  uint64_t lines_malformed = 0;
  TimePoint last_record_time{};  // log time of the last parsed line; epoch before the first
};

// GET /api/v1/status: the whole snapshot as one JSON object (pools, maintenance, rules with
// value against threshold and window fill, firing alerts, the last notifications newest
// first, follower health with lag = size − offset). Pure: snapshot in, JSON text out. Times
// are RFC 3339 UTC, null when unknown; ages and durations are whole seconds.
std::string StatusJson(const StatusSnapshot& snapshot);

// GET /api/v1/alerts: {"alerts": [...]}, the alerts whose condition holds now, announced or
// not (muted by maintenance, inhibited or in cooldown shows in "decision").
std::string AlertsJson(const StatusSnapshot& snapshot);

// How many deliveries the status answers with (the newest); the dispatcher may keep more.
inline constexpr size_t kStatusDeliveries = 20;

}  // namespace poolwatch
