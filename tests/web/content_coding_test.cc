#include "web/content_coding.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

std::string Gunzip(const std::string& compressed) {
  std::string out;
  EXPECT_TRUE(testing::Gunzip(compressed, &out)) << "not one complete gzip member";
  return out;
}

TEST(AcceptEncoding, GzipAloneOrInAListIsAccepted) {
  EXPECT_TRUE(GzipAccepted("gzip"));
  EXPECT_TRUE(GzipAccepted("gzip, deflate, br"));
  EXPECT_TRUE(GzipAccepted("br;q=1.0, gzip;q=0.8, *;q=0.1"));
  EXPECT_TRUE(GzipAccepted("GZip"));
  EXPECT_TRUE(GzipAccepted("x-gzip"));
  EXPECT_TRUE(GzipAccepted(" gzip ; q = 0.5 "));
}

TEST(AcceptEncoding, NoHeaderOrOtherCodingsGetThePlainText) {
  EXPECT_FALSE(GzipAccepted(""));
  EXPECT_FALSE(GzipAccepted("identity"));
  EXPECT_FALSE(GzipAccepted("br, deflate"));
  EXPECT_FALSE(GzipAccepted("gzipped"));
  EXPECT_FALSE(GzipAccepted(",,"));
}

TEST(AcceptEncoding, AZeroWeightRefusesGzip) {
  EXPECT_FALSE(GzipAccepted("gzip;q=0"));
  EXPECT_FALSE(GzipAccepted("gzip;q=0.000"));
  EXPECT_FALSE(GzipAccepted("gzip; Q=0, deflate"));
  EXPECT_FALSE(GzipAccepted("*, gzip;q=0")) << "the named entry wins over the wildcard";
  EXPECT_FALSE(GzipAccepted("gzip, gzip;q=0")) << "a refusal is never overridden";
  EXPECT_FALSE(GzipAccepted("x-gzip;q=0, *"));
}

TEST(AcceptEncoding, TheWildcardStandsForGzipWhenGzipIsNotNamed) {
  EXPECT_TRUE(GzipAccepted("*"));
  EXPECT_TRUE(GzipAccepted("br, *;q=0.5"));
  EXPECT_FALSE(GzipAccepted("*;q=0"));
  EXPECT_TRUE(GzipAccepted("gzip, *;q=0")) << "gzip named, everything else refused";
}

TEST(AcceptEncoding, AnIdentityEntryWithAHigherWeightWins) {
  EXPECT_FALSE(GzipAccepted("identity;q=1, gzip;q=0.5"));
  EXPECT_TRUE(GzipAccepted("identity;q=0.5, gzip"));
  EXPECT_TRUE(GzipAccepted("identity, gzip")) << "equal weights: the smaller answer";
}

TEST(AcceptEncoding, AnEntryWithAnInvalidWeightIsIgnored) {
  EXPECT_FALSE(GzipAccepted("gzip;q=2"));
  EXPECT_FALSE(GzipAccepted("gzip;q=abc"));
  EXPECT_FALSE(GzipAccepted("gzip;q=0.1234"));
  EXPECT_FALSE(GzipAccepted("gzip;q=1.5"));
  EXPECT_FALSE(GzipAccepted("gzip;q="));
  EXPECT_TRUE(GzipAccepted("gzip;q=2, *")) << "the wildcard still counts";
  EXPECT_TRUE(GzipAccepted("gzip;level=9")) << "other parameters are not weights";
}

TEST(AcceptEncoding, WeightsAreReadAsTheHeaderGivesThem) {
  EXPECT_EQ(AcceptEncodingWeight("gzip;q=0.25", "gzip"), 0.25);
  EXPECT_EQ(AcceptEncodingWeight("gzip", "GZIP"), 1.0);
  EXPECT_EQ(AcceptEncodingWeight("deflate;q=0.5, *;q=0.125", "br"), 0.125);
  EXPECT_EQ(AcceptEncodingWeight("deflate", "gzip"), std::nullopt);
  EXPECT_EQ(AcceptEncodingWeight("gzip;q=1.000", "x-gzip"), 1.0);
}

TEST(Gzip, InflatesBackToTheInput) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "poolwatch_http_requests_total{pool=\"blue\",release=\"v" + std::to_string(i % 20) +
            "\",status=\"200\"} " + std::to_string(i * 7) + "\n";
  }
  for (int level : {1, 6, 9}) {
    std::string compressed;
    AppendGzip(text, level, compressed);
    ASSERT_GE(compressed.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1f) << "gzip magic";
    EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8b) << "gzip magic";
    EXPECT_LT(compressed.size(), text.size() / 5) << "level " << level;
    EXPECT_EQ(Gunzip(compressed), text) << "level " << level;
  }
}

TEST(Gzip, AnEmptyInputIsAnEmptyMemberAppendedAfterWhatWasThere) {
  std::string out = "kept";
  AppendGzip("", kMetricsGzipLevel, out);
  ASSERT_GT(out.size(), 4u);
  EXPECT_EQ(out.substr(0, 4), "kept");
  EXPECT_EQ(Gunzip(out.substr(4)), "");
}

}  // namespace
}  // namespace poolwatch
