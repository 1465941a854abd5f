#include "alerting/notify/redact.h"

namespace poolwatch {
namespace {

struct UrlParts {
  std::string_view scheme;    // "https"
  std::string_view userinfo;  // "user:pass", without the '@'
  std::string_view host;      // "hooks.slack.com:443"
  std::string_view rest;      // "/services/T/B/X?x=y#z"
};

bool SplitUrl(std::string_view url, UrlParts* parts) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  parts->scheme = url.substr(0, scheme_end);
  std::string_view after = url.substr(scheme_end + 3);
  size_t authority_end = after.find_first_of("/?#");
  std::string_view authority = after.substr(0, authority_end);
  parts->rest =
      authority_end == std::string_view::npos ? std::string_view{} : after.substr(authority_end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    parts->userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  parts->host = authority;
  return !parts->host.empty();
}

void ReplaceAll(std::string* text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  size_t pos = 0;
  while ((pos = text->find(from, pos)) != std::string::npos) {
    text->replace(pos, from.size(), to);
    pos += to.size();
  }
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  UrlParts parts;
  if (!SplitUrl(url, &parts)) return "<redacted>";
  std::string out = std::string(parts.scheme) + "://" + std::string(parts.host);
  // A bare "/" hides nothing; anything longer may be a token.
  if (parts.rest.size() > 1) out += "/<redacted>";
  return out;
}

std::string ScrubSecret(std::string text, std::string_view url) {
  if (url.empty()) return text;
  ReplaceAll(&text, url, RedactUrl(url));
  UrlParts parts;
  if (SplitUrl(url, &parts)) {
    // Pieces may be echoed on their own ("POST /services/T/B/X failed"). Very short pieces
    // ("/", "a") are not worth mangling unrelated text for.
    if (parts.rest.size() > 2) ReplaceAll(&text, parts.rest, "/<redacted>");
    if (parts.userinfo.size() > 2) ReplaceAll(&text, parts.userinfo, "<redacted>");
    // And single tokens of it (Slack's T…/B…/token, a query's key): any segment of 8 or more
    // characters that is not a plain lower-case word like "services" or "webhooks".
    size_t start = 0;
    std::string_view rest = parts.rest;
    while (start < rest.size()) {
      size_t end = rest.find_first_of("/?&=#;", start);
      if (end == std::string_view::npos) end = rest.size();
      std::string_view segment = rest.substr(start, end - start);
      bool plain_word = true;
      for (char c : segment) plain_word = plain_word && (c >= 'a' && c <= 'z');
      if (segment.size() >= 8 && !plain_word) ReplaceAll(&text, segment, "<redacted>");
      start = end + 1;
    }
  }
  return text;
}

}  // namespace poolwatch
