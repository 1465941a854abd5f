#include "exporter/pool_resolver.h"

#include "core/same_text.h"

namespace poolwatch {

PoolResolver::PoolResolver(std::map<std::string, std::string> configured, size_t max_learned)
    : max_learned_(max_learned) {
  for (auto& [address, pool] : configured) configured_.emplace(address, pool);
}

std::string_view PoolResolver::Lookup(std::string_view address) const {
  if (lookup_cache_.valid && address == lookup_cache_.address) {
    return lookup_cache_.found == nullptr ? std::string_view() : *lookup_cache_.found;
  }
  const std::string* pool = nullptr;
  if (auto it = configured_.find(address); it != configured_.end()) {
    pool = &it->second;
  } else if (auto it = learned_.find(address); it != learned_.end()) {
    pool = &it->second;
  }
  lookup_cache_.address.assign(address);
  lookup_cache_.found = pool;
  lookup_cache_.valid = true;
  return pool == nullptr ? std::string_view() : *pool;
}

void PoolResolver::Learn(std::string_view address, std::string_view pool) {
  // Nearly every line repeats what the line before taught: skip the hash lookup.
  if (learn_cache_.valid && SameText(address, learn_cache_.address) &&
      SameText(pool, learn_cache_.pool)) {
    return;
  }
  LearnNew(address, pool);
}

[[gnu::noinline]] void PoolResolver::LearnNew(std::string_view address, std::string_view pool) {
  if (address.empty() || address == "-" || pool.empty()) return;
  auto it = learned_.find(address);
  if (it == learned_.end()) {
    // A hostile or churning fleet must not grow memory without bound.
    if (learned_.size() >= max_learned_) return;
    learned_.emplace(std::string(address), std::string(pool));
    lookup_cache_.valid = false;
  } else if (it->second != pool) {
    it->second.assign(pool);  // the address now runs another pool (redeploy)
    lookup_cache_.valid = false;
  }
  // learned_[address] == pool now, until a Learn() of the same address with another pool.
  learn_cache_.address.assign(address);
  learn_cache_.pool.assign(pool);
  learn_cache_.valid = true;
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
  // The header is the truth for the attempt that produced the response.
  const bool header_names_last = !record.attempts.empty() && !record.pool.empty() &&
                                 record.pool != kPoolNone && record.attempts.back().status != 0;
  const size_t looked_up = record.attempts.size() - (header_names_last ? 1 : 0);
  for (size_t i = 0; i < looked_up; ++i) {
    UpstreamAttempt& attempt = record.attempts[i];
    if (!IsServerAddress(attempt.address)) {
      attempt.pool = kPoolNone;
      continue;
    }
    std::string_view pool = Lookup(attempt.address);
    attempt.pool = pool.empty() ? kPoolUnknown : pool;
  }
  if (header_names_last) record.attempts.back().pool = record.pool;
  if (record.pool.empty()) {
    std::string_view pool =
        record.attempts.empty() ? std::string_view() : record.attempts.back().pool;
    record.pool = (pool.empty() || pool == kPoolUnknown) ? kPoolNone : pool;
  }
}

std::map<std::string, std::string> PoolResolver::Known() const {
  std::map<std::string, std::string> all(learned_.begin(), learned_.end());
  for (const auto& [address, pool] : configured_) all[address] = pool;
  return all;
}

std::map<std::string, std::string> PoolResolver::ExportLearned() const {
  std::map<std::string, std::string> out;
  for (const auto& [address, pool] : learned_) {
    if (configured_.count(address) == 0) out.emplace(address, pool);
  }
  return out;
}

void PoolResolver::ImportLearned(const std::map<std::string, std::string>& learned) {
  for (const auto& [address, pool] : learned) Learn(address, pool);
}

}  // namespace poolwatch
