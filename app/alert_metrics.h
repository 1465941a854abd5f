#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <vector>

#include "alerting/alert_engine.h"

namespace poolwatch {

// The alerting side's self-metrics: what the rules decided and what they see now. Updated by
// the thread that evaluates; read by scrapes.
class AlertMetrics {
 public:
  explicit AlertMetrics(prometheus::Registry& registry);

  void Count(const std::vector<DecisionRecord>& decisions);
  void Update(const EngineStatus& status);
  void ConfigReloaded(bool ok, TimePoint at);

 private:
  prometheus::Gauge& PoolGauge(prometheus::Family<prometheus::Gauge>& family,
                               std::map<std::string, prometheus::Gauge*>& known,
                               const std::string& pool);

  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Gauge>& firing_;
  prometheus::Family<prometheus::Gauge>& error_ratio_;
  prometheus::Family<prometheus::Gauge>& serving_pool_;
  prometheus::Family<prometheus::Gauge>& active_pool_;
  prometheus::Gauge& maintenance_;
  prometheus::Gauge& reload_ok_;
  prometheus::Gauge& reload_time_;
  std::map<std::string, prometheus::Counter*> decision_counters_;  // "rule\0decision"
  std::map<std::string, prometheus::Gauge*> firing_gauges_, ratio_gauges_, serving_gauges_,
      active_gauges_;
};

}  // namespace poolwatch
