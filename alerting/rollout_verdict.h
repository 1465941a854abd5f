#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alerting/alert_engine.h"
#include "alerting/release_comparison.h"
#include "alerting/release_windows.h"

namespace poolwatch {

// The rollout verdict (GET /api/v1/verdict): should a rollout of `release` on `pool` go on?
// Pure: the engine's windows and alert states in, a verdict out; the HTTP side only parses the
// query and renders the answer.
//
// - fail: the release is significantly worse than its baseline (CompareWithBaseline, with the
//   first release_regression rule's settings and `compare` if one is configured, else their
//   defaults), or an alert of that pool fires (any rule's alert labelled pool=<pool>, or with no
//   pool label at all; a release_regression alert only for this release);
// - inconclusive: fewer than min_requests on either side, or worse than the bound but not yet
//   significantly so (chance could explain it: a rollout must not go on on that);
// - pass: otherwise.
enum class VerdictOutcome { kPass, kFail, kInconclusive };
std::string_view VerdictOutcomeName(VerdictOutcome outcome);

struct RolloutQuery {
  std::string pool;
  std::string release;  // "": the pool's newest release (the one that most recently started)
  std::optional<Clock::duration> window;      // none: the rule's window, else 5m
  std::optional<RegressionBaseline> compare;  // none: the rule's, else releases
};

// What one side served in the window.
struct VerdictSide {
  std::string release;  // the baseline: its largest release ("" when it has none)
  std::string pool;     // the baseline's largest release's pool (compare: pools)
  size_t releases = 0;  // the baseline: how many releases it combines
  ReleaseSummary summary;
  std::optional<TimePoint> serving_since;  // the release: first request in its pool's slot
};

struct VerdictAlert {
  std::string name;
  RuleKind kind = RuleKind::kFailover;
  bool firing = false;
  double value = 0;
  std::map<std::string, std::string> labels;
};

struct RolloutVerdict {
  // Not empty: the query cannot be answered (unknown pool, window beyond what is kept) and
  // nothing else is filled in.
  std::string error;
  VerdictOutcome outcome = VerdictOutcome::kInconclusive;
  std::string reason;  // one sentence for people
  std::string pool;
  Clock::duration window{};
  RegressionBaseline compare = RegressionBaseline::kOtherReleases;
  RegressionSettings settings;
  RegressionJudgement judgement;
  VerdictSide release;
  VerdictSide baseline;
  std::vector<VerdictAlert> alerts;  // of the pool (see above), firing or not
  TimePoint at{};
};

// `windows` are the engine's verdict windows (AlertEngine::release_windows()); `alerts` its
// Status().rules; `rules` its configuration.
RolloutVerdict DecideRolloutVerdict(const RolloutQuery& query, const ReleaseWindows& windows,
                                    const std::vector<RuleStatus>& alerts,
                                    const std::vector<RuleConfig>& rules, TimePoint now);

}  // namespace poolwatch
