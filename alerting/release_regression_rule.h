#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/release_comparison.h"
#include "alerting/release_windows.h"
#include "alerting/rule.h"

namespace poolwatch {

// release_regression: the release just deployed is worse than the one before. Per pool, every
// release that served in the last `window` is compared with its baseline in that window, and
// an alert labelled {pool, release} fires when its 5xx share is significantly worse
// (CompareWithBaseline, release_comparison.h: above max(baseline + min_increase_points,
// baseline × min_ratio), min_requests on each side, significant at `confidence`).
//
// Baseline: with compare: releases (the default), the other releases of the same pool,
// combined; with compare: pools (a canary split across pools), the requests of every other pool
// with a release other than this one. The message names the baseline's largest release as "the
// baseline release" (and how many others it combines); the counts are the whole baseline's.
// Requests without a release header and a pool's "other releases" slot (ReleaseWindows'
// cap) are neither judged nor part of a baseline.
//
// With `for`, the finding must hold that long (log time) before the alert is active. A firing
// alert stays firing while the release is above the bound, significantly or not (hysteresis:
// the exact test is not run for it then). It resolves once the release is no longer above the
// bound (or there are too few requests on a side to judge) for ResolveFor() (60 s) and over
// ResolveRequests() (2 × min_requests) of the release's requests, or for two windows at traffic too
// low to bring them; or at once when the release served nothing in the whole window (it was rolled
// back or replaced: nothing left to be worse). That last one is judged only after the rule has
// watched a whole window (since its start, or a SIGHUP that changed the window): after a restart,
// fresh windows say nothing yet.
//
// Alerts are created when a (pool, release) first fires, so a site deploying many releases
// does not collect one alert for each; at most kMaxAlerts, beyond which a regression is judged
// but not alerted (Detail says so). Memory: ReleaseWindows without latency; Observe() is its
// Observe (allocation-free in the steady state); Evaluate() sums each release's ring once
// (ReleaseWindows::kBuckets + 1 buckets), builds every baseline from totals (a sort of the
// releases that served, O(n log n)), and allocates nothing unless an alert is new.
class ReleaseRegressionRule : public Rule {
 public:
  static constexpr size_t kMaxAlerts = 256;

  explicit ReleaseRegressionRule(RuleConfig config);

  using Rule::Observe;
  void Observe(const LogRecord& record, std::string_view serving_pool) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  void RestoreActive(size_t i, TimePoint since) override;
  std::string_view serving_pool() const override { return serving_; }

  const ReleaseWindows& windows() const { return windows_; }

  // What a release is compared with in `window` at `now`: the combined summary, the largest
  // release in it ("" if none) and how many releases it combines. Public for the rollout verdict.
  struct Baseline {
    ReleaseSummary summary;
    std::string_view largest;
    std::string_view largest_pool;
    size_t releases = 0;
  };
  static Baseline BaselineOf(const ReleaseWindows& windows, std::string_view pool,
                             std::string_view release, RegressionBaseline compare, TimePoint now,
                             Clock::duration window);

 private:
  struct Instance {
    std::string pool;
    std::string release;
    // The last judgement's figures, for messages.
    uint64_t requests = 0;
    uint64_t errors = 0;
    uint64_t baseline_requests = 0;
    uint64_t baseline_errors = 0;
    std::string baseline_release;
    std::string baseline_pool;
    size_t baseline_releases = 0;
    double bound_percent = 0;
    bool seen = false;  // served in the window at the last evaluation
    bool breaching = false;
    TimePoint breach_since{};
    bool clearing = false;
    TimePoint clear_since{};
    uint64_t observed_at_clear = 0;
    uint64_t clear_requests = 0;
    TimePoint cleared_at{};
    bool stopped = false;  // the last episode ended because the release stopped serving
  };

  // Requests, 5xx and releases summed over several releases.
  struct Totals {
    uint64_t requests = 0;
    uint64_t errors = 0;
    size_t releases = 0;
    void Add(const ReleaseWindows::Counts& c) {
      requests += c.requests;
      errors += c.errors;
      ++releases;
    }
    void Subtract(const Totals& t) {
      requests -= t.requests;
      errors -= t.errors;
      releases -= t.releases;
    }
  };
  // One release's requests and 5xx in the window at an evaluation.
  struct SlotCounts {
    size_t pool;  // index into windows_.pools()
    const ReleaseWindows::Slot* slot;
    ReleaseWindows::Counts counts;
    Totals same_release;  // compare: pools: this release in every pool, this one included
  };
  // A release's baseline at an evaluation (names point into the windows).
  struct Side {
    uint64_t requests = 0;
    uint64_t errors = 0;
    std::string_view largest;
    std::string_view largest_pool;
    size_t releases = 0;
  };

  int FindAlert(std::string_view pool, std::string_view release) const;
  int AddAlert(std::string_view pool, std::string_view release);
  void Judge(size_t i, const ReleaseWindows::Counts& release, const Side& baseline,
             const RegressionJudgement& judgement, uint64_t observed, TimePoint now);
  void NotServing(size_t i, TimePoint now);
  std::string Comparison(size_t i) const;
  std::vector<std::pair<std::string, std::string>> Fields(size_t i) const;

  ReleaseWindows windows_;
  // Evaluate's scratch, reserved for every slot: no allocation while evaluating.
  std::vector<SlotCounts> counts_;
  std::vector<uint32_t> order_;
  std::array<Totals, ReleaseWindows::kMaxPools> pool_totals_{};
  // compare: releases: each pool's two largest releases (indices into counts_, in order_'s
  // order; kNone when absent), so finding a release's largest baseline release is O(1), not a
  // walk of every pool's releases (O(n²) an evaluation at 20 pools × 20 releases).
  static constexpr uint32_t kNone = UINT32_MAX;
  std::array<std::array<uint32_t, 2>, ReleaseWindows::kMaxPools> pool_largest_{};
  std::vector<Instance> instances_;  // parallel to conditions_
  std::string serving_;
  bool started_ = false;
  TimePoint watch_start_{};
  TimePoint last_evaluated_{};
  uint64_t unalerted_ = 0;  // findings beyond kMaxAlerts at the last evaluation
};

// 1512 → "1,512": counts in messages.
std::string FormatCount(uint64_t count);
// 3.14159 → "3.1 %", 0.04 → "0.04 %": a share as the message shows it.
std::string FormatShare(double percent);

}  // namespace poolwatch
