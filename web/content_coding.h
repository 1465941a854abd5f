#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace poolwatch {

// The weight (0 to 1) an Accept-Encoding header value gives `coding` (RFC 9110 12.5.3): its own
// entry's q (1 without one), else the "*" entry's, else none when the header does not mention
// it. Names compare case-insensitively and "x-gzip" counts as "gzip". An entry whose q is not a
// valid weight (q=2, q=abc) is ignored, as if the client had not sent it.
std::optional<double> AcceptEncodingWeight(std::string_view accept_encoding,
                                           std::string_view coding);

// True when a response may be sent gzip'd to a client that sent this Accept-Encoding: gzip has
// a weight above 0 and identity was not asked for with a higher one. No header, or one that
// does not mention gzip or "*", gets the plain text (as Prometheus's own clients do).
bool GzipAccepted(std::string_view accept_encoding);

// zlib's level 1 (Z_BEST_SPEED), the level client_golang's promhttp uses for /metrics: the
// exposition's repeated names and labels compress about 10:1 even at the fastest level, and a
// higher level costs a scrape several times the CPU for a few percent fewer bytes.
inline constexpr int kMetricsGzipLevel = 1;

// Appends `data` compressed as one gzip member (RFC 1952) to `out`.
void AppendGzip(std::string_view data, int level, std::string& out);

}  // namespace poolwatch
