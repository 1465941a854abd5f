#include "alerting/notify/slack_notifier.h"

#include <cctype>
#include <utility>
#include <vector>

#include "alerting/notify/http_delivery.h"
#include "alerting/notify/redact.h"

namespace poolwatch {
namespace {

using nlohmann::json;

constexpr std::string_view kEllipsis = "…";

json Mrkdwn(std::string text) { return json{{"type", "mrkdwn"}, {"text", std::move(text)}}; }

std::string TitleOf(const Notification& n) {
  if (!n.title.empty()) return n.title;
  std::string upper = n.rule;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n.status == AlertStatus::kResolved ? upper + " RESOLVED" : upper;
}

// "*text*", escaped. Built by appending: GCC 12 warns falsely (-Wrestrict) on "*" + string.
std::string Bold(const std::string& text) {
  std::string out = "*";
  return out.append(EscapeSlackMrkdwn(text)).append("*");
}

// "*Name*\nvalue", the layout Slack shows as a two-line field.
std::string FieldText(const std::string& name, const std::string& value) {
  std::string shown_value = value.empty() ? "-" : EscapeSlackMrkdwn(value);
  if (name.empty()) return TruncateForSlack(shown_value, kSlackMaxFieldText);
  return TruncateForSlack(Bold(name).append("\n").append(shown_value), kSlackMaxFieldText);
}

// A URL inside <url|label>: it is ours (config), but '|' or '>' in it would end the link early.
std::string LinkTarget(std::string_view url) {
  std::string out;
  for (char c : url) {
    switch (c) {
      case '|':
        out += "%7C";
        break;
      case '>':
        out += "%3E";
        break;
      case '<':
        out += "%3C";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RunbookFor(const std::string& runbook_url, const std::string& rule) {
  std::string out = runbook_url;
  constexpr std::string_view kPlaceholder = "{rule}";
  for (size_t pos = out.find(kPlaceholder); pos != std::string::npos;
       pos = out.find(kPlaceholder, pos + rule.size())) {
    out.replace(pos, kPlaceholder.size(), rule);
  }
  return out;
}

}  // namespace

std::string EscapeSlackMrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string TruncateForSlack(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  if (max_bytes < kEllipsis.size()) return {};
  size_t cut = max_bytes - kEllipsis.size();
  // Back off UTF-8 continuation bytes so no character is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  // Back off a partial entity ("&am"), which Slack would show as garbage. Entities we write
  // are at most 5 bytes ("&amp;").
  size_t amp = text.rfind('&', cut == 0 ? 0 : cut - 1);
  if (amp != std::string_view::npos && cut - amp < 5 &&
      text.substr(amp, cut - amp).find(';') == std::string_view::npos) {
    cut = amp;
  }
  return std::string(text.substr(0, cut)) + std::string(kEllipsis);
}

json BuildSlackPayload(const Notification& n, const SlackOptions& options,
                       std::string_view status_line) {
  const bool firing = n.status == AlertStatus::kFiring;
  const std::string emoji(AlertEmoji(n));

  json blocks = json::array();
  // plain_text is shown literally, so the header needs no mrkdwn escaping.
  blocks.push_back({{"type", "header"},
                    {"text",
                     {{"type", "plain_text"},
                      {"text", TruncateForSlack(emoji + " " + TitleOf(n), kSlackMaxHeaderText)},
                      {"emoji", true}}}});

  // Context: who, when, what to do. At most kSlackMaxContextElements elements.
  json context = json::array();
  context.push_back(Mrkdwn(TruncateForSlack(
      "*Alert:* " + EscapeSlackMrkdwn(n.Key()) + "  ·  *Time:* " + FormatRfc3339(n.at),
      kSlackMaxSectionText)));
  if (!n.action.empty()) {
    context.push_back(
        Mrkdwn(TruncateForSlack("*Action:* " + EscapeSlackMrkdwn(n.action), kSlackMaxSectionText)));
  }
  if (!status_line.empty()) {
    context.push_back(Mrkdwn(TruncateForSlack(
        std::string("*Incident:* ").append(EscapeSlackMrkdwn(status_line)), kSlackMaxSectionText)));
  }
  if (n.suppressed > 0) {
    context.push_back(Mrkdwn("*Suppressed:* " + std::to_string(n.suppressed) + " repeat" +
                             (n.suppressed == 1 ? "" : "s") + " during cooldown"));
  }

  std::string links;
  if (!options.dashboard_url.empty()) {
    // Appended in steps: `"<" + std::string` trips GCC 12's false -Wrestrict once inlined.
    links.append("<").append(LinkTarget(options.dashboard_url)).append("|Dashboard>");
  }
  if (!options.runbook_url.empty()) {
    if (!links.empty()) links += "  ·  ";
    links.append("<")
        .append(LinkTarget(RunbookFor(options.runbook_url, n.rule)))
        .append("|Runbook>");
  }
  if (!options.status_url.empty()) {
    if (!links.empty()) links += "  ·  ";
    links.append("<").append(LinkTarget(options.status_url)).append("|Status page>");
  }
  if (!options.maintenance_url.empty()) {
    if (!links.empty()) links += "  ·  ";
    links.append("<").append(LinkTarget(options.maintenance_url)).append("|Set maintenance>");
  }

  // Sections: the summary and the fields, ten fields per section, within the block budget
  // left after header, context and links.
  const size_t other_blocks = 2 + (links.empty() ? 0 : 1);
  const size_t max_sections = kSlackMaxBlocks - other_blocks;
  const size_t max_fields = max_sections * kSlackMaxFieldsPerSection;
  std::vector<std::string> fields;
  for (const auto& [name, value] : n.fields) fields.push_back(FieldText(name, value));
  if (!options.instance.empty()) fields.push_back(FieldText("Instance", options.instance));
  if (fields.size() > max_fields) {
    size_t omitted = fields.size() - (max_fields - 1);
    fields.resize(max_fields - 1);
    fields.push_back("_… " + std::to_string(omitted) + " more fields omitted_");
  }
  for (size_t i = 0; i == 0 || i < fields.size(); i += kSlackMaxFieldsPerSection) {
    json section = {{"type", "section"}};
    if (i == 0 && !n.summary.empty()) {
      section["text"] = Mrkdwn(TruncateForSlack(Bold(n.summary), kSlackMaxSectionText));
    }
    json section_fields = json::array();
    for (size_t j = i; j < fields.size() && j < i + kSlackMaxFieldsPerSection; ++j) {
      section_fields.push_back(Mrkdwn(fields[j]));
    }
    if (!section_fields.empty()) section["fields"] = std::move(section_fields);
    // Slack rejects a section with neither text nor fields.
    if (section.contains("text") || section.contains("fields")) blocks.push_back(section);
  }

  blocks.push_back({{"type", "context"}, {"elements", std::move(context)}});
  if (!links.empty()) {
    blocks.push_back({{"type", "context"}, {"elements", json::array({Mrkdwn(links)})}});
  }

  json payload;
  // Slack shows the top-level text above the attachment and in notifications, and requires
  // it. A headline, not Notification::Text(): the full text would repeat every field that the
  // attachment already shows.
  std::string headline = TitleOf(n) + (n.summary.empty() ? "" : ": " + n.summary);
  payload["text"] =
      TruncateForSlack(emoji + " " + EscapeSlackMrkdwn(headline), kSlackMaxFallbackText);
  payload["attachments"] =
      json::array({{{"color", firing ? kSlackColorFiring : kSlackColorResolved},
                    {"blocks", std::move(blocks)}}});
  return payload;
}

SlackNotifier::SlackNotifier(std::string webhook_url, HttpPoster& poster, SlackOptions options)
    : webhook_url_(std::move(webhook_url)), poster_(poster), options_(std::move(options)) {}

std::string SlackNotifier::Destination() const {
  return options_.name + " " + RedactUrl(webhook_url_);
}

DeliveryResult SlackNotifier::Send(const Notification& notification,
                                   std::chrono::milliseconds timeout) {
  return PostJsonNotification(
      poster_, webhook_url_, "Slack", [&] { return BuildSlackPayload(notification, options_); },
      timeout);
}

}  // namespace poolwatch
