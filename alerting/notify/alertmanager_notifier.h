#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alerting/notification.h"
#include "alerting/notify/http_poster.h"
#include "alerting/notify/notifier.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace poolwatch {

struct AlertmanagerOptions {
  // The node's identity, the `instance` label of every alert. The same value should be the
  // Prometheus target's `instance` (see prometheus/fleet/targets.example.yml) so the alerts of
  // poolwatch and of the fleet rules name a node the same way.
  std::string instance;
  std::string generator_url;  // the alerts' generatorURL; "" leaves it out
  // Annotation runbook_url; "{rule}" becomes the rule name. "" leaves it out.
  std::string runbook_url;
  // How often still-firing alerts are posted again. Alertmanager resolves an alert once its
  // endsAt passes, so each post says endsAt = now + kAlertmanagerLifetimeFactor × this
  // (Prometheus's own rule): one or two lost re-posts change nothing, and when poolwatch dies
  // its alerts resolve by themselves within four intervals instead of firing forever.
  std::chrono::milliseconds resend_interval{60000};
  std::chrono::milliseconds resend_timeout{10000};  // one re-post, connect included
  std::string name = "alertmanager";                // metric label and log prefix
  // false: no re-post thread; the owner calls Resend() (tests).
  bool start_resender = true;
  // Re-post failures and recoveries are logged here (once per change, not every interval).
  std::function<void(std::string_view line)> log;
  // Self-metrics, when set: poolwatch_alertmanager_resends_total{notifier,result} and
  // poolwatch_alertmanager_firing_alerts{notifier}.
  prometheus::Registry* registry = nullptr;
  std::function<TimePoint()> now;  // wall clock for endsAt; empty: Clock::now
};

inline constexpr int kAlertmanagerLifetimeFactor = 4;

// A firing alert as an AlertmanagerNotifier remembers it: the last notification sent for it and
// the startsAt Alertmanager knows it by. The state file keeps these across a restart.
struct AlertmanagerFiring {
  Notification notification;
  TimePoint starts_at{};
};

// `<base>/api/v2/alerts`, or `base` unchanged when it already ends in /api/v2/alerts.
std::string AlertmanagerAlertsUrl(std::string_view base);

// The alert's identity in Alertmanager: alertname (the rule name, verbatim: "failover",
// "error_rate"), the notification's labels (pool…), instance and severity. Label names that
// Prometheus would reject are rewritten ([^a-zA-Z0-9_] → '_'); empty values are left out, as
// Prometheus treats them as absent.
std::map<std::string, std::string> AlertmanagerLabels(const Notification& notification,
                                                      const AlertmanagerOptions& options);

// One element of the POST /api/v2/alerts array: labels, annotations (summary, description —
// the notification's fields and action on one line each —, runbook_url, title), startsAt,
// endsAt, generatorURL. Times in RFC 3339 UTC.
nlohmann::json BuildAlertmanagerAlert(const Notification& notification,
                                      const AlertmanagerOptions& options, TimePoint starts_at,
                                      TimePoint ends_at);

// The post that ends an alert. Its annotations stay those of the problem (`firing`, the last
// firing notification posted; nullptr when unknown), and the resolution's own summary and
// description come as resolution_summary and resolution_description: Alertmanager replaces an
// alert's annotations with every post but may keep counting it as firing (see
// AlertmanagerResolutionEnd), and a message about a firing alert must describe the problem,
// never "Traffic is back". Templates show the resolution_* ones for resolved alerts only.
nlohmann::json BuildAlertmanagerResolution(const Notification* firing,
                                           const Notification& resolution,
                                           const AlertmanagerOptions& options, TimePoint starts_at,
                                           TimePoint ends_at);

// The endsAt of a resolution seen at `resolved_at` (log time) and posted at `now`: the earlier
// of the two. Alertmanager takes an endsAt still ahead of its clock for an update of a firing
// alert, and then keeps the later endsAt of the last firing post (up to 4 re-post intervals):
// the alert would stay firing, and each node of a fleet would resolve at its own re-post's
// horizon instead of when it recovered.
TimePoint AlertmanagerResolutionEnd(TimePoint resolved_at, TimePoint now);

// Posts alerts to one Alertmanager's v2 API (one notifier per Alertmanager, so a dead one
// is retried on its own channel and never holds back the others).
//
// - Send(firing): posts the alert with endsAt = now + 4 × resend_interval and remembers it.
// - Send(resolved): forgets it and posts it with endsAt = the time the resolution was seen
//   (never later than the post, see AlertmanagerResolutionEnd).
// - Resend(now): posts every remembered firing alert again, with a fresh endsAt, and the
//   resolutions of the last 4 intervals as they were. A resolution reaching an Alertmanager
//   whose clock is behind ours has an endsAt in its future, which it overrides with the last
//   firing post's: the next re-post, its endsAt then past, ends the alert there. After 4
//   intervals every firing post's endsAt has passed, and Alertmanager has resolved it anyway.
//   A re-post is not retried: the next one comes an interval later, long before endsAt.
// - ExportState() / ImportState(): what it remembers, saved in the state file and handed back after
// a
//   restart, so an alert still firing keeps being re-posted instead of expiring at its old
//   endsAt (which Alertmanager would announce as a false "resolved").
// A failed Send is retried by the Dispatcher like any notifier (same policy: network errors,
// 5xx and 429 retryable; a 400 from Alertmanager's validation is permanent).
//
// Unless start_resender is false a thread calls Resend(now) every resend_interval until the
// notifier is destroyed (which waits for a re-post on the wire, at most resend_timeout).
// Thread-safe: Send, Resend and ImportState hold one lock across the post, so a re-post can never
// reach Alertmanager after the resolution of the same alert and bring it back to life.
// ExportState takes only a second, short lock and never waits for a post on the wire.
class AlertmanagerNotifier final : public Notifier {
 public:
  // `base_url`: "http://alertmanager:9093" (see AlertmanagerAlertsUrl). `poster` must outlive
  // the notifier.
  AlertmanagerNotifier(std::string base_url, HttpPoster& poster, AlertmanagerOptions options);
  ~AlertmanagerNotifier() override;
  AlertmanagerNotifier(const AlertmanagerNotifier&) = delete;
  AlertmanagerNotifier& operator=(const AlertmanagerNotifier&) = delete;

  std::string_view Name() const override { return options_.name; }
  std::string_view Kind() const override { return "alertmanager"; }
  bool MirrorsState() const override { return true; }
  std::string Destination() const override;  // "alertmanager http://host:9093/<redacted>"
  DeliveryResult Send(const Notification& notification, std::chrono::milliseconds timeout) override;

  // Re-posts the firing alerts and the recent resolutions (nothing when none). Returns the
  // post's outcome; kDelivered when there was nothing to post.
  DeliveryResult Resend(TimePoint now);
  size_t FiringCount() const;

  // The firing alerts it keeps re-posting, in key order. Never waits for a post in flight: the
  // daemon captures it for the state file under its engine lock, and a slow Alertmanager must
  // not stall the run loop.
  std::vector<AlertmanagerFiring> ExportState() const;
  // At start-up, with what ExportState() returned before the restart: remembers the firing ones
  // as if Send(firing) had posted them (same startsAt; no new firing post) and has the resender
  // re-post them at once rather than an interval later (without a resender, the owner calls
  // Resend). An alert it already knows keeps its notification and the earlier startsAt. A
  // later Send(resolved) ends an adopted alert like any other. Returns how many were new.
  size_t ImportState(const std::vector<AlertmanagerFiring>& alerts);

 private:
  TimePoint Now() const { return options_.now ? options_.now() : Clock::now(); }
  TimePoint EndsAt(TimePoint now, TimePoint at) const;
  DeliveryResult PostLocked(const nlohmann::json& alerts, std::chrono::milliseconds timeout);
  void ResendLoop();

  std::string url_;  // may hold user info: only ever leaves this class inside Post()
  HttpPoster& poster_;
  AlertmanagerOptions options_;

  // Serializes posts and every change of firing_; held across the post. Readers of firing_
  // that hold it need no other lock.
  mutable std::mutex mu_;
  // Also held (after mu_, briefly, never across a post) for every change of firing_, so that
  // ExportState() can read it with this lock alone.
  mutable std::mutex firing_mu_;
  std::map<std::string, AlertmanagerFiring> firing_;  // by Notification::Key()
  struct RecentResolution {
    nlohmann::json alert;  // posted again unchanged
    TimePoint until;       // the latest endsAt a firing post of it can have had
  };
  std::map<std::string, RecentResolution> resolved_;  // by Notification::Key(); under mu_
  bool last_resend_failed_ = false;
  prometheus::Counter* resends_ok_ = nullptr;
  prometheus::Counter* resends_failed_ = nullptr;
  prometheus::Gauge* firing_gauge_ = nullptr;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  bool resend_now_ = false;  // ImportState(): re-post without waiting for the interval
  std::thread resender_;
};

}  // namespace poolwatch
