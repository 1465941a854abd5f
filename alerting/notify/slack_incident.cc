#include "alerting/notify/slack_incident.h"

#include <algorithm>
#include <charconv>

#include "alerting/notify/slack_notifier.h"

namespace poolwatch {
namespace {

std::string Plural(int n, std::string_view one, std::string_view many) {
  std::string out = std::to_string(n);
  out += ' ';
  out += n == 1 ? one : many;
  return out;
}

std::string SuppressedNote(int suppressed) {
  if (suppressed <= 0) return "";
  std::string out = " (";
  return out.append(Plural(suppressed, "repeat", "repeats")).append(" suppressed by the cooldown)");
}

}  // namespace

std::optional<SlackFigure> SlackHeadlineFigure(const Notification& n) {
  for (const auto& [name, value] : n.fields) {
    double number = 0;
    const char* first = value.data();
    const char* last = value.data() + value.size();
    auto [end, ec] = std::from_chars(first, last, number);
    if (ec != std::errc() || end == first || end == last || *end != '%') continue;
    return SlackFigure{name, std::string(first, end + 1), number};
  }
  return std::nullopt;
}

std::string HumanDuration(Clock::duration d) {
  const long seconds =
      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on to_string(…) + " s".
  std::string out;
  if (seconds < 60) return out.append(std::to_string(std::max(seconds, 0L))).append(" s");
  const long minutes = seconds / 60;
  if (minutes < 60) return out.append(std::to_string(minutes)).append(" min");
  out.append(std::to_string(minutes / 60)).append(" h");
  if (minutes % 60 != 0) out.append(" ").append(std::to_string(minutes % 60)).append(" min");
  return out;
}

SlackPlan PlanSlackDelivery(const SlackThread* known, const Notification& n) {
  SlackPlan plan;
  const bool resolved = n.status == AlertStatus::kResolved;
  plan.closes = resolved;
  if (n.state_only) {
    // Held back from the channel by the cooldown: only the thread of a known incident hears.
    if (known == nullptr) {
      plan.skip = true;
      return plan;
    }
    plan.update_and_reply = true;
    const std::string since = HumanDuration(n.at - known->started);
    if (resolved) {
      plan.status_line = "Flapping: cleared again, " + since + " after it started";
      plan.reply = "〰️ Cleared again (the cooldown held this flap back from the channel)";
    } else {
      plan.status_line = "Flapping: firing again, " + since + " after it started";
      plan.reply = "⚡ Firing again within the cooldown (held back from the channel)";
      if (!n.summary.empty()) plan.reply += ": " + EscapeSlackMrkdwn(n.summary);
    }
    return plan;
  }
  const SlackThread* open = known != nullptr && !(known->resolved && !resolved) ? known : nullptr;
  if (open == nullptr) {
    plan.post_top = true;
    if (!resolved) plan.status_line = "Firing since " + FormatRfc3339(n.at);
    return plan;
  }
  plan.update_and_reply = true;
  const std::string duration = HumanDuration(n.at - open->started);
  const int suppressed = open->suppressed + n.suppressed;
  const int replies = open->replies + 1;
  if (resolved) {
    plan.status_line = "Resolved after " + duration;
    std::string line = "✅ Resolved after " + duration;
    if (!open->peak_text.empty()) line += " · peak " + EscapeSlackMrkdwn(open->peak_text);
    if (suppressed > 0) line += " · " + Plural(suppressed, "repeat", "repeats") + " suppressed";
    line += " · " + Plural(open->replies, "update", "updates") + " before this";
    plan.reply = line;
    return plan;
  }
  plan.status_line =
      "Firing for " + duration + " · " + Plural(replies, "update", "updates") + " in the thread";
  const std::optional<SlackFigure> figure = SlackHeadlineFigure(n);
  std::string line;
  if (figure && !open->peak_text.empty() && figure->value > open->peak) {
    line = "📈 Escalated: " + EscapeSlackMrkdwn(open->peak_text) + " → " +
           EscapeSlackMrkdwn(figure->text);
  } else {
    line = "🔁 Still firing after " + duration;
    if (!n.summary.empty()) line += ": " + EscapeSlackMrkdwn(n.summary);
  }
  plan.reply = line + SuppressedNote(n.suppressed);
  return plan;
}

std::string SlackNoteReply(const Notification& note) {
  std::string reply = note.status == AlertStatus::kFiring ? "🔧 " : "▶️ ";
  reply += EscapeSlackMrkdwn(note.summary.empty() ? note.title : note.summary);
  return TruncateForSlack(reply, kSlackMaxFallbackText);
}

SlackThread AdvanceSlackThread(const SlackThread* open, const Notification& n,
                               const SlackPlan& plan) {
  SlackThread next;
  if (open != nullptr && !plan.post_top) {
    next = *open;
    ++next.replies;
  } else {
    next.key = n.Key();
    next.started = n.at;
  }
  next.suppressed += n.suppressed;
  next.resolved = plan.closes;
  next.resolved_at = plan.closes ? n.at : TimePoint{};
  if (const std::optional<SlackFigure> figure = SlackHeadlineFigure(n);
      figure && (next.peak_text.empty() || figure->value > next.peak)) {
    next.peak = figure->value;
    next.peak_text = figure->name + " " + figure->text;
  }
  return next;
}

}  // namespace poolwatch
