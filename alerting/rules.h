#pragma once
// Every rule kind, and MakeRule, which builds one from its configuration.
//
// Adding a rule kind (say latency):
//   1. a RuleKind value and its settings in alerting/alerting_config.h, and its name where
//      config/ reads the rules;
//   2. alerting/latency_rule.{h,cc}: a class deriving from Rule (alerting/rule.h); helpers it
//      shares with the other kinds are in alerting/rule_internal.h; CMake globs the folder's *.cc;
//   3. its header below, and its case in MakeRule (rules.cc);
//   4. tests/alerting/latency_rule_test.cc;
//   5. the other places that name each kind (status, state file, self-metrics): grep RuleKind::.

#include <memory>
#include <string_view>

#include "alerting/alerting_config.h"
#include "alerting/error_rate_rule.h"
#include "alerting/failover_rule.h"
#include "alerting/grouped_rule.h"
#include "alerting/latency_rule.h"
#include "alerting/release_regression_rule.h"
#include "alerting/rule.h"
#include "alerting/slo_rule.h"
#include "alerting/traffic_rule.h"

namespace poolwatch {

// The rule for `config.kind`; with group_by, a GroupedRule of them.
std::unique_ptr<Rule> MakeRule(const RuleConfig& config, std::string_view active_pool);

}  // namespace poolwatch
