#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace poolwatch {

// HTTP basic authentication against bcrypt hashes, verified with crypt(3) (libxcrypt knows
// $2a$, $2b$ and $2y$).
//
// bcrypt is slow on purpose (~60 ms at cost 10). A successful check is remembered as a SHA-256
// of user, password and hash, never the password itself, so a scraper sending the same
// credentials every few seconds pays once. A wrong password, or an unknown user (checked against
// a dummy hash so the answer takes as long), pays every time.
//
// Thread-safe: civetweb calls Allows() from its worker threads.
class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users);

  // `authorization` is the request's Authorization header, "" when it has none.
  bool Allows(std::string_view authorization);

  // crypt(3) of `password` with the salt and cost in `hash`, compared in constant time.
  static bool Verify(const std::string& hash, const std::string& password);
  // A fresh $2b$ hash, for tests and tools.
  static std::string Hash(const std::string& password, int cost = 10);

 private:
  using Digest = std::array<uint8_t, 32>;
  static Digest CacheKey(std::string_view user, std::string_view password, std::string_view hash);

  std::map<std::string, std::string> users_;
  std::string dummy_hash_;
  std::mutex mu_;
  std::set<Digest> verified_;  // bounded: cleared when it grows past kMaxCached
  static constexpr size_t kMaxCached = 1024;
};

// The user and password of "Basic <base64(user:password)>"; false when it is not that.
bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password);

}  // namespace poolwatch
