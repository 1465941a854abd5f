#include "config/listen_address.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace poolwatch {
namespace {

bool IsBlank(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The socket an address names, in one spelling: "" and "0.0.0.0" are every interface,
// "localhost" is 127.0.0.1 (as the HTTP server binds it).
std::string Canonical(std::string_view address) {
  const size_t colon = address.rfind(':');
  std::string host(address.substr(0, colon));
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  return host + std::string(address.substr(colon));
}

}  // namespace

std::string ListenAddressProblem(std::string_view address, bool ipv6_available) {
  std::string quoted = "'";
  quoted.append(address).append("'");
  if (address.find(',') != std::string_view::npos) {
    return "one address each, got " + quoted +
           " (repeat --web.listen-address, or give web.listen_address a list)";
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return "expected host:port or :port, got " + quoted;
  const std::string_view host = address.substr(0, colon);
  const std::string_view digits = address.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || digits.front() == '+' || ec != std::errc() ||
      end != digits.data() + digits.size() || port > 65535) {
    return "expected a port from 0 to 65535 after the last ':', got " + quoted;
  }
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (std::any_of(host.begin(), host.end(), IsBlank) ||
      (!bracketed && host.find_first_of(":[]") != std::string_view::npos)) {
    return "expected host:port (an IPv6 host in brackets, [::1]:10090), got " + quoted;
  }
  if (bracketed && !ipv6_available) {
    return "IPv6 is not available in this build, got " + quoted +
           ": the civetweb library poolwatch uses was compiled without IPv6 support (Debian 12's "
           "is), so it cannot listen on an IPv6 address; use an IPv4 one (:10090 listens on "
           "every IPv4 interface)";
  }
  return "";
}

int RepeatedListenAddress(const std::vector<std::string>& addresses) {
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (addresses[i].size() >= 2 && addresses[i].compare(addresses[i].size() - 2, 2, ":0") == 0) {
      continue;
    }
    for (size_t j = 0; j < i; ++j) {
      if (Canonical(addresses[i]) == Canonical(addresses[j])) return static_cast<int>(i);
    }
  }
  return -1;
}

std::vector<std::string> SplitListenAddresses(std::string_view list) {
  std::vector<std::string> addresses;
  while (true) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && IsBlank(item.front())) item.remove_prefix(1);
    while (!item.empty() && IsBlank(item.back())) item.remove_suffix(1);
    if (!item.empty()) addresses.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return addresses;
}

}  // namespace poolwatch
