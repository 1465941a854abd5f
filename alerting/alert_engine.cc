#include "alerting/alert_engine.h"

#include <chrono>
#include <utility>

#include "alerting/rule_internal.h"

namespace poolwatch {
namespace {

bool SameRule(const RuleConfig& a, const RuleConfig& b) {
  if (a.name != b.name || a.kind != b.kind) return false;
  // Other groups hold other lines' windows.
  if (a.group_by != b.group_by) return false;
  // A client window and per-pool upstream windows hold different data: not the same rule.
  const bool scoped = a.kind == RuleKind::kErrorRate || a.kind == RuleKind::kLatency;
  if (scoped) return a.scope == b.scope;
  // Another pool's requests, and another label on the alert.
  if (a.kind == RuleKind::kTraffic) return a.pool == b.pool;
  // slo: the counts carry over only while they count the same requests.
  if (a.kind == RuleKind::kSlo) {
    return a.scope == b.scope && a.sli == b.sli && a.pool == b.pool &&
           (a.sli != SloIndicator::kLatency || a.latency_threshold == b.latency_threshold);
  }
  return true;
}

}  // namespace

AlertEngine::AlertEngine(AlertingConfig config, VerdictWindows verdict_windows)
    : config_(std::move(config)),
      maintenance_(config_.maintenance),
      maintenance_until_(config_.maintenance_until),
      keep_verdict_windows_(verdict_windows == VerdictWindows::kKept) {
  for (const RuleConfig& rule : config_.rules) {
    slots_.push_back(MakeSlot(rule, config_.active_pool));
  }
}

AlertEngine::~AlertEngine() = default;

AlertEngine::Slot AlertEngine::MakeSlot(const RuleConfig& config, std::string_view active_pool) {
  return Slot{MakeRule(config, active_pool), NotificationPolicy(config), {}};
}

void AlertEngine::Observe(const LogRecord& record) {
  const std::string_view pool = ServingPoolOf(record);
  if (!pool.empty() && !rule_internal::SameText(pool, serving_)) {
    serving_.assign(pool);
    serving_since_ = record.time;
  }
  for (Slot& slot : slots_) slot.rule->Observe(record, pool);
  if (keep_verdict_windows_) release_windows_.Observe(record, pool);
}

bool AlertEngine::MaintenanceActive(TimePoint now) const {
  return maintenance_ && (!maintenance_until_ || now < *maintenance_until_);
}

void AlertEngine::SetMaintenance(bool on, std::optional<TimePoint> until) {
  maintenance_ = on;
  maintenance_until_ = on ? until : std::nullopt;
}

bool AlertEngine::FailoverFiringAwayFrom(const std::string& pool) const {
  for (const Slot& slot : slots_) {
    if (slot.rule->config().kind != RuleKind::kFailover) continue;
    for (const AlertCondition& c : slot.rule->conditions()) {
      if (!c.active) continue;
      auto it = c.labels.find("pool");
      if (it != c.labels.end() && it->second == pool) return true;
    }
  }
  return false;
}

void AlertEngine::ForgetErrorsOfEndedFailovers() {
  for (const Slot& failover : slots_) {
    if (failover.rule->config().kind != RuleKind::kFailover) continue;
    const std::vector<AlertCondition>& conditions = failover.rule->conditions();
    for (size_t i = 0; i < conditions.size(); ++i) {
      const AlertCondition& c = conditions[i];
      // Ended since the last evaluation: active then (states hold the previous condition), or
      // latched (began and ended in between). `since` is when traffic came back.
      const bool ended = !c.active && (failover.states[i].active || c.episodes_started > 0);
      if (!ended) continue;
      auto pool = c.labels.find("pool");
      if (pool == c.labels.end()) continue;
      // Without this, the pool's upstream window still holds the errors of the failover (nginx
      // retried them elsewhere) and its error_rate alert would fire the moment inhibition
      // lifts: a second page for an incident already paged and resolved. (The same for the
      // slow attempts of an upstream latency window: a timing-out primary is a failover too.)
      for (Slot& slot : slots_) {
        if (slot.rule->config().kind != RuleKind::kFailover) {
          slot.rule->ForgetErrorsOfFailover(pool->second, c.since);
        }
      }
    }
  }
}

Evaluation AlertEngine::Evaluate(TimePoint now) {
  Evaluation out;
  last_now_ = now;
  if (!pending_.empty()) {
    for (Notification& n : pending_) n.at = now;
    out.notifications = std::move(pending_);
    pending_.clear();
  }
  if (maintenance_ && maintenance_until_ && now >= *maintenance_until_) SetMaintenance(false);
  const bool maintenance = maintenance_;

  // All rules before any policy, so inhibition sees this tick's failover state; failover rules
  // first, so a failover that just ended takes its errors out of the upstream windows before
  // they are judged.
  for (Slot& slot : slots_) {
    if (slot.rule->config().kind != RuleKind::kFailover) continue;
    slot.rule->Evaluate(now);
    slot.states.resize(slot.rule->conditions().size());
  }
  if (config_.inhibit_error_rate_during_failover) ForgetErrorsOfEndedFailovers();
  for (Slot& slot : slots_) {
    if (slot.rule->config().kind == RuleKind::kFailover) continue;
    slot.rule->Evaluate(now);
    slot.states.resize(slot.rule->conditions().size());
  }

  for (Slot& slot : slots_) {
    const RuleConfig& rc = slot.rule->config();
    const std::vector<AlertCondition>& conditions = slot.rule->conditions();
    const bool can_be_inhibited =
        config_.inhibit_error_rate_during_failover &&
        (rc.kind == RuleKind::kErrorRate || rc.kind == RuleKind::kLatency) &&
        rc.scope == ErrorScope::kUpstream;
    for (size_t i = 0; i < conditions.size(); ++i) {
      const AlertCondition& c = conditions[i];
      AlertPolicyState& state = slot.states[i];
      PolicyInput input;
      input.muted = maintenance && rc.MutedInMaintenance();
      if (can_be_inhibited) {
        auto it = c.labels.find("pool");
        input.inhibited = it != c.labels.end() && FailoverFiringAwayFrom(it->second);
      }
      const bool first = !state.decided;
      const Decision previous = state.last_decision;
      const int previous_suppressed = state.suppressed;
      const PolicyResult r = slot.policy.Decide(c, input, now, state);

      const size_t sent_before = out.notifications.size();
      if (r.send_firing) {
        Notification n = slot.rule->Firing(i, now);
        n.suppressed = r.suppressed;
        if (r.repeat) {
          n.summary = "Still firing: " + n.summary;
          n.fields.emplace_back("Firing since", FormatRfc3339(c.since));
          n.at = now;
        }
        out.notifications.push_back(std::move(n));
      }
      if (r.send_resolved) {
        Notification n = slot.rule->Resolved(i, now);
        n.suppressed = r.send_firing ? 0 : r.suppressed;
        out.notifications.push_back(std::move(n));
      }
      if (r.mirror_firing) {
        out.notifications.push_back(slot.rule->Firing(i, now));
        out.notifications.back().state_only = true;
      }
      if (r.mirror_resolved) {
        out.notifications.push_back(slot.rule->Resolved(i, now));
        out.notifications.back().state_only = true;
      }
      for (size_t k = sent_before; k < out.notifications.size(); ++k) {
        out.notifications[k].notifiers = rc.notify;
      }
      if (!first && r.decision == previous && out.notifications.size() == sent_before &&
          state.suppressed == previous_suppressed) {
        continue;  // nothing new: keep the tick cheap
      }
      std::string detail = r.detail;
      if (r.decision == Decision::kSuppressedCooldown && state.last_fired) {
        const auto left =
            std::chrono::duration_cast<std::chrono::seconds>(*state.last_fired + rc.cooldown - now);
        detail += " (" + std::to_string(left.count()) + "s left, " +
                  std::to_string(state.suppressed) + " suppressed)";
      }
      if (!detail.empty()) detail += "; ";
      detail += slot.rule->Detail(i);
      out.decisions.push_back(DecisionRecord{rc.name, r.decision, std::move(detail), c.labels});
      if (r.decision == Decision::kFired && r.send_resolved) {
        // A latched episode: it fired and resolved between two evaluations.
        out.decisions.push_back(
            DecisionRecord{rc.name, Decision::kResolved, "latched episode ended", c.labels});
      }
    }
  }
  return out;
}

void AlertEngine::Reconfigure(AlertingConfig config) {
  if (config.maintenance != config_.maintenance ||
      config.maintenance_until != config_.maintenance_until) {
    SetMaintenance(config.maintenance, config.maintenance_until);
  }
  std::vector<Slot> old = std::move(slots_);
  std::vector<bool> taken(old.size(), false);
  slots_.clear();
  for (const RuleConfig& rc : config.rules) {
    bool kept = false;
    for (size_t j = 0; j < old.size() && !kept; ++j) {
      if (taken[j] || !SameRule(old[j].rule->config(), rc)) continue;
      taken[j] = true;
      kept = true;
      old[j].rule->Reconfigure(rc, config.active_pool);
      old[j].policy = NotificationPolicy(rc);
      slots_.push_back(std::move(old[j]));
    }
    if (!kept) slots_.push_back(MakeSlot(rc, config.active_pool));
  }
  for (size_t j = 0; j < old.size(); ++j) {
    if (taken[j]) continue;
    const Rule& rule = *old[j].rule;
    for (size_t i = 0; i < old[j].states.size(); ++i) {
      const AlertPolicyState& state = old[j].states[i];
      // A mirrored alert (held back from people by the cooldown) is resolved for the mirrors
      // alone; an Alertmanager notifier would otherwise re-post it forever.
      const bool to_people = state.announced && rule.config().send_resolved;
      if (!state.announced && !state.mirrored) continue;
      // The rule's own resolved message for title, labels and severity; its fields would
      // describe a condition that did not clear, so they go.
      Notification n = rule.Resolved(i, last_now_);
      n.summary = "Rule removed or changed in the configuration";
      n.fields.clear();
      n.action.clear();
      n.suppressed = state.suppressed;
      n.notifiers = rule.config().notify;
      n.state_only = !to_people;
      pending_.push_back(std::move(n));
    }
  }
  config_ = std::move(config);
}

EngineStatus AlertEngine::Status(TimePoint now) const {
  EngineStatus status;
  status.active_pool = config_.active_pool;
  status.serving_pool = serving_;
  status.serving_since = serving_since_;
  status.maintenance = MaintenanceActive(now);
  if (status.maintenance) status.maintenance_until = maintenance_until_;
  for (const Slot& slot : slots_) {
    const RuleConfig& rc = slot.rule->config();
    const std::vector<AlertCondition>& conditions = slot.rule->conditions();
    if (conditions.empty()) {
      RuleStatus rs;
      rs.name = rc.name;
      rs.kind = rc.kind;
      rs.threshold = rc.kind == RuleKind::kErrorRate ? rc.threshold_percent : 1;
      rs.window_size = rc.kind == RuleKind::kErrorRate ? rc.window_size : 0;
      if (rc.kind == RuleKind::kLatency) {
        rs.threshold = std::chrono::duration<double>(rc.latency_threshold).count();
        rs.window_size = rc.window_size;
      }
      rs.serving_pool = std::string(slot.rule->serving_pool());
      rs.last_decision = std::string(DecisionName(Decision::kTooFewRequests));
      status.rules.push_back(std::move(rs));
      continue;
    }
    for (size_t i = 0; i < conditions.size(); ++i) {
      const AlertCondition& c = conditions[i];
      const AlertPolicyState state = i < slot.states.size() ? slot.states[i] : AlertPolicyState{};
      RuleStatus rs;
      rs.name = rc.name;
      rs.kind = rc.kind;
      rs.firing = c.active;
      rs.value = c.value;
      rs.threshold = c.threshold;
      rs.window_fill = c.window_fill;
      rs.window_size = c.window_size;
      rs.serving_pool = std::string(slot.rule->serving_pool());
      rs.last_decision = std::string(DecisionName(state.last_decision));
      rs.labels = c.labels;
      rs.since = c.since;
      rs.announced = state.announced;
      rs.suppressed = state.suppressed;
      status.rules.push_back(std::move(rs));
    }
  }
  return status;
}

EngineState AlertEngine::ExportState() const {
  EngineState state;
  state.maintenance = maintenance_;
  state.maintenance_until = maintenance_until_;
  for (const Slot& slot : slots_) {
    const RuleConfig& rc = slot.rule->config();
    for (size_t i = 0; i < slot.states.size(); ++i) {
      const AlertPolicyState& s = slot.states[i];
      if (!s.announced && !s.last_fired && s.suppressed == 0) continue;
      state.alerts.push_back(AlertStateRecord{rc.name, rc.kind, slot.rule->conditions()[i].labels,
                                              s.announced, s.last_fired, s.suppressed});
    }
    for (RuleCounters& counters : slot.rule->ExportAllCounters()) {
      state.counters.push_back(std::move(counters));
    }
  }
  return state;
}

std::vector<std::string> AlertEngine::ImportState(const EngineState& state) {
  std::vector<std::string> ignored;
  SetMaintenance(state.maintenance, state.maintenance_until);
  for (const RuleCounters& counters : state.counters) {
    std::string problem = "no rule of that name and kind";
    for (Slot& slot : slots_) {
      const RuleConfig& rc = slot.rule->config();
      if (rc.name != counters.rule || rc.kind != counters.kind) continue;
      // One group's counts are not the whole rule's, nor the other way round.
      problem = counters.group.empty() == rc.group_by.empty() ? slot.rule->ImportCounters(counters)
                                                              : "saved with another group_by";
      break;
    }
    if (!problem.empty()) {
      ignored.push_back("saved counts of rule " + counters.rule + " (" +
                        std::string(RuleKindName(counters.kind)) + ") ignored: " + problem);
    }
  }
  for (const AlertStateRecord& record : state.alerts) {
    for (Slot& slot : slots_) {
      const RuleConfig& rc = slot.rule->config();
      if (rc.name != record.rule || rc.kind != record.kind) continue;
      const int i = slot.rule->FindOrAddAlert(record.labels);
      if (i < 0) break;
      // The rule may have created the alert just now; its condition fills in at Evaluate().
      slot.states.resize(slot.rule->conditions().size());
      AlertPolicyState& s = slot.states[static_cast<size_t>(i)];
      s.announced = record.announced;
      s.last_fired = record.last_fired;
      s.suppressed = record.suppressed;
      s.restored = record.announced;
      s.restored_at.reset();
      if (record.announced) {
        s.active = true;
        slot.rule->RestoreActive(static_cast<size_t>(i), record.last_fired.value_or(TimePoint{}));
      }
      break;
    }
  }
  return ignored;
}

}  // namespace poolwatch
