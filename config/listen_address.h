#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace poolwatch {

// What is wrong with one listen address, or "" when it is host:port with a port civetweb can
// bind: "", a name, an IPv4 address or, when `ipv6_available`, a bracketed IPv6 address before
// the last colon. `ipv6_available` comes from the civetweb linked in (CivetwebSupportsIpv6()).
std::string ListenAddressProblem(std::string_view address, bool ipv6_available);

// The index of the first address that names the same socket as an earlier one (":80" and
// "0.0.0.0:80", "localhost:80" and "127.0.0.1:80"), or -1. Port 0 never repeats: each picks
// its own free port.
int RepeatedListenAddress(const std::vector<std::string>& addresses);

// "a, b,c" → {"a", "b", "c"}: POOLWATCH_LISTEN_ADDRESS's list. Blanks around commas and empty
// items are dropped.
std::vector<std::string> SplitListenAddresses(std::string_view list);

}  // namespace poolwatch
