#include "alerting/grouped_rule.h"

#include <utility>

#include "alerting/rule_internal.h"

namespace poolwatch {
namespace {

using rule_internal::SameText;

// A group's value as people read it: "" (lines without the label) would be invisible.
std::string ShownValue(const std::string& value) { return value.empty() ? "(none)" : value; }

}  // namespace

GroupedRule::GroupedRule(RuleConfig config, std::string_view active_pool, InnerFactory make_inner)
    : Rule(std::move(config)),
      inner_config_(config_),
      make_inner_(make_inner),
      active_pool_(active_pool) {
  inner_config_.group_by.clear();
}

size_t GroupedRule::GroupOf(const LineSource* source) {
  // Compared in place, so a line from a file met before allocates nothing; only a new
  // combination builds its values (and, past the cap, a file of the "other" group each time its
  // lines follow another file's: at most once per file per read).
  for (size_t g = 0; g < groups_.size(); ++g) {
    const Group& group = groups_[g];
    bool same = true;
    for (size_t k = 0; k < config_.group_by.size() && same; ++k) {
      const size_t at = config_.group_by[k].value_index;
      const std::string_view value = source != nullptr && at < source->values.size()
                                         ? std::string_view(source->values[at])
                                         : std::string_view();
      same = SameText(group.values[k], value);
    }
    if (same) return g;
  }
  std::vector<std::string> values;
  for (const RuleConfig::GroupLabel& label : config_.group_by) {
    const size_t at = label.value_index;
    values.push_back(source != nullptr && at < source->values.size() ? source->values[at] : "");
  }
  return FindOrAddGroup(std::move(values));
}

size_t GroupedRule::FindOrAddGroup(std::vector<std::string> values) {
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].values == values) return g;
  }
  if (groups_.size() < kMaxGroups) return AddGroup(std::move(values));
  // Past the cap every new combination is one "other" group: a bounded number of windows and
  // alert keys whatever the paths hold.
  std::vector<std::string> other(config_.group_by.size(), std::string(kOtherValue));
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].values == other) return g;
  }
  return AddGroup(std::move(other));
}

size_t GroupedRule::AddGroup(std::vector<std::string> values) {
  Group group;
  for (size_t k = 0; k < config_.group_by.size(); ++k) {
    group.labels[config_.group_by[k].name] = values[k];
  }
  group.values = std::move(values);
  group.rule = make_inner_(inner_config_, active_pool_);
  groups_.push_back(std::move(group));
  const size_t g = groups_.size() - 1;
  // Kinds that have an alert from the start (client scope error_rate, failover) show it at once.
  AddNewAlerts(g);
  return g;
}

void GroupedRule::AddNewAlerts(size_t g) {
  Group& group = groups_[g];
  const std::vector<AlertCondition>& inner = group.rule->conditions();
  while (group.alerts.size() < inner.size()) {
    const size_t j = group.alerts.size();
    AlertCondition condition = inner[j];
    for (const auto& [name, value] : group.labels) condition.labels[name] = value;
    group.alerts.push_back(conditions_.size());
    conditions_.push_back(std::move(condition));
    places_.push_back(AlertPlace{g, j});
  }
}

void GroupedRule::CopyCondition(size_t i) {
  const AlertPlace& place = places_[i];
  CopyAllButLabels(groups_[place.group].rule->conditions()[place.inner], conditions_[i]);
}

void GroupedRule::Observe(const LogRecord& record, std::string_view serving_pool) {
  if (!serving_pool.empty() && !SameText(serving_pool, serving_)) serving_.assign(serving_pool);
  const uint64_t source = record.source != nullptr ? record.source->id : 0;
  if (!routed_ || source != last_source_) {
    last_group_ = GroupOf(record.source);
    last_source_ = source;
    routed_ = true;
  }
  groups_[last_group_].rule->Observe(record, serving_pool);
}

void GroupedRule::Evaluate(TimePoint now) {
  for (size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].rule->Evaluate(now);
    AddNewAlerts(g);
  }
  for (size_t i = 0; i < conditions_.size(); ++i) CopyCondition(i);
}

Notification GroupedRule::WithGroup(Notification n, size_t g) const {
  const Group& group = groups_[g];
  std::string which;
  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t k = 0; k < config_.group_by.size(); ++k) {
    const std::string& name = config_.group_by[k].name;
    n.labels[name] = group.values[k];
    if (!which.empty()) which += ", ";
    which += name + " " + ShownValue(group.values[k]);
    fields.emplace_back(name, ShownValue(group.values[k]));
  }
  // First in the message, so the on-call sees at once which site it is about.
  n.summary = "[" + which + "] " + n.summary;
  fields.insert(fields.end(), n.fields.begin(), n.fields.end());
  n.fields = std::move(fields);
  return n;
}

Notification GroupedRule::Firing(size_t i, TimePoint now) const {
  const AlertPlace& place = places_[i];
  return WithGroup(groups_[place.group].rule->Firing(place.inner, now), place.group);
}

Notification GroupedRule::Resolved(size_t i, TimePoint now) const {
  const AlertPlace& place = places_[i];
  return WithGroup(groups_[place.group].rule->Resolved(place.inner, now), place.group);
}

std::string GroupedRule::Detail(size_t i) const {
  const AlertPlace& place = places_[i];
  std::string which;
  for (size_t k = 0; k < config_.group_by.size(); ++k) {
    if (!which.empty()) which += ",";
    which += config_.group_by[k].name + "=" + ShownValue(groups_[place.group].values[k]);
  }
  return which + ": " + groups_[place.group].rule->Detail(place.inner);
}

void GroupedRule::Reconfigure(const RuleConfig& config, std::string_view active_pool) {
  config_ = config;
  inner_config_ = config;
  inner_config_.group_by.clear();
  active_pool_ = std::string(active_pool);
  for (Group& group : groups_) group.rule->Reconfigure(inner_config_, active_pool);
  for (size_t g = 0; g < groups_.size(); ++g) AddNewAlerts(g);
  for (size_t i = 0; i < conditions_.size(); ++i) CopyCondition(i);
}

int GroupedRule::FindOrAddAlert(const Labels& labels) {
  std::vector<std::string> values;
  Labels own = labels;
  for (const RuleConfig::GroupLabel& label : config_.group_by) {
    auto it = own.find(label.name);
    values.push_back(it == own.end() ? "" : it->second);
    if (it != own.end()) own.erase(it);
  }
  const size_t g = FindOrAddGroup(std::move(values));
  const int j = groups_[g].rule->FindOrAddAlert(own);
  if (j < 0) return -1;
  AddNewAlerts(g);
  return static_cast<int>(groups_[g].alerts[static_cast<size_t>(j)]);
}

void GroupedRule::RestoreActive(size_t i, TimePoint since) {
  const AlertPlace& place = places_[i];
  groups_[place.group].rule->RestoreActive(place.inner, since);
  CopyCondition(i);
}

std::vector<RuleCounters> GroupedRule::ExportAllCounters() const {
  std::vector<RuleCounters> out;
  for (const Group& group : groups_) {
    for (RuleCounters& counters : group.rule->ExportAllCounters()) {
      counters.group = group.labels;
      out.push_back(std::move(counters));
    }
  }
  return out;
}

std::string GroupedRule::ImportCounters(const RuleCounters& counters) {
  if (counters.group.size() != config_.group_by.size()) return "saved with another group_by";
  std::vector<std::string> values;
  for (const RuleConfig::GroupLabel& label : config_.group_by) {
    auto it = counters.group.find(label.name);
    if (it == counters.group.end()) return "saved with another group_by";
    values.push_back(it->second);
  }
  const size_t g = FindOrAddGroup(std::move(values));
  if (groups_[g].labels != counters.group) {
    return "more groups than " + std::to_string(kMaxGroups) + ": counted in the other group";
  }
  RuleCounters inner = counters;
  inner.group.clear();
  return groups_[g].rule->ImportCounters(inner);
}

void GroupedRule::ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) {
  // A failover rule's alert names a pool, not a site: every group forgets that pool's errors,
  // as an ungrouped rule would.
  for (Group& group : groups_) group.rule->ForgetErrorsOfFailover(pool, ended_at);
}

}  // namespace poolwatch
