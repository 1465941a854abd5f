#pragma once

#include <optional>
#include <string_view>

namespace poolwatch {

// One datagram of nginx's `access_log syslog:server=…`: RFC 3164 as nginx writes it,
// "<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MESSAGE", without HOSTNAME under `nohostname`. The
// message is the access log line (nginx adds no newline; one a relay adds is dropped). Views
// into the datagram: no copy, no allocation.
struct SyslogMessage {
  int priority = 0;            // facility * 8 + severity (nginx: local7.info, 190)
  std::string_view timestamp;  // "Nov 26 07:00:00" as sent; the line's own time is used instead
  std::string_view host;       // empty under nohostname
  std::string_view tag;        // "nginx" unless tag= says otherwise
  std::string_view message;
};

// nullopt when the datagram is not in that shape (no priority, no timestamp, no "TAG: ").
std::optional<SyslogMessage> ParseNginxSyslog(std::string_view datagram);

}  // namespace poolwatch
