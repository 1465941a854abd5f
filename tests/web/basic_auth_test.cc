#include "web/basic_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace poolwatch {
namespace {

std::string Basic(const std::string& credentials) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : credentials) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  return "Basic " + out;
}

TEST(BasicAuthHeader, ParsesUserAndPasswordWithColonsInThePassword) {
  std::string user, password;
  ASSERT_TRUE(ParseBasicAuthorization(Basic("prom:pa:ss"), &user, &password));
  EXPECT_EQ(user, "prom");
  EXPECT_EQ(password, "pa:ss");
  ASSERT_TRUE(ParseBasicAuthorization("basic   " + Basic("a:").substr(6) + " ", &user, &password));
  EXPECT_EQ(user, "a");
  EXPECT_EQ(password, "");
}

TEST(BasicAuthHeader, RejectsOtherSchemesAndGarbage) {
  std::string user, password;
  EXPECT_FALSE(ParseBasicAuthorization("", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Bearer abc", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization(Basic("no-colon"), &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic", &user, &password));
}

TEST(BasicAuth, VerifiesBcryptOf2bAnd2yHashes) {
  const std::string hash = BasicAuth::Hash("s3cret", 4);
  ASSERT_EQ(hash.substr(0, 4), "$2b$");
  EXPECT_TRUE(BasicAuth::Verify(hash, "s3cret"));
  EXPECT_FALSE(BasicAuth::Verify(hash, "s3creT"));
  std::string y = hash;
  y[2] = 'y';  // htpasswd writes $2y$, the same algorithm
  EXPECT_TRUE(BasicAuth::Verify(y, "s3cret"));
  EXPECT_FALSE(BasicAuth::Verify("not a hash", "s3cret"));
  EXPECT_FALSE(BasicAuth::Verify("", ""));
}

TEST(BasicAuth, AllowsOnlyKnownUsersWithTheirPassword) {
  BasicAuth auth({{"prom", BasicAuth::Hash("s3cret", 4)}, {"graf", BasicAuth::Hash("other", 4)}});
  EXPECT_TRUE(auth.Allows(Basic("prom:s3cret")));
  EXPECT_TRUE(auth.Allows(Basic("prom:s3cret")));  // from the cache now
  EXPECT_FALSE(auth.Allows(Basic("prom:other")));
  EXPECT_FALSE(auth.Allows(Basic("graf:s3cret")));
  EXPECT_TRUE(auth.Allows(Basic("graf:other")));
  EXPECT_FALSE(auth.Allows(Basic("nobody:s3cret")));
  EXPECT_FALSE(auth.Allows(Basic("nobody:poolwatch-no-such-user")));  // the dummy's password
  EXPECT_FALSE(auth.Allows(""));
  EXPECT_FALSE(auth.Allows("Basic"));
}

// civetweb's worker threads share one BasicAuth (and its cache of verified credentials).
TEST(BasicAuth, IsSafeFromManyThreads) {
  BasicAuth auth({{"prom", BasicAuth::Hash("s3cret", 4)}});
  std::atomic<int> allowed{0}, denied{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        (auth.Allows(Basic((i + t) % 2 == 0 ? "prom:s3cret" : "prom:nope")) ? allowed : denied)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 40);
  EXPECT_EQ(denied.load(), 40);
}

}  // namespace
}  // namespace poolwatch
