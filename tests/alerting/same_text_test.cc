#include <gtest/gtest.h>

#include <string>

#include "alerting/rule_internal.h"

namespace poolwatch {
namespace {

using rule_internal::SameText;

// SameText reads words, overlapping at the end: check it against == for every length up to
// three words, with the strings equal and with one byte changed at each place.
TEST(SameText, agrees_with_equality_at_every_length_and_position) {
  for (size_t n = 0; n <= 24; ++n) {
    // Inside larger buffers, at odd offsets: the words are unaligned, as in a log line.
    std::string a_buffer = "#" + std::string(n, 'x') + "#";
    std::string b_buffer = "%" + std::string(n, 'x') + "%";
    for (size_t k = 0; k < n; ++k) {
      a_buffer[1 + k] = static_cast<char>('a' + k % 26);
      b_buffer[1 + k] = a_buffer[1 + k];
    }
    const std::string_view a(a_buffer.data() + 1, n);
    EXPECT_TRUE(SameText(a, std::string_view(b_buffer.data() + 1, n))) << n;
    for (size_t k = 0; k < n; ++k) {
      std::string changed = b_buffer;
      changed[1 + k] ^= 0x20;
      EXPECT_FALSE(SameText(a, std::string_view(changed.data() + 1, n))) << n << " " << k;
    }
    if (n > 0) {
      EXPECT_FALSE(SameText(a, std::string_view(b_buffer.data() + 1, n - 1))) << n;
    }
  }
  EXPECT_TRUE(SameText("", std::string_view()));
  EXPECT_FALSE(SameText("v1.4.2", "v1.4.3"));
  EXPECT_TRUE(SameText("v1.5.1-rc.2", "v1.5.1-rc.2"));
}

}  // namespace
}  // namespace poolwatch
