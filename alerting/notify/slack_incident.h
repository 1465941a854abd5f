#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "alerting/notification.h"

namespace poolwatch {

// One incident as the Slack app notifier keeps it: the top message that stands for it and
// what the thread under it has said so far. Plain values, saved in the state file so that a
// restart still updates the same message.
//
// An incident is one alert key (Notification::Key()) from the firing that opened it to the
// resolution that closed it; a firing announced after that is a new incident with a new top
// message. A flap is not: the transitions the cooldown holds back from the channel
// (Notification::state_only, the same ones Alertmanager mirrors) go into the thread of the last
// incident, reopening and closing its top message, so a flapping alert stays one message.
// A resolved incident is kept for that (kSlackKeepResolved), then forgotten.
struct SlackThread {
  std::string key;      // Notification::Key()
  std::string channel;  // the channel ID Slack answered with ("C0123…")
  std::string ts;       // the top message's timestamp: its ID for chat.update and thread_ts
  TimePoint started{};  // log time of the firing that opened it
  int replies = 0;      // thread replies posted
  int suppressed = 0;   // repeats the cooldown held back over the whole incident
  // The highest headline figure seen (see SlackHeadlineFigure) with its name, "Error rate
  // 30%"; "" when the rule has none.
  std::string peak_text;
  double peak = 0;
  bool resolved = false;  // its resolution was delivered; kept for flaps and then forgotten
  TimePoint resolved_at{};
};

// How long a resolved incident is kept for the flaps that may follow it (longer than any
// sensible cooldown).
inline constexpr Clock::duration kSlackKeepResolved = std::chrono::hours(24);

// The figure an escalation is judged by: the first field whose value starts with a number
// followed by '%' (error_rate's "12.5% (25 of 200)"); nullopt when there is none (failover).
// A rate that went up is what the on-call engineer needs to hear about in the thread.
struct SlackFigure {
  std::string name;
  std::string text;  // the number as shown, "12.5%"
  double value = 0;
};
std::optional<SlackFigure> SlackHeadlineFigure(const Notification& notification);

// What to do with a notification, decided from the incident it belongs to (null: none open).
struct SlackPlan {
  // Nothing to tell: a transition held back by the cooldown of an alert with no message.
  bool skip = false;
  // Post a new top message: a firing with no open incident (none, or resolved), or a
  // resolution whose incident is not known (e.g. after a state file was lost).
  bool post_top = false;
  // Update the top message in place and add `reply` to its thread.
  bool update_and_reply = false;
  // The incident ends once this is delivered (a resolution): the next announced firing of the
  // same alert starts a new top message.
  bool closes = false;
  std::string reply;  // mrkdwn, escaped; "" without update_and_reply
  // One context line for the top message: "Firing for 12 min · 3 updates in thread",
  // "Resolved after 12 min".
  std::string status_line;
};

// Pure: the incident's history and the notification in, the plan out. Reply texts:
// - a firing while the incident is open: "Escalated: Error rate 12% → 30%" when the headline
//   figure rose above the peak so far, otherwise "Still firing" (with the summary), each with
//   "(N repeats suppressed)" when the cooldown held some back;
// - a held-back transition (state_only) of a known incident: "⚡ Firing again …" / "Cleared
//   again …", updating the top message (skip when no incident is known);
// - a resolution: one summary line, "Resolved after 12 min · peak Error rate 30% · 4 repeats
//   suppressed · 3 updates".
SlackPlan PlanSlackDelivery(const SlackThread* open, const Notification& notification);

// The thread reply for an incident note (maintenance started or ended); the note is posted in
// the thread of every open incident.
std::string SlackNoteReply(const Notification& note);

// The incident after `notification` was delivered according to `plan` (the top message's
// channel and ts come from the caller). For a new incident `open` is null.
SlackThread AdvanceSlackThread(const SlackThread* open, const Notification& notification,
                               const SlackPlan& plan);

// "45 s", "12 min", "2 h 5 min": a duration as a person reads it in a message.
std::string HumanDuration(Clock::duration d);

}  // namespace poolwatch
