#include "app/alert_metrics.h"

#include "exporter/metrics.h"

namespace poolwatch {
namespace {
// Pools come from response headers; past this many, new names share one series.
constexpr size_t kMaxPoolSeries = 20;
}  // namespace

AlertMetrics::AlertMetrics(prometheus::Registry& registry)
    : decisions_(prometheus::BuildCounter()
                     .Name("poolwatch_alert_decisions_total")
                     .Help("Rule evaluations that changed something or were held back, by rule "
                           "and decision (fired, resolved, in_cooldown, inhibited, …).")
                     .Register(registry)),
      firing_(prometheus::BuildGauge()
                  .Name("poolwatch_alert_firing")
                  .Help("1 while an alert of the rule is firing.")
                  .Register(registry)),
      error_ratio_(prometheus::BuildGauge()
                       .Name("poolwatch_rule_error_ratio")
                       .Help("Share of 5xx (0..1) in the rule's sliding window now; the "
                             "highest pool for upstream-scoped rules.")
                       .Register(registry)),
      serving_pool_(prometheus::BuildGauge()
                        .Name("poolwatch_serving_pool")
                        .Help("1 for the pool that answered the latest request, 0 for others.")
                        .Register(registry)),
      active_pool_(prometheus::BuildGauge()
                       .Name("poolwatch_active_pool")
                       .Help("1 for the expected primary pool (ACTIVE_POOL).")
                       .Register(registry)),
      maintenance_(prometheus::BuildGauge()
                       .Name("poolwatch_maintenance_mode")
                       .Help("1 while maintenance mode mutes alerts.")
                       .Register(registry)
                       .Add({})),
      reload_ok_(prometheus::BuildGauge()
                     .Name("poolwatch_config_last_reload_successful")
                     .Help("0 when the last reload failed and the previous config is in use.")
                     .Register(registry)
                     .Add({})),
      reload_time_(prometheus::BuildGauge()
                       .Name("poolwatch_config_last_reload_success_timestamp_seconds")
                       .Help("When the configuration was last loaded successfully.")
                       .Register(registry)
                       .Add({})) {
  reload_ok_.Set(1);
}

void AlertMetrics::ConfigReloaded(bool ok, TimePoint at) {
  reload_ok_.Set(ok ? 1 : 0);
  if (ok) {
    reload_time_.Set(std::chrono::duration<double>(at.time_since_epoch()).count());
  }
}

void AlertMetrics::Count(const std::vector<DecisionRecord>& decisions) {
  for (const DecisionRecord& d : decisions) {
    std::string name(DecisionName(d.decision));
    std::string key = d.rule + '\0' + name;
    auto it = decision_counters_.find(key);
    if (it == decision_counters_.end()) {
      it = decision_counters_.emplace(key, &decisions_.Add({{"rule", d.rule}, {"decision", name}}))
               .first;
    }
    it->second->Increment();
  }
}

prometheus::Gauge& AlertMetrics::PoolGauge(prometheus::Family<prometheus::Gauge>& family,
                                           std::map<std::string, prometheus::Gauge*>& known,
                                           const std::string& pool) {
  std::string label = known.size() >= kMaxPoolSeries && known.count(pool) == 0
                          ? std::string(kOverflowLabel)
                          : SanitizeLabelValue(pool);
  auto it = known.find(label);
  if (it == known.end()) it = known.emplace(label, &family.Add({{"pool", label}})).first;
  return *it->second;
}

void AlertMetrics::Update(const EngineStatus& status) {
  maintenance_.Set(status.maintenance ? 1 : 0);
  for (auto& [pool, gauge] : active_gauges_) gauge->Set(0);
  PoolGauge(active_pool_, active_gauges_, status.active_pool).Set(1);
  for (auto& [pool, gauge] : serving_gauges_) gauge->Set(0);
  if (!status.serving_pool.empty()) {
    PoolGauge(serving_pool_, serving_gauges_, status.serving_pool).Set(1);
  }
  std::map<std::string, double> ratio, firing;
  for (const RuleStatus& rule : status.rules) {
    if (rule.kind == RuleKind::kErrorRate) {
      ratio[rule.name] = std::max(ratio[rule.name], rule.value / 100.0);
    }
    firing[rule.name] = std::max(firing[rule.name], rule.firing ? 1.0 : 0.0);
  }
  auto set = [](prometheus::Family<prometheus::Gauge>& family,
                std::map<std::string, prometheus::Gauge*>& known,
                const std::map<std::string, double>& values) {
    for (const auto& [rule, value] : values) {
      auto it = known.find(rule);
      if (it == known.end()) it = known.emplace(rule, &family.Add({{"rule", rule}})).first;
      it->second->Set(value);
    }
    // Rules a reload removed: their series go, or a firing 1 would stay on scrapes forever.
    for (auto it = known.begin(); it != known.end();) {
      if (values.count(it->first) != 0) {
        ++it;
        continue;
      }
      family.Remove(it->second);
      it = known.erase(it);
    }
  };
  set(error_ratio_, ratio_gauges_, ratio);
  set(firing_, firing_gauges_, firing);
}

}  // namespace poolwatch
