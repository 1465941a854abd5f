#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerting/alert_engine.h"
#include "alerting/alerting_config.h"
#include "alerting/notify/dispatcher.h"
#include "exporter/file_follower.h"
#include "exporter/syslog_receiver.h"

namespace poolwatch {

// A followed file as the run loop last saw it (FileFollower is not thread-safe, so the run loop
// copies this out under the daemon's lock after each Poll()).
struct FollowerHealth {
  std::string path;
  std::string problem;  // FileFollower::status(): "" while healthy
  FileFollowerStats stats;
};

// A log.syslog.listen socket as the run loop last saw it: bound for as long as poolwatch runs.
struct SyslogListenerHealth {
  std::string address;  // as bound: "udp://127.0.0.1:5514", "unixgram:///run/poolwatch/syslog.sock"
  SyslogStats stats;
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
  // The inputs, as configured: a poolwatch may follow files, receive syslog, or both.
  std::vector<std::string>
      log_patterns;                   // log.path's paths and globs (and log.files'); may be none
  std::vector<FollowerHealth> files;  // every file they name now, in the log set's order
  std::vector<SyslogListenerHealth> syslog;
  uint64_t lines_parsed = 0;
  uint64_t lines_malformed = 0;
  TimePoint last_record_time{};  // log time of the last parsed line; epoch before the first
};

// GET /api/v1/status: the whole snapshot as one JSON object (pools, maintenance, rules with
// value against threshold and window fill, firing alerts, the last notifications newest
// first, the inputs: each followed file with lag = size − offset, each syslog listener with its
// datagrams; "follower" is the first file with a problem, else the first file, null without
// one). Pure: snapshot in, JSON text out. Times
// are RFC 3339 UTC, null when unknown; ages and durations are whole seconds.
std::string StatusJson(const StatusSnapshot& snapshot);

// GET /api/v1/alerts: {"alerts": [...]}, the alerts whose condition holds now, announced or
// not (muted by maintenance, inhibited or in cooldown shows in "decision").
std::string AlertsJson(const StatusSnapshot& snapshot);

// How many deliveries the status answers with (the newest); the dispatcher may keep more.
inline constexpr size_t kStatusDeliveries = 20;

}  // namespace poolwatch
