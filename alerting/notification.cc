#include "alerting/notification.h"

namespace poolwatch {

std::string Notification::Key() const {
  std::string key = rule + "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) key += ",";
    key += name + "=" + value;
    first = false;
  }
  return key + "}";
}

std::string Notification::Text() const {
  std::string out = title + "\n" + summary + "\n";
  for (const auto& [name, value] : fields) out += "• " + name + ": " + value + "\n";
  out += "• Time: " + FormatRfc3339(at) + "\n";
  if (!action.empty()) out += "• Action: " + action + "\n";
  if (suppressed > 0) {
    out += "• Suppressed: " + std::to_string(suppressed) + " repeat" +
           (suppressed == 1 ? "" : "s") + " during cooldown\n";
  }
  return out;
}

}  // namespace poolwatch
