#include "alerting/rollout_verdict.h"

#include <algorithm>

#include "alerting/release_regression_rule.h"

namespace poolwatch {
namespace {

const RuleConfig* RegressionRule(const std::vector<RuleConfig>& rules) {
  for (const RuleConfig& rule : rules) {
    if (rule.kind == RuleKind::kReleaseRegression) return &rule;
  }
  return nullptr;
}

// The pool's release that most recently started serving.
const ReleaseWindows::Slot* Newest(const ReleaseWindows::Pool& pool) {
  const ReleaseWindows::Slot* newest = nullptr;
  for (const ReleaseWindows::Slot& slot : pool.releases) {
    if (slot.in_use && (newest == nullptr || slot.first_seen > newest->first_seen)) newest = &slot;
  }
  return newest;
}

// Alerts about this pool and release: labelled with the pool (and, if with a release, this
// one), or with no pool at all.
bool Concerns(const RuleStatus& alert, const std::string& pool, const std::string& release) {
  // A rule with no alert yet shows as one entry without labels: for the kinds whose alerts
  // always name a pool, that is a placeholder, not an alert about every pool.
  const bool always_per_pool =
      alert.kind == RuleKind::kLatency || alert.kind == RuleKind::kReleaseRegression;
  if (always_per_pool && alert.labels.empty()) return false;
  const auto p = alert.labels.find("pool");
  if (p != alert.labels.end() && p->second != pool) return false;
  const auto r = alert.labels.find("release");
  return r == alert.labels.end() || r->second == release;
}

}  // namespace

std::string_view VerdictOutcomeName(VerdictOutcome outcome) {
  switch (outcome) {
    case VerdictOutcome::kPass:
      return "pass";
    case VerdictOutcome::kFail:
      return "fail";
    case VerdictOutcome::kInconclusive:
      return "inconclusive";
  }
  return "inconclusive";
}

RolloutVerdict DecideRolloutVerdict(const RolloutQuery& query, const ReleaseWindows& windows,
                                    const std::vector<RuleStatus>& alerts,
                                    const std::vector<RuleConfig>& rules, TimePoint now) {
  RolloutVerdict v;
  v.at = now;
  v.pool = query.pool;
  const RuleConfig* rule = RegressionRule(rules);
  if (rule != nullptr) {
    v.settings = RegressionSettings::Of(*rule);
    v.compare = rule->compare;
    v.window = std::min<Clock::duration>(rule->window, windows.span());
  } else {
    v.window = std::chrono::minutes(5);
  }
  if (query.compare) v.compare = *query.compare;
  if (query.window) v.window = *query.window;
  if (v.window <= Clock::duration::zero() || v.window > windows.span()) {
    v.error = "window must be above 0 and at most " + FormatDuration(windows.span(), "") +
              " (what poolwatch keeps)";
    return v;
  }
  const ReleaseWindows::Pool* pool = windows.FindPool(query.pool);
  if (query.pool.empty() || pool == nullptr) {
    v.error = query.pool.empty() ? "pool is required"
                                 : "unknown pool '" + query.pool + "': no request of it seen";
    return v;
  }
  const ReleaseWindows::Slot* slot =
      query.release.empty() ? Newest(*pool) : windows.Find(query.pool, query.release);
  v.release.release = query.release.empty() && slot != nullptr ? slot->release : query.release;
  v.release.pool = query.pool;
  if (slot != nullptr) {
    windows.AddTo(*slot, now, v.window, v.release.summary);
    v.release.serving_since = slot->first_seen;
  }
  ReleaseRegressionRule::Baseline baseline = ReleaseRegressionRule::BaselineOf(
      windows, query.pool, v.release.release, v.compare, now, v.window);
  v.baseline.summary = baseline.summary;
  v.baseline.release = std::string(baseline.largest);
  v.baseline.pool = std::string(baseline.largest_pool);
  v.baseline.releases = baseline.releases;
  v.judgement =
      CompareWithBaseline(v.release.summary.requests, v.release.summary.errors,
                          v.baseline.summary.requests, v.baseline.summary.errors, v.settings);

  std::string firing;
  for (const RuleStatus& alert : alerts) {
    if (!Concerns(alert, query.pool, v.release.release)) continue;
    v.alerts.push_back(
        VerdictAlert{alert.name, alert.kind, alert.firing, alert.value, alert.labels});
    if (alert.firing && firing.empty()) firing = alert.name;
  }

  if (v.judgement.finding == RegressionFinding::kWorse) {
    v.outcome = VerdictOutcome::kFail;
    v.reason = "the release's 5xx share is significantly above its baseline's bound";
  } else if (!firing.empty()) {
    v.outcome = VerdictOutcome::kFail;
    v.reason = "alert " + firing + " fires for pool " + query.pool;
  } else if (v.release.release.empty()) {
    v.outcome = VerdictOutcome::kInconclusive;
    v.reason = "no release has served in pool " + query.pool + " yet";
  } else if (v.judgement.finding == RegressionFinding::kTooFewRequests) {
    v.outcome = VerdictOutcome::kInconclusive;
    v.reason = "fewer than " + std::to_string(v.settings.min_requests) +
               " requests of the release or of its baseline in the window";
  } else if (v.judgement.finding == RegressionFinding::kNotSignificant) {
    v.outcome = VerdictOutcome::kInconclusive;
    v.reason = "the release's 5xx share is above its baseline's bound, not yet significantly";
  } else {
    v.outcome = VerdictOutcome::kPass;
    v.reason = "the release is not worse than its baseline and no alert fires for the pool";
  }
  return v;
}

}  // namespace poolwatch
