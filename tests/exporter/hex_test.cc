#include "exporter/hex.h"

#include <gtest/gtest.h>

#include <string>

namespace poolwatch {
namespace {

TEST(Hex, round_trips_every_byte_value) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string hex = HexEncode(all);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  std::string back;
  ASSERT_TRUE(HexDecode(hex, &back));
  EXPECT_EQ(back, all);
}

TEST(Hex, decodes_either_case_and_rejects_what_is_not_hex) {
  std::string out;
  EXPECT_TRUE(HexDecode("C3a9", &out));
  EXPECT_EQ(out, "\xc3\xa9");
  EXPECT_TRUE(HexDecode("", &out));
  EXPECT_EQ(out, "");
  EXPECT_FALSE(HexDecode("abc", &out)) << "odd length";
  EXPECT_FALSE(HexDecode("zz", &out));
  EXPECT_FALSE(HexDecode("0g", &out));
}

}  // namespace
}  // namespace poolwatch
