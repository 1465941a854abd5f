#include "web/content_coding.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace poolwatch {
namespace {

bool IsOptionalWhitespace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsOptionalWhitespace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOptionalWhitespace(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// RFC 9110's qvalue: "0" or "1", optionally with up to three decimals ("0.5", "1.000").
std::optional<double> ParseWeight(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  const bool one = text[0] == '1';
  if (text.size() == 1) return one ? 1.0 : 0.0;
  if (text[1] != '.' || text.size() > 5) return std::nullopt;
  double weight = one ? 1.0 : 0.0;
  double scale = 0.1;
  for (char c : text.substr(2)) {
    if (c < '0' || c > '9' || (one && c != '0')) return std::nullopt;
    weight += scale * (c - '0');
    scale /= 10;
  }
  return weight;
}

// One list element: "gzip", "gzip;q=0.5", " * ; Q=0 ". False when it is malformed.
bool ParseElement(std::string_view element, std::string_view& coding, double& weight) {
  const size_t semicolon = element.find(';');
  coding = Trim(element.substr(0, semicolon));
  weight = 1.0;
  if (coding.empty()) return false;
  std::string_view rest = semicolon == std::string_view::npos ? "" : element.substr(semicolon + 1);
  while (!rest.empty()) {
    const size_t next = rest.find(';');
    const std::string_view parameter = rest.substr(0, next);
    rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
    const size_t equals = parameter.find('=');
    if (equals == std::string_view::npos) continue;  // a parameter without value: not a weight
    if (!EqualsIgnoringCase(Trim(parameter.substr(0, equals)), "q")) continue;
    const std::optional<double> q = ParseWeight(Trim(parameter.substr(equals + 1)));
    if (!q) return false;
    weight = *q;
  }
  return true;
}

bool SameCoding(std::string_view a, std::string_view b) {
  const auto gzip = [](std::string_view name) {
    return EqualsIgnoringCase(name, "gzip") || EqualsIgnoringCase(name, "x-gzip");
  };
  return gzip(a) ? gzip(b) : EqualsIgnoringCase(a, b);
}

// The weight of the entries naming `coding` ("*" names only the "*" entry), or none. Listed
// twice (gzip, gzip;q=0): the lower weight, so that a refusal is never overridden.
std::optional<double> ListedWeight(std::string_view accept_encoding, std::string_view coding) {
  std::optional<double> listed;
  while (true) {
    const size_t comma = accept_encoding.find(',');
    std::string_view name;
    double weight;
    if (ParseElement(accept_encoding.substr(0, comma), name, weight) &&
        (coding == "*" ? name == "*" : SameCoding(name, coding))) {
      listed = listed ? std::min(*listed, weight) : weight;
    }
    if (comma == std::string_view::npos) break;
    accept_encoding.remove_prefix(comma + 1);
  }
  return listed;
}

}  // namespace

std::optional<double> AcceptEncodingWeight(std::string_view accept_encoding,
                                           std::string_view coding) {
  if (std::optional<double> own = ListedWeight(accept_encoding, coding)) return own;
  return ListedWeight(accept_encoding, "*");
}

bool GzipAccepted(std::string_view accept_encoding) {
  const std::optional<double> gzip = AcceptEncodingWeight(accept_encoding, "gzip");
  if (!gzip || *gzip <= 0) return false;
  // Only an explicit identity entry competes: unlisted, it is the fallback, not a preference.
  const std::optional<double> identity = ListedWeight(accept_encoding, "identity");
  return !identity || *identity <= *gzip;
}

void AppendGzip(std::string_view data, int level, std::string& out) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  const size_t start = out.size();
  out.resize(start + deflateBound(&stream, static_cast<uLong>(data.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  stream.avail_out = static_cast<uInt>(out.size() - start);
  // deflateBound leaves room for everything, so one call finishes the member.
  const int result = deflate(&stream, Z_FINISH);
  out.resize(start + stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
}

}  // namespace poolwatch
