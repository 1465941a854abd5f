#pragma once

#include <string>
#include <string_view>

namespace poolwatch {

// A webhook URL with everything secret removed: scheme and host[:port] kept, user info
// dropped, path and query replaced: "https://hooks.slack.com/services/T/B/X" →
// "https://hooks.slack.com/<redacted>". Slack's webhook path *is* the credential, so this is
// the only form of the URL that may appear in logs, errors, metrics or status output.
// Something that does not look like a URL comes back as "<redacted>".
std::string RedactUrl(std::string_view url);

// `text` with every occurrence of `url`, of its path-and-query, of its user info, and of each
// token-like piece of its path or query (8+ characters, not a plain lower-case word) replaced
// by redacted forms. For error text that may echo the URL (curl messages, response bodies).
std::string ScrubSecret(std::string text, std::string_view url);

}  // namespace poolwatch
