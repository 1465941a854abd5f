#include "exporter/pool_resolver.h"

namespace poolwatch {

PoolResolver::PoolResolver(std::map<std::string, std::string> configured, size_t max_learned)
    : max_learned_(max_learned) {
  for (auto& [address, pool] : configured) configured_.emplace(address, pool);
}

std::string_view PoolResolver::Lookup(std::string_view address) const {
  if (auto it = configured_.find(address); it != configured_.end()) return it->second;
  if (auto it = learned_.find(address); it != learned_.end()) return it->second;
  return {};
}

void PoolResolver::Learn(std::string_view address, std::string_view pool) {
  if (address.empty() || address == "-" || pool.empty()) return;
  auto it = learned_.find(address);
  if (it == learned_.end()) {
    // A hostile or churning fleet must not grow memory without bound.
    if (learned_.size() >= max_learned_) return;
    learned_.emplace(std::string(address), std::string(pool));
  } else if (it->second != pool) {
    it->second.assign(pool);  // the address now runs another pool (redeploy)
  }
}

namespace {
// nginx logs the upstream group's name instead of host:port when no server of the group was
// live: no server was tried, nginx answered itself. ("unix:/path" sockets have a colon too.)
bool IsServerAddress(std::string_view address) {
  return address.find(':') != std::string_view::npos;
}
}  // namespace

void PoolResolver::Resolve(LogRecord& record) {
  if (!record.attempts.empty() && !IsServerAddress(record.attempts.back().address)) {
    // $upstream_http_x_app_pool may still hold the header of an earlier attempt here.
    record.pool = kPoolNone;
  }
  if (!record.attempts.empty() && record.pool != kPoolNone) {
    UpstreamAttempt& last = record.attempts.back();
    if (!record.pool.empty() && last.status != 0) Learn(last.address, record.pool);
  }
  for (UpstreamAttempt& attempt : record.attempts) {
    std::string_view pool = Lookup(attempt.address);
    attempt.pool = !IsServerAddress(attempt.address) ? kPoolNone
                   : pool.empty()                    ? kPoolUnknown
                                                     : pool;
  }
  if (!record.attempts.empty() && !record.pool.empty() && record.pool != kPoolNone) {
    // The header is the truth for the attempt that produced the response.
    UpstreamAttempt& last = record.attempts.back();
    if (last.status != 0) last.pool = record.pool;
  }
  if (record.pool.empty()) {
    std::string_view pool = record.attempts.empty() ? std::string_view() : record.attempts.back().pool;
    record.pool = (pool.empty() || pool == kPoolUnknown) ? kPoolNone : pool;
  }
}

std::map<std::string, std::string> PoolResolver::Known() const {
  std::map<std::string, std::string> all(learned_.begin(), learned_.end());
  for (const auto& [address, pool] : configured_) all[address] = pool;
  return all;
}

}  // namespace poolwatch
