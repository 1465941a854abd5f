#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/log_record.h"

namespace poolwatch {

// Gives every upstream attempt a pool. nginx's $upstream_http_x_app_pool describes only the
// last attempt, so the failed first try of a retried request ("500, 200") would otherwise be
// blamed on the pool that answered. Addresses are learned from completed requests; an explicit
// map from the config wins over what is learned.
//
// Not thread-safe: owned by the thread that parses lines.
class PoolResolver {
 public:
  explicit PoolResolver(std::map<std::string, std::string> configured = {},
                        size_t max_learned = 1024);

  // Fills attempts[i].pool, and record.pool when nginx logged no pool header: the last
  // attempt's pool when known, else "none" (nginx answered itself). Views written into the
  // record point into this resolver and stay valid while it lives.
  void Resolve(LogRecord& record);

  // address → pool, configured and learned (learned first overwritten by configured).
  std::map<std::string, std::string> Known() const;
  void Learn(std::string_view address, std::string_view pool);

  // The learned addresses the configuration does not name (it names them again at the next
  // start), as a value for the state file; ImportLearned() learns them back after a restart.
  std::map<std::string, std::string> ExportLearned() const;
  void ImportLearned(const std::map<std::string, std::string>& learned);

 private:
  // Learn() past its one-entry cache, out of line: the per-line cache hit then needs no stack
  // frame for the hash lookup and the strings.
  void LearnNew(std::string_view address, std::string_view pool);
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, std::string, Hash, std::equal_to<>>;

  std::string_view Lookup(std::string_view address) const;

  Map configured_;
  Map learned_;
  size_t max_learned_;

  // One-entry caches in front of the maps: consecutive lines nearly always name the same
  // server and pool. The lookup cache holds a pointer into a map node (stable), and is dropped
  // whenever learned_ changes; a copy of the resolver starts with empty caches.
  struct Cache {
    std::string address;
    std::string pool;                    // Learn(): learned_[address] == pool
    const std::string* found = nullptr;  // Lookup(): the map's value, or nullptr
    bool valid = false;
    Cache() = default;
    Cache(const Cache&) {}
    Cache& operator=(const Cache&) {
      valid = false;
      return *this;
    }
  };
  mutable Cache lookup_cache_;
  Cache learn_cache_;
};

}  // namespace poolwatch
