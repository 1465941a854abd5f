#include "app/daemon.h"

#include <poll.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iostream>
#include <mutex>
#include <optional>
#include <vector>

#include "alerting/notify/alertmanager_notifier.h"
#include "alerting/notify/dispatcher.h"
#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier_factory.h"
#include "alerting/notify/redact.h"
#include "alerting/notify/slack_app_notifier.h"
#include "app/alert_metrics.h"
#include "app/logger.h"
#include "app/pipeline.h"
#include "app/read_step.h"
#include "app/state_keeper.h"
#include "config/restart_settings.h"
#include "config/value_parsers.h"
#include "config/web_config.h"
#include "exporter/exposition.h"
#include "exporter/file_follower.h"
#include "exporter/log_set.h"
#include "exporter/path_label.h"
#include "exporter/process_metrics.h"
#include "exporter/syslog_receiver.h"
#include "remote_write/remote_writer.h"
#include "web/admin_api.h"
#include "web/http_server.h"
#include "web/status_page.h"
#include "web/verdict_api.h"

namespace poolwatch {
namespace {

constexpr std::chrono::milliseconds kTick{100};  // rule evaluation cadence without new lines
// nginx writes every request's line on its own, so at 2,000 req/s inotify would wake the loop
// (a read, a stat and a rule evaluation) for nearly every line. A wake-up that comes sooner than
// this after the previous read waits out the rest first: at most ~50 reads a second under load,
// while the first line after a quiet spell (the failover that matters) is still read at once.
constexpr std::chrono::milliseconds kCoalesce{20};
// The same with several log files: at 2,000 lines a second spread over 50 files nearly every
// line is alone in its file within 20 ms, and each file read is a few system calls; 50 ms
// halves them (bench/README.md, "Many logs") and stays well within the 100 ms an alert may lag.
constexpr std::chrono::milliseconds kCoalesceManyLogs{50};
constexpr std::chrono::seconds kShutdownDrain{5};
// What one read takes from one of several log files at most (bench/README.md, "Many logs").
constexpr uint64_t kSliceBytesPerFile = 1024 * 1024;
// Lines older than this when read are a backlog (a restart with a state file, a slow start, a
// stall): the pipeline evaluates them with the log's time, as replay does, instead of once per
// read with the wall clock (see Pipeline::SetBacklogBefore).
constexpr std::chrono::seconds kBacklogAge{2};

// poolwatch_syslog_datagrams_total{result}: the receiver's counters as they grow, and a warning
// the first time each kind of loss happens (later ones are only counted).
class SyslogCounters {
 public:
  explicit SyslogCounters(prometheus::Registry& registry)
      : family_(prometheus::BuildCounter()
                    .Name("poolwatch_syslog_datagrams_total")
                    .Help("Datagrams received on log.syslog.listen: received (all of them), "
                          "malformed (not syslog as nginx sends it), oversized (a line longer "
                          "than the maximum), dropped (lost to a full receive buffer); only "
                          "received minus the others became log lines.")
                    .Register(registry)),
        received_(family_.Add({{"result", "received"}})),
        malformed_(family_.Add({{"result", "malformed"}})),
        oversized_(family_.Add({{"result", "oversized"}})),
        dropped_(family_.Add({{"result", "dropped"}})) {}

  void Publish(const SyslogStats& now) {
    received_.Increment(static_cast<double>(now.received - published_.received));
    malformed_.Increment(static_cast<double>(now.malformed - published_.malformed));
    oversized_.Increment(static_cast<double>(now.oversized - published_.oversized));
    dropped_.Increment(static_cast<double>(now.dropped - published_.dropped));
    if (published_.malformed == 0 && now.malformed > 0) {
      LogWarn(
          "skipped a syslog datagram that is not what nginx sends; later ones are only counted");
    }
    if (published_.oversized == 0 && now.oversized > 0) {
      LogWarn(
          "skipped a syslog datagram longer than the maximum line length; later ones are "
          "only counted");
    }
    if (published_.dropped == 0 && now.dropped > 0) {
      LogWarn(
          "syslog datagrams were dropped because the receive buffer was full; raise "
          "net.core.rmem_max (later drops are only counted)",
          {{"dropped", std::to_string(now.dropped)}});
    }
    published_ = now;
  }

 private:
  prometheus::Family<prometheus::Counter>& family_;
  prometheus::Counter& received_;
  prometheus::Counter& malformed_;
  prometheus::Counter& oversized_;
  prometheus::Counter& dropped_;
  SyslogStats published_;
};

std::string HostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

// Everything the daemon owns, so the HTTP handlers (other threads) and the run loop share it
// with one lock around the alert engine.
class Daemon {
 public:
  Daemon(std::string config_path, FlagOverrides flags, Config config)
      : config_path_(std::move(config_path)),
        flags_(std::move(flags)),
        config_(std::move(config)),
        registry_(std::make_shared<prometheus::Registry>()),
        pipeline_(config_, *registry_, &series_registry_, AlertEngine::VerdictWindows::kKept),
        state_(config_, pipeline_, registry_.get()),
        alert_metrics_(*registry_),
        log_readable_(prometheus::BuildGauge()
                          .Name("poolwatch_log_readable")
                          .Help("1 while the followed access log is open and read without "
                                "error; 0 while it is missing or unreadable (poolwatch is "
                                "blind: no metrics, no alerts).")
                          .Register(*registry_)
                          .Add({})) {
    // Metrics are published once per read of the log (Flush() after each Poll), not per line.
    pipeline_.SetFlushEvery(Pipeline::kBatchLines);
    pipeline_.SetDeliver(
        [this](std::vector<Pipeline::TimedEvaluation>& evaluations) { Dispatch(evaluations); });
  }

  int Run();

 private:
  void Reload();
  // Evaluates through the pipeline (engine time never goes back behind a backlog's log time);
  // every evaluation, including those the pipeline makes while reading a backlog, ends in
  // Dispatch().
  void EvaluateAndDispatch(TimePoint now);
  void Dispatch(std::vector<Pipeline::TimedEvaluation>& evaluations);
  // Slack app mode: when maintenance starts or ends (admin API, reload, its end time), a note
  // for the threads of the open incidents (Notification::incident_note).
  void AppendMaintenanceNote(TimePoint now, std::vector<Notification>& notifications);
  void RegisterHandlers(HttpServer& server);

  std::string config_path_;
  FlagOverrides flags_;
  Config config_;
  std::shared_ptr<prometheus::Registry> registry_;
  // The per-request families, served by ExporterMetrics::AppendSeriesExposition() (not collected).
  prometheus::Registry series_registry_;
  std::mutex engine_mutex_;  // guards pipeline_ (its engine) against HTTP handler threads
  Pipeline pipeline_;
  StateKeeper state_;  // the state file (log position, pools, alerting); engine_mutex_
  AlertMetrics alert_metrics_;
  std::unique_ptr<CurlHttpPoster> poster_;
  std::unique_ptr<Dispatcher> dispatcher_;
  // The inputs for the status page, copied by the run loop after each read; engine_mutex_.
  std::vector<std::string> log_patterns_;
  std::vector<FollowerHealth> files_health_;
  std::vector<SyslogListenerHealth> syslog_health_;
  // The alert self-metrics (firing, window fill, ratios) are rebuilt from Status(), which costs
  // strings and maps: once per tick, or at once when an evaluation produced notifications.
  std::chrono::steady_clock::time_point status_published_{};
  std::optional<bool> maintenance_seen_;  // maintenance at the last Dispatch(); engine_mutex_
  bool incident_notes_ = false;           // a notifier keeps incident threads (the Slack app)
  prometheus::Gauge& log_readable_;
};

void Daemon::EvaluateAndDispatch(TimePoint now) { pipeline_.EvaluateAt(now); }

void Daemon::AppendMaintenanceNote(TimePoint now, std::vector<Notification>& notifications) {
  if (!incident_notes_) return;
  const bool on = pipeline_.engine().MaintenanceActive(now);
  // The first call only learns the state (restored or configured): it is no news.
  const bool changed = maintenance_seen_.has_value() && *maintenance_seen_ != on;
  maintenance_seen_ = on;
  if (!changed) return;
  Notification note;
  note.rule = "maintenance";
  note.incident_note = true;
  note.status = on ? AlertStatus::kFiring : AlertStatus::kResolved;
  note.title = on ? "MAINTENANCE" : "MAINTENANCE ENDED";
  note.summary = on ? "Maintenance started: muted rules hold their alerts until it ends"
                    : "Maintenance ended: alerts are sent again";
  note.at = now;
  notifications.push_back(std::move(note));
}

void Daemon::Dispatch(std::vector<Pipeline::TimedEvaluation>& evaluations) {
  std::vector<Notification> notifications;
  for (Pipeline::TimedEvaluation& e : evaluations) {
    alert_metrics_.Count(e.evaluation.decisions);
    if (Logger::Enabled(LogLevel::kDebug)) {
      for (const DecisionRecord& d : e.evaluation.decisions) {
        LogDebug("rule decision",
                 {{"rule", d.rule}, {"decision", DecisionName(d.decision)}, {"detail", d.detail}});
      }
    }
    std::move(e.evaluation.notifications.begin(), e.evaluation.notifications.end(),
              std::back_inserter(notifications));
  }
  AppendMaintenanceNote(evaluations.back().now, notifications);
  state_.BeforeEnqueue(notifications);  // all of them saved before Slack can see any
  for (Notification& n : notifications) {
    if (n.incident_note) {
      LogInfo("maintenance note for the open incidents' Slack threads", {{"summary", n.summary}});
      dispatcher_->Enqueue(std::move(n));
      continue;
    }
    LogInfo(n.state_only ? "alert (cooldown: to Alertmanager and Slack app threads only)" : "alert",
            {{"rule", n.rule},
             {"status", n.status == AlertStatus::kFiring ? "firing" : "resolved"},
             {"key", n.Key()}});
    dispatcher_->Enqueue(std::move(n));
  }
  auto steady_now = std::chrono::steady_clock::now();
  if (!notifications.empty() || steady_now - status_published_ >= kTick) {
    alert_metrics_.Update(pipeline_.engine().Status(evaluations.back().now));
    status_published_ = steady_now;
  }
}

void Daemon::RegisterHandlers(HttpServer& server) {
  RegisterStatusHandlers(server, [this] {
    StatusSnapshot s;
    s.now = Clock::now();
    s.version = std::string(PoolwatchVersion());
    s.deliveries = dispatcher_->RecentDeliveries();  // the dispatcher has its own lock
    s.destinations = dispatcher_->Destinations();
    std::lock_guard<std::mutex> lock(engine_mutex_);
    s.instance = config_.instance;
    s.admin_api = config_.enable_admin_api;
    s.engine = pipeline_.engine().Status(s.now);
    s.rules = pipeline_.engine().config().rules;
    s.log_patterns = log_patterns_;
    s.files = files_health_;
    s.syslog = syslog_health_;
    s.lines_parsed = pipeline_.lines_parsed();
    s.lines_malformed = pipeline_.lines_malformed();
    s.last_record_time = pipeline_.last_record_time();
    return s;
  });
  AdminActions admin;
  admin.enabled = [this] {
    std::lock_guard<std::mutex> lock(engine_mutex_);  // Reload() may change it meanwhile
    return config_.enable_admin_api;
  };
  admin.maintenance = [this] {
    std::lock_guard<std::mutex> lock(engine_mutex_);
    EngineStatus status = pipeline_.engine().Status(Clock::now());
    return MaintenanceMode{status.maintenance, status.maintenance_until};
  };
  admin.set_maintenance = [this](const MaintenanceMode& mode, const std::string& from) {
    std::lock_guard<std::mutex> lock(engine_mutex_);
    pipeline_.engine().SetMaintenance(mode.enabled, mode.until);
    LogInfo(std::string("maintenance mode ") + (mode.enabled ? "on" : "off") +
            (mode.until ? " until " + FormatRfc3339(*mode.until) : "") + " (admin API, from " +
            from + ")");
    EvaluateAndDispatch(Clock::now());
  };
  // Handled by the run loop, as a SIGHUP is.
  admin.reload = [](const std::string& from) {
    LogInfo("reload requested through the admin API from " + from);
    kill(getpid(), SIGHUP);
  };
  admin.warn = [](std::string_view line) { LogWarn(line); };
  RegisterAdminHandlers(server, std::move(admin));
  VerdictSource verdict;
  verdict.parse_duration = [](std::string_view text) { return ParseDuration(text); };
  verdict.decide = [this](const RolloutQuery& query) {
    const TimePoint now = Clock::now();
    std::lock_guard<std::mutex> lock(engine_mutex_);
    const AlertEngine& engine = pipeline_.engine();
    return DecideRolloutVerdict(query, engine.release_windows(), engine.Status(now).rules,
                                engine.config().rules, now);
  };
  RegisterVerdictHandler(server, std::move(verdict));
}

void Daemon::Reload() {
  LogInfo("reloading configuration" + (config_path_.empty() ? "" : " from " + config_path_));
  try {
    Config fresh = LoadEffectiveConfig(config_path_, flags_);
    // What was built at start-up keeps its settings; each change is named once per reload, and
    // the rest of the file is applied below all the same.
    for (const std::string& key : ChangedRestartSettings(config_, fresh)) {
      LogWarn(key + " changed: takes effect after a restart");
    }
    // The dispatcher and its notifiers live as long as the daemon (they hold the queued and
    // retried notifications): their settings need a restart. Key names only: URLs are secrets.
    std::vector<std::string> notifier_changes =
        ChangedNotifierSettings(config_.notify, fresh.notify);
    if (fresh.instance != config_.instance) notifier_changes.emplace_back("instance");
    if (!notifier_changes.empty()) {
      std::string keys;
      for (const std::string& key : notifier_changes) {
        if (!keys.empty()) keys += ", ";
        keys += key;
      }
      LogWarn("notifier settings changed (" + keys +
              "): they take effect only after a restart; alerts still go out with the old ones");
    }
    std::lock_guard<std::mutex> lock(engine_mutex_);
    pipeline_.Reconfigure(fresh);
    config_.alerting = fresh.alerting;
    config_.enable_admin_api = fresh.enable_admin_api;
    config_.log_level = fresh.log_level;  // the logger's level is one atomic
    Logger::SetLevel(ParseLogLevel(fresh.log_level).value_or(LogLevel::kInfo));
    alert_metrics_.ConfigReloaded(true, Clock::now());
    LogInfo("configuration reloaded");
  } catch (const ConfigError& e) {
    alert_metrics_.ConfigReloaded(false, Clock::now());
    LogError(std::string("reload failed, keeping the running configuration: ") + e.what());
  }
}

int Daemon::Run() {
  // Signals arrive through a descriptor so the run loop wakes at once and no handler runs
  // inside library code; blocked before any thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);

  RegisterBuildInfo(*registry_);
  // As Prometheus does: the configuration read at start-up is the first successful load, so the
  // timestamp tells how old the running configuration is from the first scrape on.
  alert_metrics_.ConfigReloaded(true, Clock::now());
  poster_ = std::make_unique<CurlHttpPoster>();
  DispatcherOptions dispatch_options;
  dispatch_options.capacity = config_.notify.queue_capacity;
  dispatch_options.max_attempts = config_.notify.max_attempts;
  dispatch_options.attempt_timeout = config_.notify.timeout;
  dispatch_options.registry = registry_.get();
  dispatch_options.log = [](std::string_view line) { LogWarn(line); };
  // The dispatcher owns the notifiers until the daemon ends; the Alertmanager ones are named
  // here to export and import the alerts they keep re-posting.
  std::vector<AlertmanagerNotifier*> alertmanagers;
  SlackAppNotifier* slack_app = nullptr;
  NotifierContext notifier_context;
  notifier_context.instance = config_.instance;
  notifier_context.generator_url =
      GeneratorUrl(config_.notify, config_.instance, config_.listen_addresses);
  notifier_context.log = [](std::string_view line) { LogWarn(line); };
  notifier_context.registry = registry_.get();
  notifier_context.status_url = notifier_context.generator_url;  // the node's status page
  notifier_context.admin_api = config_.enable_admin_api;
  dispatcher_ =
      std::make_unique<Dispatcher>(BuildNotifiers(config_.notify, notifier_context, *poster_,
                                                  std::cout, &alertmanagers, &slack_app),
                                   dispatch_options);
  incident_notes_ = slack_app != nullptr;
  for (const std::string& destination : dispatcher_->Destinations()) {
    LogInfo("alerts go to " + destination);
  }

  HttpServer::Options web;
  web.listen_addresses = config_.listen_addresses;
  web.telemetry_path = config_.telemetry_path;
  if (!config_.web_config_file.empty()) {
    try {
      WebConfig security = LoadWebConfig(config_.web_config_file);
      web.tls = security.tls_options;
      web.basic_auth_users = security.users;
      web.headers = security.headers;
      LogInfo(
          "web configuration " + config_.web_config_file + ": TLS " +
          (security.tls() ? "on" : "off") + ", basic auth " +
          (security.auth() ? "for " + std::to_string(security.users.size()) + " users" : "off"));
    } catch (const ConfigError& e) {
      LogError(std::string("configuration error: ") + e.what());
      return 2;
    }
  }
  HttpServer server(web, registry_);
  // The per-request series come from the metrics' own bookkeeping, without prometheus-cpp's
  // Collect() (nearly all of a scrape's cost at the caps); the lock they take is theirs, not
  // engine_mutex_, so a scrape never waits for a read of the log.
  const ExporterMetrics& series = pipeline_.metrics();
  server.AddExposition([&series](std::string& out) { series.AppendSeriesExposition(out); });
  auto process = std::make_shared<ProcessCollector>();
  server.AddExposition(
      [process](std::string& out) { AppendTextExposition(process->Collect(), out); });
  RegisterHandlers(server);
  std::string error;
  if (!server.Start(&error)) {
    LogError(error);
    return 1;
  }
  // Remote write: pushes what /metrics serves, each receiver from its own thread.
  std::vector<std::unique_ptr<CurlHttpPoster>> remote_posters;
  std::vector<std::unique_ptr<RemoteWriter>> remote_writers;
  for (const RemoteWriteOptions& options : config_.remote_write) {
    CurlHttpPoster* poster = remote_posters.emplace_back(std::make_unique<CurlHttpPoster>()).get();
    RemoteWriter::Deps deps;
    deps.exposition = [&server](std::string& out) { server.AppendMetricsText(out); };
    deps.send = [poster](const HttpPostRequest& request) { return poster->Send(request); };
    deps.log = [](std::string_view line) { LogWarn(line); };
    deps.registry = registry_.get();
    // What a Prometheus scraping poolwatch would add (see README, "Remote write").
    deps.target_labels = {{"job", "poolwatch"}, {"instance", config_.instance}};
    auto& writer = remote_writers.emplace_back(std::make_unique<RemoteWriter>(options, deps));
    writer->Start();
    LogInfo("metrics pushed to " + writer->remote() + " every " +
            (options.interval < std::chrono::seconds(1)
                 ? std::to_string(options.interval.count()) + "ms"
                 : FormatDuration(options.interval)));
  }
  // One line per listener with the port as bound, so whoever asked for port 0 can read it.
  for (const std::string& address : server.BoundAddresses()) {
    LogInfo("listening", {{"address", address},
                          {"tls", web.tls.enabled() ? "true" : "false"},
                          {"telemetry_path", config_.telemetry_path}});
  }

  // log.syslog.listen: lines that arrive as datagrams, alongside or instead of the file.
  std::unique_ptr<SyslogReceiver> syslog;
  std::unique_ptr<SyslogSources> syslog_senders;
  std::optional<SyslogCounters> syslog_counters;
  if (!config_.syslog_listen.empty()) {
    SyslogReceiverOptions receive;
    receive.endpoints = config_.syslog_listen;
    syslog = std::make_unique<SyslogReceiver>(receive);
    if (!syslog->Open(&error)) {
      LogError(error);
      return 1;
    }
    syslog_counters.emplace(*registry_);
    SyslogSourcesOptions senders;
    senders.labels = config_.syslog_labels;
    // The path label's value comes first and is empty for a datagram.
    senders.leading_values = SourceLabelNames(config_).size() - config_.syslog_labels.size();
    senders.max_sources = config_.metrics.max_sources;
    syslog_senders = std::make_unique<SyslogSources>(senders);
    for (const std::string& address : syslog->BoundAddresses()) {
      LogInfo("listening for syslog", {{"address", address}});
      std::lock_guard<std::mutex> lock(engine_mutex_);
      syslog_health_.push_back({address, {}});
    }
  }

  // log.path: every file its paths and globs name, each followed on its own (issue 17).
  const std::vector<std::string> patterns = LogPatterns(config_);
  const PathLabeler labeler(config_.path_label);
  LogSetOptions logs_options;
  logs_options.patterns = patterns;
  logs_options.follow.start_at_end = !config_.start_at_beginning;
  logs_options.vanish_grace = logs_options.follow.rotated_file_grace;
  // With several files, a burst in one is read in slices between reads of the others, so it
  // delays their lines (and alerts) by one slice's parsing, a few milliseconds, not a backlog's.
  if (patterns.size() > 1 || IsGlobPattern(patterns.empty() ? "" : patterns[0])) {
    logs_options.follow.max_bytes_per_poll = kSliceBytesPerFile;
  }
  if (!SourceLabelNames(config_).empty()) {
    logs_options.source_of = [&labeler, syslog_labels =
                                            config_.syslog_labels.size()](const std::string& path) {
      return Pipeline::FileSourceValues(labeler, syslog_labels, path);
    };
  }
  if (!config_.log_files.empty()) {
    // The formats as compiled at start-up: a reload does not change them.
    logs_options.format_of = [files = config_.log_files](const std::string& path) {
      return Pipeline::FormatFor(files, path);
    };
  }
  {
    std::lock_guard<std::mutex> lock(engine_mutex_);
    StateKeeper::Exports exports;
    exports.outbox = [this] { return dispatcher_->ExportOutbox(); };
    for (AlertmanagerNotifier* alertmanager : alertmanagers) {
      exports.alertmanagers.push_back([alertmanager] { return alertmanager->ExportState(); });
    }
    if (slack_app != nullptr)
      exports.slack_threads = [slack_app] { return slack_app->ExportThreads(); };
    state_.AttachExports(std::move(exports));
    StateKeeper::Restored restored = state_.Restore(&logs_options);
    dispatcher_->ImportOutbox(std::move(restored.outbox));
    for (AlertmanagerNotifier* alertmanager : alertmanagers) {
      alertmanager->ImportState(restored.alertmanager_firing);
    }
    if (slack_app != nullptr) slack_app->ImportThreads(restored.slack_threads);
  }
  // Without log.path only syslog feeds the pipeline.
  std::string log_names;  // for the log lines: the paths and globs as configured
  for (const std::string& pattern : patterns) {
    log_names += (log_names.empty() ? "" : ", ") + pattern;
  }
  std::optional<LogSet> logs;
  {
    std::lock_guard<std::mutex> lock(engine_mutex_);
    log_patterns_ = patterns;
  }
  if (!patterns.empty()) {
    const bool resumed = !logs_options.resume_from.empty();
    logs.emplace(logs_options);
    state_.Attach(&*logs);
    LogInfo("following " + log_names + " (" + std::to_string(logs->files().size()) +
            " file(s) now) from the " +
            (resumed                      ? "saved position"
             : config_.start_at_beginning ? "beginning"
                                          : "end") +
            "; primary pool " + config_.alerting.active_pool);
    for (const auto& file : logs->files()) {
      if (!file->follower->status().empty()) LogWarn(file->follower->status());
    }
  } else {
    LogInfo("no log file to follow, only syslog; primary pool " + config_.alerting.active_pool);
  }

  bool running = true;
  bool ready = false;
  auto last_read = std::chrono::steady_clock::time_point{};
  std::vector<pollfd> fds;  // what the loop waits on; kept to reuse its memory
  while (running) {
    LogsReadResult result;
    SyslogReceiver::PollResult received;
    bool logs_readable = true;
    {
      std::lock_guard<std::mutex> lock(engine_mutex_);
      last_read = std::chrono::steady_clock::now();
      pipeline_.SetBacklogBefore(Clock::now() - kBacklogAge);
      if (logs) {
        result = ReadLogsOnce(*logs, pipeline_, state_);
        // Element by element: the strings keep their memory from one read to the next.
        files_health_.resize(logs->files().size());
        for (size_t i = 0; i < logs->files().size(); ++i) {
          const auto& file = logs->files()[i];
          files_health_[i].path = file->path;
          files_health_[i].stats = file->follower->stats();
          files_health_[i].problem = file->follower->status();
          logs_readable = logs_readable && file->follower->status().empty();
        }
      }
      if (syslog) {
        received = ReadSyslogOnce(*syslog, *syslog_senders, pipeline_);
        for (size_t i = 0; i < syslog_health_.size(); ++i) {
          syslog_health_[i].stats = syslog->listener_stats(i);
        }
      }
      // In the middle of a backlog the pipeline has evaluated with the log's time; the wall
      // clock would age its windows hours ahead of the lines still to come.
      if (!result.more || !pipeline_.InBacklog()) EvaluateAndDispatch(Clock::now());
      state_.Tick(dispatcher_->QueueLength());
    }
    if (syslog) syslog_counters->Publish(syslog->stats());
    ExporterMetrics& metrics = pipeline_.metrics();
    for (const std::string& path : result.changes.added) LogInfo("new log file: " + path);
    for (const std::string& path : result.changes.removed) {
      LogInfo("log file gone, read to its end: " + path);
    }
    for (const LogsReadResult::FileEvent& event : result.events) {
      const std::string& path = event.file->path;
      if (event.result.rotated) {
        metrics.CountRotation();
        LogInfo("log rotated: now reading a new " + path);
      }
      if (event.result.truncated) {
        metrics.CountTruncation();
        LogInfo("log truncated in place: reading " + path + " from its start");
      }
      if (event.result.status_changed) {
        const std::string& status = event.file->follower->status();
        status.empty() ? LogInfo("reading " + path) : LogWarn(status);
      }
    }
    // Syslog only: the sockets are bound, which is all poolwatch can know of its input.
    log_readable_.Set(logs_readable ? 1 : 0);
    if (!ready) {
      ready = true;
      server.SetReady(true);
    }
    if (result.more || received.more) continue;

    // The signals, the log files' inotify descriptor (when there is one), the syslog sockets.
    fds.assign(1, {signal_fd, POLLIN, 0});
    const bool follower_waits = logs && logs->WaitFd() >= 0;
    if (follower_waits) fds.push_back({logs->WaitFd(), POLLIN, 0});
    if (syslog) {
      for (int fd : syslog->fds()) fds.push_back({fd, POLLIN, 0});
    }
    auto timeout =
        logs && !follower_waits ? std::min(kTick, FileFollower::kFallbackPollInterval) : kTick;
    int n = poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
    if (n <= 0) continue;
    const size_t first_socket = follower_waits ? 2 : 1;
    bool input = false;
    bool urgent = false;
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      input = true;
      // A unix datagram socket queues only 10 datagrams (net.unix.max_dgram_qlen) before
      // nginx's sends fail and the lines are lost: read it at once. UDP's buffer holds
      // hundreds at least, and is coalesced like the file.
      urgent = urgent || (i >= first_socket && config_.syslog_listen[i - first_socket].kind ==
                                                   SyslogEndpoint::Kind::kUnixgram);
    }
    if (follower_waits && (fds[1].revents & POLLIN)) logs->DrainWakeups();
    if (input && !urgent) {
      auto since = std::chrono::steady_clock::now() - last_read;
      const auto coalesce = logs && logs->files().size() > 1 ? kCoalesceManyLogs : kCoalesce;
      if (since < coalesce && !(fds[0].revents & POLLIN)) {
        auto rest = std::chrono::ceil<std::chrono::milliseconds>(coalesce - since);
        pollfd signals = {signal_fd, POLLIN, 0};
        if (poll(&signals, 1, static_cast<int>(rest.count())) > 0) fds[0].revents = signals.revents;
      }
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
        if (info.ssi_signo == SIGHUP) {
          Reload();
        } else {
          LogInfo(std::string("received ") + (info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM") +
                  ", shutting down");
          running = false;
        }
      }
    }
  }

  // Read what is left so the last lines before shutdown still count and alert.
  {
    std::lock_guard<std::mutex> lock(engine_mutex_);
    pipeline_.SetBacklogBefore(Clock::now() - kBacklogAge);
    if (logs) ReadLogsOnce(*logs, pipeline_, state_);
    if (syslog) ReadSyslogOnce(*syslog, *syslog_senders, pipeline_);
    EvaluateAndDispatch(Clock::now());
  }
  // Remote write: the last values, sent within the same drain time as the notifications.
  const auto drain_end = std::chrono::steady_clock::now() + kShutdownDrain;
  for (auto& writer : remote_writers) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        drain_end - std::chrono::steady_clock::now());
    size_t lost = writer->Stop(std::max(left, std::chrono::milliseconds(0)));
    if (lost > 0) {
      LogError(std::to_string(lost) + " samples could not be pushed to " + writer->remote() +
               " before shutdown");
    }
  }
  size_t abandoned = dispatcher_->Shutdown(kShutdownDrain);
  if (abandoned > 0) {
    LogError(std::to_string(abandoned) + " notifications could not be delivered before shutdown" +
             (state_.enabled() ? " (kept in the state file for the next start)" : ""));
  }
  {
    std::lock_guard<std::mutex> lock(engine_mutex_);
    state_.Shutdown();
  }
  server.Stop();
  close(signal_fd);
  return 0;
}

}  // namespace

void FlagOverrides::ApplyTo(Config& config) const {
  if (log_paths) config.log_paths = *log_paths;  // replaces the list of the file or environment
  if (start_at) {
    const std::optional<StartAt> where = ParseStartAt(*start_at);
    if (!where) throw ConfigError("--log.start-at: " + ExpectedGot(kStartAtExpected, *start_at));
    config.start_at_beginning = *where == StartAt::kBeginning;
  }
  if (listen_addresses) config.listen_addresses = *listen_addresses;
  if (telemetry_path) config.telemetry_path = *telemetry_path;
  if (log_level) {
    if (!ParseLogLevel(*log_level)) {
      throw ConfigError("--log.level: " + ExpectedGot(kLogLevelExpected, *log_level));
    }
    config.log_level = *log_level;
  }
  if (instance) config.instance = *instance;
  if (enable_admin_api) config.enable_admin_api = true;
  if (state_path) config.state_path = *state_path;
  if (web_config_file) config.web_config_file = *web_config_file;
}

Config LoadEffectiveConfig(const std::string& config_path, const FlagOverrides& flags) {
  Config config = LoadConfig(config_path, ProcessEnvironment());
  flags.ApplyTo(config);
  if (config.instance.empty()) config.instance = HostName();
  ValidateConfig(config);
  if (!config.web_config_file.empty()) LoadWebConfig(config.web_config_file);  // fail fast
  return config;
}

int RunDaemon(const std::string& config_path, const FlagOverrides& flags) {
  Config config;
  try {
    config = LoadEffectiveConfig(config_path, flags);
  } catch (const ConfigError& e) {
    LogError(std::string("configuration error: ") + e.what());
    return 2;
  }
  if (LogPatterns(config).empty() && config.syslog_listen.empty()) {
    LogError(
        "no log to follow: set --log.path, log.path in the config file or POOLWATCH_LOG_PATH, "
        "or receive it over syslog (log.syslog.listen)");
    return 2;
  }
  Logger::SetLevel(ParseLogLevel(config.log_level).value_or(LogLevel::kInfo));
  Daemon daemon(config_path, flags, config);
  return daemon.Run();
}

}  // namespace poolwatch
