#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alerting/rule.h"

namespace poolwatch {

// A rule with `group_by` (issue 17): one inner rule of the same kind per distinct combination of
// the named source labels (a site's file, say), so one site's burst is judged against that
// site's traffic instead of being diluted by the others'. Each group's alerts carry the group's
// labels ({site=shop} besides the kind's own), so keys, cooldowns, dedup, threads and
// resolution are per group. The inner rules never see the group labels.
//
// A group is made when its first line (or a restored alert or saved counts) arrives; at most
// kMaxGroups, after which every new combination shares one group whose values are all
// kOtherValue, as the request metrics cap their labels. A line without a source (or lacking a
// value) belongs to the group whose value is "".
//
// Alert indexes: this rule's conditions are its groups' conditions in the order they first
// appeared, each copied (all but the labels, so without allocating) after the inner rule's
// Evaluate(); indexes stay valid for the life of the rule as Rule requires.
class GroupedRule : public Rule {
 public:
  static constexpr size_t kMaxGroups = 50;
  static constexpr std::string_view kOtherValue = "other";

  // `config.group_by` is not empty; the inner rules are made by `make_inner` from `config`
  // without its group_by.
  using InnerFactory = std::unique_ptr<Rule> (*)(const RuleConfig&, std::string_view);
  GroupedRule(RuleConfig config, std::string_view active_pool, InnerFactory make_inner);

  using Rule::Observe;
  void Observe(const LogRecord& record, std::string_view serving_pool) override;
  void Evaluate(TimePoint now) override;
  Notification Firing(size_t i, TimePoint now) const override;
  Notification Resolved(size_t i, TimePoint now) const override;
  std::string Detail(size_t i) const override;
  void Reconfigure(const RuleConfig& config, std::string_view active_pool) override;
  int FindOrAddAlert(const Labels& labels) override;
  void RestoreActive(size_t i, TimePoint since) override;
  std::vector<RuleCounters> ExportAllCounters() const override;
  std::string ImportCounters(const RuleCounters& counters) override;
  std::string_view serving_pool() const override { return serving_; }
  void ForgetErrorsOfFailover(std::string_view pool, TimePoint ended_at) override;

  size_t group_count() const { return groups_.size(); }
  // The labels of group `g`, e.g. {site=shop}.
  const Labels& group_labels(size_t g) const { return groups_[g].labels; }
  const Rule& group_rule(size_t g) const { return *groups_[g].rule; }

 private:
  struct Group {
    Labels labels;                    // name → value, one per config_.group_by entry
    std::vector<std::string> values;  // the same values, in config_.group_by's order
    std::unique_ptr<Rule> rule;
    std::vector<size_t> alerts;  // the inner rule's alert j is this rule's alerts[j]
  };
  struct AlertPlace {
    size_t group = 0;
    size_t inner = 0;
  };

  // The group of the lines of `source`, made if new (the "other" group past the cap).
  size_t GroupOf(const LineSource* source);
  // The group with these values (parallel to config_.group_by), made if new and under the cap
  // (or the "other" group); `values` is taken only when a group is made.
  size_t FindOrAddGroup(std::vector<std::string> values);
  size_t AddGroup(std::vector<std::string> values);
  // Appends this rule's alerts for the inner alerts group `g` made since the last call.
  void AddNewAlerts(size_t g);
  // Alert `i`'s condition as its inner rule has it, keeping the labels.
  void CopyCondition(size_t i);
  // Adds group `g`'s labels to an inner rule's message, and says which group it is about.
  Notification WithGroup(Notification n, size_t g) const;

  RuleConfig inner_config_;  // config_ without group_by
  InnerFactory make_inner_;
  std::string active_pool_;
  std::vector<Group> groups_;
  std::vector<AlertPlace> places_;  // parallel to conditions_
  // The last line's source id and group: a file's lines arrive together, so routing a line is
  // usually one compare. 0 is "no source" (ids are never 0); routed_ is false before any line.
  uint64_t last_source_ = 0;
  size_t last_group_ = 0;
  bool routed_ = false;
  std::string serving_;
};

}  // namespace poolwatch
