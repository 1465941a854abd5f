#include "alerting/notify/alertmanager_notifier.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "alerting/notify/http_delivery.h"
#include "alerting/notify/redact.h"
#include "alerting/notify/retry_policy.h"

namespace poolwatch {
namespace {

using nlohmann::json;

constexpr std::string_view kAlertsPath = "/api/v2/alerts";

// RFC 3339 with milliseconds: Alertmanager compares endsAt with its clock, and a resolution
// cut to the second could land before the firing post's startsAt.
std::string FormatMillis(TimePoint t) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const long millis = static_cast<long>((since_epoch - seconds).count());
  std::string text = FormatRfc3339(TimePoint(std::chrono::duration_cast<Clock::duration>(seconds)));
  char fraction[32];
  std::snprintf(fraction, sizeof(fraction), ".%03ldZ", millis);
  text.pop_back();  // the 'Z'
  return text + fraction;
}

std::string LabelName(const std::string& name) {
  std::string out = name.empty() ? "_" : name;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) out[i] = '_';
  }
  return out;
}

std::string ReplaceRule(std::string text, const std::string& rule) {
  constexpr std::string_view kPlaceholder = "{rule}";
  for (size_t pos = text.find(kPlaceholder); pos != std::string::npos;
       pos = text.find(kPlaceholder, pos + rule.size())) {
    text.replace(pos, kPlaceholder.size(), rule);
  }
  return text;
}

std::string Description(const Notification& n) {
  std::string out;
  // Appended piece by piece: `name + ": " + value` trips GCC 12's false -Wrestrict.
  for (const auto& [name, value] : n.fields) {
    if (!out.empty()) out += '\n';
    out.append(name).append(": ").append(value);
  }
  if (!n.action.empty()) {
    if (!out.empty()) out += '\n';
    out.append("Action: ").append(n.action);
  }
  return out;
}

json Annotations(const Notification& n, const AlertmanagerOptions& options) {
  json annotations = json::object();
  if (!n.summary.empty()) annotations["summary"] = n.summary;
  if (std::string description = Description(n); !description.empty()) {
    annotations["description"] = std::move(description);
  }
  if (!n.title.empty()) annotations["title"] = n.title;
  if (!options.runbook_url.empty()) {
    annotations["runbook_url"] = ReplaceRule(options.runbook_url, n.rule);
  }
  return annotations;
}

}  // namespace

std::string AlertmanagerAlertsUrl(std::string_view base) {
  if (base.size() >= kAlertsPath.size() &&
      base.substr(base.size() - kAlertsPath.size()) == kAlertsPath) {
    return std::string(base);
  }
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base) + std::string(kAlertsPath);
}

std::map<std::string, std::string> AlertmanagerLabels(const Notification& n,
                                                      const AlertmanagerOptions& options) {
  std::map<std::string, std::string> labels;
  for (const auto& [name, value] : n.labels) {
    if (!value.empty()) labels[LabelName(name)] = value;
  }
  // Set last: a rule label of the same name must not change the alert's identity.
  labels["alertname"] = n.rule;
  if (!options.instance.empty()) labels["instance"] = options.instance;
  if (!n.severity.empty()) labels["severity"] = n.severity;
  return labels;
}

json BuildAlertmanagerAlert(const Notification& n, const AlertmanagerOptions& options,
                            TimePoint starts_at, TimePoint ends_at) {
  json alert = {{"labels", AlertmanagerLabels(n, options)},
                {"annotations", Annotations(n, options)},
                {"startsAt", FormatMillis(starts_at)},
                {"endsAt", FormatMillis(ends_at)}};
  if (!options.generator_url.empty()) alert["generatorURL"] = options.generator_url;
  return alert;
}

json BuildAlertmanagerResolution(const Notification* firing, const Notification& resolution,
                                 const AlertmanagerOptions& options, TimePoint starts_at,
                                 TimePoint ends_at) {
  json alert = BuildAlertmanagerAlert(resolution, options, starts_at, ends_at);
  json annotations = json::object();
  if (firing != nullptr) {
    annotations = Annotations(*firing, options);
  } else if (!options.runbook_url.empty()) {
    annotations["runbook_url"] = ReplaceRule(options.runbook_url, resolution.rule);
  }
  if (!resolution.summary.empty()) annotations["resolution_summary"] = resolution.summary;
  if (std::string description = Description(resolution); !description.empty()) {
    annotations["resolution_description"] = std::move(description);
  }
  alert["annotations"] = std::move(annotations);
  return alert;
}

TimePoint AlertmanagerResolutionEnd(TimePoint resolved_at, TimePoint now) {
  return std::min(resolved_at, now);
}

AlertmanagerNotifier::AlertmanagerNotifier(std::string base_url, HttpPoster& poster,
                                           AlertmanagerOptions options)
    : url_(AlertmanagerAlertsUrl(base_url)), poster_(poster), options_(std::move(options)) {
  if (options_.resend_interval <= std::chrono::milliseconds(0)) {
    options_.resend_interval = std::chrono::seconds(60);
  }
  if (options_.registry != nullptr) {
    auto& resends = prometheus::BuildCounter()
                        .Name("poolwatch_alertmanager_resends_total")
                        .Help(
                            "Re-posts of still-firing alerts to Alertmanager, by result "
                            "(delivered, failed). Not retried: the next comes an interval "
                            "later.")
                        .Register(*options_.registry);
    resends_ok_ = &resends.Add({{"notifier", options_.name}, {"result", "delivered"}});
    resends_failed_ = &resends.Add({{"notifier", options_.name}, {"result", "failed"}});
    firing_gauge_ = &prometheus::BuildGauge()
                         .Name("poolwatch_alertmanager_firing_alerts")
                         .Help("Firing alerts this poolwatch keeps re-posting to Alertmanager.")
                         .Register(*options_.registry)
                         .Add({{"notifier", options_.name}});
  }
  if (options_.start_resender) resender_ = std::thread([this] { ResendLoop(); });
}

AlertmanagerNotifier::~AlertmanagerNotifier() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (resender_.joinable()) resender_.join();
}

std::string AlertmanagerNotifier::Destination() const {
  return options_.name + " " + RedactUrl(url_);
}

TimePoint AlertmanagerNotifier::EndsAt(TimePoint now, TimePoint at) const {
  // `at` is log time; a log clock ahead of ours must not give an alert that ends before it
  // starts (Alertmanager rejects those).
  return std::max(now, at) +
         kAlertmanagerLifetimeFactor *
             std::chrono::duration_cast<Clock::duration>(options_.resend_interval);
}

DeliveryResult AlertmanagerNotifier::PostLocked(const json& alerts,
                                                std::chrono::milliseconds timeout) {
  return PostJsonNotification(
      poster_, url_, "Alertmanager", [&] { return alerts; }, timeout);
}

DeliveryResult AlertmanagerNotifier::Send(const Notification& n,
                                          std::chrono::milliseconds timeout) {
  const TimePoint now = Now();
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = n.Key();
  json alert;
  {
    std::lock_guard<std::mutex> change(firing_mu_);
    if (n.status == AlertStatus::kFiring) {
      // Remembered before posting: if every attempt fails, the re-posts still tell Alertmanager.
      auto [it, inserted] = firing_.try_emplace(key, AlertmanagerFiring{n, n.at});
      if (!inserted) it->second.notification = n;  // keep the first startsAt of the episode
      alert = BuildAlertmanagerAlert(n, options_, it->second.starts_at, EndsAt(now, n.at));
      // A new episode: re-posting the last one's resolution would end it.
      resolved_.erase(key);
    } else if (auto known = resolved_.find(key);
               known != resolved_.end() && !firing_.contains(key)) {
      // The Dispatcher retrying a failed post: the same alert again, the problem's
      // annotations and start included, which firing_ no longer has.
      alert = known->second.alert;
    } else {
      auto it = firing_.find(key);
      const TimePoint ends_at = AlertmanagerResolutionEnd(n.at, now);
      // Unknown start (e.g. poolwatch restarted mid-incident without a state file): a
      // zero-length alert is valid, and resolves the one Alertmanager has, which matches on
      // labels only.
      TimePoint starts_at = ends_at;
      TimePoint until = EndsAt(now, n.at);
      if (it != firing_.end()) {
        starts_at = std::min(it->second.starts_at, ends_at);
        until = EndsAt(now, it->second.notification.at);
        alert =
            BuildAlertmanagerResolution(&it->second.notification, n, options_, starts_at, ends_at);
        firing_.erase(it);
      } else {
        alert = BuildAlertmanagerResolution(nullptr, n, options_, starts_at, ends_at);
      }
      resolved_[key] = RecentResolution{alert, until};
    }
    if (firing_gauge_ != nullptr) firing_gauge_->Set(static_cast<double>(firing_.size()));
  }
  return PostLocked(json::array({std::move(alert)}), timeout);
}

DeliveryResult AlertmanagerNotifier::Resend(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(resolved_, [now](const auto& entry) { return entry.second.until <= now; });
  if (firing_.empty() && resolved_.empty()) return {};
  json alerts = json::array();
  for (const auto& [key, firing] : firing_) {
    alerts.push_back(BuildAlertmanagerAlert(firing.notification, options_, firing.starts_at,
                                            EndsAt(now, firing.notification.at)));
  }
  for (const auto& [key, resolution] : resolved_) alerts.push_back(resolution.alert);
  DeliveryResult result = PostLocked(alerts, options_.resend_timeout);
  const bool failed = result.outcome != DeliveryResult::kDelivered;
  if (failed) {
    if (resends_failed_ != nullptr) resends_failed_->Increment();
  } else if (resends_ok_ != nullptr) {
    resends_ok_->Increment();
  }
  if (options_.log && failed != last_resend_failed_) {
    options_.log(failed ? options_.name + ": re-posting " + std::to_string(firing_.size()) +
                              " firing alert(s) and " + std::to_string(resolved_.size()) +
                              " recent resolution(s) failed (" + result.error +
                              "); trying again every " +
                              std::to_string(options_.resend_interval.count()) + " ms"
                        : options_.name + ": re-posting firing alerts works again");
  }
  last_resend_failed_ = failed;
  return result;
}

size_t AlertmanagerNotifier::FiringCount() const {
  std::lock_guard<std::mutex> lock(firing_mu_);
  return firing_.size();
}

std::vector<AlertmanagerFiring> AlertmanagerNotifier::ExportState() const {
  std::lock_guard<std::mutex> lock(firing_mu_);
  std::vector<AlertmanagerFiring> out;
  out.reserve(firing_.size());
  for (const auto& [key, firing] : firing_) out.push_back(firing);
  return out;
}

size_t AlertmanagerNotifier::ImportState(const std::vector<AlertmanagerFiring>& alerts) {
  size_t adopted = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::lock_guard<std::mutex> change(firing_mu_);
    for (const AlertmanagerFiring& a : alerts) {
      if (a.notification.status != AlertStatus::kFiring) continue;
      auto [it, inserted] = firing_.try_emplace(a.notification.Key(), a);
      if (inserted) {
        ++adopted;
      } else {
        it->second.starts_at = std::min(it->second.starts_at, a.starts_at);
      }
    }
    if (firing_gauge_ != nullptr) firing_gauge_->Set(static_cast<double>(firing_.size()));
  }
  // The re-post goes through the resender rather than a Resend() here: ImportState runs during
  // start-up under the daemon's engine lock, and a post to an Alertmanager that is down would
  // hold start-up for up to resend_timeout per Alertmanager. The resender is the thread that
  // owns re-posts (their metrics, their once-per-change failure log) and posts within
  // milliseconds of the wake-up. It must not wait for its interval: the last post before the
  // restart set endsAt at most 4 intervals ahead, part of which the downtime has used up.
  if (adopted > 0) {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      resend_now_ = true;
    }
    stop_cv_.notify_all();
  }
  return adopted;
}

void AlertmanagerNotifier::ResendLoop() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_) {
    // Scheduled on the steady clock; only endsAt reads the wall clock.
    stop_cv_.wait_for(lock, options_.resend_interval, [this] { return stop_ || resend_now_; });
    if (stop_) break;
    resend_now_ = false;
    lock.unlock();
    Resend(Now());
    lock.lock();
  }
}

}  // namespace poolwatch
