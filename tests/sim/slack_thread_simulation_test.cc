// The Slack app's incident model (PlanSlackDelivery) over simulated traffic: what the engine
// tells people during failovers, with repeats, becomes one top-level message per incident and
// a thread with the rest — over many seeds, not one example. Pure: no Slack, no network.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "alerting/notify/slack_incident.h"
#include "tests/sim/simulation_test_util.h"

namespace poolwatch::sim {
namespace {

constexpr double kRate = 10;

Notification AsNotification(const SentNotification& sent) {
  Notification n;
  n.rule = sent.rule;
  n.labels = sent.labels;
  n.status = sent.firing ? AlertStatus::kFiring : AlertStatus::kResolved;
  n.at = sent.at;
  n.suppressed = sent.suppressed;
  n.summary = sent.text;
  return n;
}

// Slack as the model would leave it: the top messages in posting order, each with its thread.
struct Channel {
  struct Message {
    std::string key;
    int replies = 0;
    bool resolved = false;
    std::string status_line;  // of the last update
  };
  std::vector<Message> messages;
};

Channel Deliver(const std::vector<SentNotification>& sent) {
  Channel channel;
  std::map<std::string, SlackThread> threads;
  std::map<std::string, size_t> message_of;
  for (const SentNotification& s : sent) {
    const Notification n = AsNotification(s);
    const std::string key = n.Key();
    auto it = threads.find(key);
    const SlackThread* known = it == threads.end() ? nullptr : &it->second;
    const SlackPlan plan = PlanSlackDelivery(known, n);
    if (plan.skip) continue;
    if (plan.post_top) {
      message_of[key] = channel.messages.size();
      channel.messages.push_back({key, 0, false, plan.status_line});
    }
    Channel::Message& message = channel.messages[message_of.at(key)];
    if (plan.update_and_reply) {
      ++message.replies;
      message.status_line = plan.status_line;
    }
    message.resolved = plan.closes;
    threads[key] = AdvanceSlackThread(known, n, plan);
  }
  return channel;
}

// Two failovers of 3 to 6 minutes, 10 minutes apart (past the 300 s cooldown), with a repeat
// every minute: each is one top message, resolved in place, its repeats and its all-clear in
// the thread. The webhook would have sent every one of them as a message of its own.
TEST(SlackThreadSimulation, EachFailoverIsOneMessageWithItsRepeatsAndAllClearInTheThread) {
  const Config config = SimulationConfig(
      "alerting:\n  rules:\n    - {name: failover, kind: failover, repeat_interval: 60s}\n");
  const int seeds = 50 * SimulationScale();
  SeedFailures failures;
  std::vector<uint64_t> messages_per_incident_webhook;
  for (int i = 0; i < seeds; ++i) {
    const uint64_t seed = 7000 + static_cast<uint64_t>(i);
    Scenario s;
    s.phases = {Traffic(Minutes(5), kRate, 0),
                AsIncident(PrimaryDown(Seconds(180 + 60 * (seed % 4)), kRate)),
                Traffic(Minutes(10), kRate, 0),
                AsIncident(PrimaryDown(Seconds(180 + 60 * ((seed / 4) % 4)), kRate)),
                Traffic(Minutes(10), kRate, 0)};
    const SimRun run = RunThroughReplayPipeline(s, seed, config);
    const Channel channel = Deliver(run.notifications);

    std::string problems;
    if (channel.messages.size() != run.incidents.size()) {
      problems += std::to_string(channel.messages.size()) + " top messages for " +
                  std::to_string(run.incidents.size()) + " incidents; ";
    }
    int replies = 0;
    for (const Channel::Message& m : channel.messages) {
      replies += m.replies;
      if (!m.resolved) problems += m.key + " not resolved in place; ";
      if (m.replies < 3) {
        problems += m.key + ": " + std::to_string(m.replies) + " replies (repeats + all-clear); ";
      }
      if (m.status_line.rfind("Resolved after ", 0) != 0) {
        problems += "last update says \"" + m.status_line + "\"; ";
      }
    }
    if (static_cast<size_t>(replies) + channel.messages.size() != run.notifications.size()) {
      problems += "notifications lost or doubled: " + std::to_string(run.notifications.size()) +
                  " sent, " + std::to_string(replies) + " replies; ";
    }
    if (!problems.empty()) problems.append("\n").append(Describe(run));
    failures.Check(seed, problems);
    if (!run.incidents.empty()) {
      messages_per_incident_webhook.push_back(run.notifications.size() / run.incidents.size());
    }
  }
  failures.ExpectNone("one top message per incident, the rest in its thread");
  std::printf(
      "slack app: 1 top-level message per incident; the webhook's messages per incident %s\n",
      Distribution(messages_per_incident_webhook).c_str());
}

}  // namespace
}  // namespace poolwatch::sim
