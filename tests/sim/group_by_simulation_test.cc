// group_by (issue 17) over simulated traffic: one nginx serving two sites, each logging to its
// own file. The small site (the shop) has an error burst, the big one (the blog) stays healthy.
// Judged over many seeds against the simulator's truth: an error_rate rule grouped by site pages
// for the shop's incident, for the shop only, and resolves it; the same rule without group_by
// sees the burst diluted by the blog's traffic below its threshold and stays silent, which is
// why group_by matters for a host serving several sites.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <cstdio>
#include <string>
#include <vector>

#include "app/logger.h"
#include "app/pipeline.h"
#include "tests/sim/simulation_test_util.h"

namespace poolwatch::sim {
namespace {

constexpr double kShopRate = 10;  // requests per second
constexpr double kBlogRate = 90;
constexpr double kBaseline = 0.005;  // 0.5 % errors on both sites, outside the incident
constexpr double kBurst = 0.20;      // 20 % of the shop's requests fail during it
constexpr double kThresholdPercent = 5;

Scenario Shop() {
  Scenario s;
  s.name = "shop";
  s.phases = {Traffic(std::chrono::minutes(5), kShopRate, kBaseline),
              AsIncident(Traffic(std::chrono::minutes(5), kShopRate, kBurst)),
              Traffic(std::chrono::minutes(12), kShopRate, kBaseline)};
  return s;
}

Scenario Blog() {
  Scenario s;
  s.name = "blog";
  s.phases = {Traffic(std::chrono::minutes(22), kBlogRate, kBaseline)};
  return s;
}

// The same error_rate rule twice: per site, and across all lines. A window of 1000 requests
// holds 100 s of the shop's traffic alone, 10 s of both sites'.
Config TwoSiteConfig() {
  const std::string rule =
      "kind: error_rate, threshold_percent: 5, window_size: 1000, min_requests: 100";
  return SimulationConfig(
      "log:\n"
      "  path: /var/log/nginx/*.access.log\n"
      "  path_label: {name: site, regex: '/var/log/nginx/(.+)\\.access\\.log'}\n"
      "alerting:\n"
      "  rules:\n"
      "    - {name: per_site, " +
      rule +
      ", group_by: [site]}\n"
      "    - {name: all_sites, " +
      rule + "}\n");
}

struct TwoSiteRun {
  SimRun shop;  // the shop's truth, with the messages about the shop (or about every site)
  SimRun blog;
  std::vector<SentNotification> all;
  // Measured from the simulator's draws: the shop's error share inside its incident, and the
  // share of both sites' requests together over the same time.
  double shop_incident_percent = 0;
  double mixed_incident_percent = 0;
};

// Both sites' lines in log order through one pipeline, as poolwatch follows two files: each
// line with its file's source, as the reader sets it.
TwoSiteRun RunTwoSites(uint64_t seed, const Config& config) {
  Logger::SetLevel(LogLevel::kWarn);
  prometheus::Registry registry;
  Pipeline pipeline(config, registry, nullptr, AlertEngine::VerdictWindows::kSkipped);
  pipeline.SetFlushEvery(Pipeline::kBatchLines);
  pipeline.SetBacklogBefore(TimePoint::max());
  TwoSiteRun out;
  uint64_t lines = 0;
  pipeline.SetDeliver([&](std::vector<Pipeline::TimedEvaluation>& evaluations) {
    for (const Pipeline::TimedEvaluation& e : evaluations) {
      for (const Notification& n : e.evaluation.notifications) {
        if (n.state_only) continue;
        SentNotification sent;
        sent.at = n.at;
        sent.evaluated_at = e.now;
        sent.requests = lines;
        sent.rule = n.rule;
        sent.firing = n.status == AlertStatus::kFiring;
        sent.labels = n.labels;
        sent.text = n.Text();
        out.all.push_back(std::move(sent));
      }
    }
  });
  LineSource shop_file{{"shop"}, NewLineSourceId()};
  LineSource blog_file{{"blog"}, NewLineSourceId()};
  TrafficSimulator shop(Shop(), seed);
  TrafficSimulator blog(Blog(), seed ^ 0x5eed);
  bool shop_more = shop.Next();
  bool blog_more = blog.Next();
  uint64_t shop_in = 0, shop_in_errors = 0, blog_in = 0, blog_in_errors = 0;
  while (shop_more || blog_more) {
    const bool from_shop = shop_more && (!blog_more || shop.time() <= blog.time());
    TrafficSimulator& sim = from_shop ? shop : blog;
    // The shop's incident times the blog's lines too: both sites' share over the same stretch.
    const bool in_incident = shop_more && shop.in_incident();
    if (in_incident) {
      (from_shop ? shop_in : blog_in) += 1;
      (from_shop ? shop_in_errors : blog_in_errors) += sim.client_error() ? 1 : 0;
    }
    pipeline.SetSource(from_shop ? &shop_file : &blog_file);
    pipeline.ProcessLine(sim.line());
    ++lines;
    pipeline.DeliverPending();
    (from_shop ? shop_more : blog_more) = sim.Next();
  }
  pipeline.EvaluateAt(pipeline.last_record_time());
  pipeline.Flush();
  EXPECT_EQ(pipeline.lines_malformed(), 0u);

  out.shop.incidents = shop.incidents();
  out.blog.incidents = blog.incidents();
  for (const SentNotification& n : out.all) {
    auto site = n.labels.find("site");
    if (site == n.labels.end() || site->second == "shop") out.shop.notifications.push_back(n);
    if (site != n.labels.end() && site->second == "blog") out.blog.notifications.push_back(n);
  }
  out.shop.end = out.blog.end = pipeline.last_record_time();
  out.shop_incident_percent = 100.0 * static_cast<double>(shop_in_errors) / shop_in;
  out.mixed_incident_percent =
      100.0 * static_cast<double>(shop_in_errors + blog_in_errors) / (shop_in + blog_in);
  return out;
}

TEST(GroupBySimulation, AGroupedRulePagesForTheFailingSiteOnlyWhereAnUngroupedOneIsDiluted) {
  const Config config = TwoSiteConfig();
  const int seeds = 50 * SimulationScale();
  int shop_paged = 0, shop_resolved = 0, shop_exactly_once = 0, blog_pages = 0;
  int shop_false_pages = 0, ungrouped_pages = 0;
  std::vector<uint64_t> seconds_to_page;
  double lowest_shop_percent = 100, highest_mixed_percent = 0;
  for (int i = 0; i < seeds; ++i) {
    const uint64_t seed = 1700 + static_cast<uint64_t>(i);
    const TwoSiteRun run = RunTwoSites(seed, config);
    ASSERT_EQ(run.shop.incidents.size(), 1u);
    ASSERT_TRUE(run.blog.incidents.empty());
    // The truth the rates below rest on: the shop alone is well above the threshold, both
    // sites together well below it.
    lowest_shop_percent = std::min(lowest_shop_percent, run.shop_incident_percent);
    highest_mixed_percent = std::max(highest_mixed_percent, run.mixed_incident_percent);

    const RunOutcome grouped = Judge(run.shop, "per_site", Seconds(0));
    const IncidentOutcome& incident = grouped.incidents[0];
    if (incident.firings > 0) {
      ++shop_paged;
      seconds_to_page.push_back(static_cast<uint64_t>(
          std::chrono::duration_cast<Seconds>(*incident.time_to_page).count()));
    }
    if (incident.resolutions > 0 && incident.false_resolutions == 0) ++shop_resolved;
    if (incident.firings == 1 && incident.resolutions == 1) ++shop_exactly_once;
    shop_false_pages += grouped.false_pages;
    for (const SentNotification& n : run.shop.notifications) {
      if (n.rule == "per_site" && n.firing) {
        EXPECT_NE(n.text.find("site: shop"), std::string::npos) << n.text;
      }
    }
    for (const SentNotification& n : run.blog.notifications) blog_pages += n.firing ? 1 : 0;

    const RunOutcome ungrouped = Judge(run.shop, "all_sites", Seconds(0));
    ungrouped_pages += ungrouped.incidents[0].firings + ungrouped.false_pages;
  }
  std::printf(
      "%d seeds: shop's incident %.1f %% errors at least, both sites %.2f %% at most "
      "(threshold %.0f %%)\n  per_site: paged %d, resolved %d, one firing and one resolution %d, "
      "false pages %d, blog pages %d, seconds to page %s\n  all_sites: %d pages\n",
      seeds, lowest_shop_percent, highest_mixed_percent, kThresholdPercent, shop_paged,
      shop_resolved, shop_exactly_once, shop_false_pages, blog_pages,
      Distribution(seconds_to_page).c_str(), ungrouped_pages);
  EXPECT_GT(lowest_shop_percent, 3 * kThresholdPercent);
  EXPECT_LT(highest_mixed_percent, kThresholdPercent * 0.7);

  // Grouped: the shop's incident pages every time, once, and resolves after it is over; the
  // blog never pages. (At 0.5 % a window of 1000 crossing 5 % by chance is about 1e-20.)
  EXPECT_EQ(shop_paged, seeds);
  EXPECT_EQ(shop_resolved, seeds);
  EXPECT_EQ(shop_exactly_once, seeds);
  EXPECT_EQ(shop_false_pages, 0);
  EXPECT_EQ(blog_pages, 0);
  // The shop's window holds 100 s of its traffic: 20 % needs about 25 s to cross 5 %.
  EXPECT_LE(Percentile(seconds_to_page, 100), 60u);
  // Ungrouped: the burst is 2.4 % of all lines, half the threshold: never a page.
  EXPECT_EQ(ungrouped_pages, 0);
}

}  // namespace
}  // namespace poolwatch::sim
