#include "alerting/notify/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace poolwatch {
namespace {

// Receivers' bodies go into one log line: keep them short and on one line.
std::string OneLine(std::string_view body, size_t max_bytes = 200) {
  std::string out;
  for (char c : body.substr(0, max_bytes)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > max_bytes) out += "…";
  return out;
}

}  // namespace

std::chrono::milliseconds ParseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' ||
                            value.back() == '\n')) {
    value.remove_suffix(1);
  }
  if (value.empty() || value.size() > 9) return std::chrono::milliseconds(0);
  long long seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::chrono::milliseconds(0);
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

DeliveryResult ClassifyHttpResult(const HttpResult& result) {
  DeliveryResult out;
  out.http_status = result.status;
  if (!result.error.empty() || result.status <= 0) {
    out.outcome = DeliveryResult::kRetryable;
    out.error = "network error: " + (result.error.empty() ? "no response" : result.error);
    return out;
  }
  if (result.status >= 200 && result.status < 300) {
    out.outcome = DeliveryResult::kDelivered;
    return out;
  }
  out.error = "HTTP " + std::to_string(result.status);
  std::string body = OneLine(result.body);
  if (!body.empty()) out.error += ": " + body;
  if (result.status == 429 || (result.status >= 500 && result.status < 600)) {
    out.outcome = DeliveryResult::kRetryable;
    out.retry_after = ParseRetryAfter(result.retry_after);
  } else {
    out.outcome = DeliveryResult::kPermanent;
  }
  return out;
}

std::chrono::milliseconds FullJitterBackoff(int retry, std::chrono::milliseconds base,
                                            std::chrono::milliseconds cap, double unit_random) {
  if (retry < 1) retry = 1;
  // Double the ceiling step by step and stop at the cap, so 2^retry never overflows.
  std::chrono::milliseconds ceiling = std::min(base, cap);
  for (int i = 1; i < retry && ceiling < cap; ++i) ceiling = std::min(ceiling * 2, cap);
  double unit = std::clamp(unit_random, 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<long long>(std::floor(static_cast<double>(ceiling.count()) * unit)));
}

}  // namespace poolwatch
