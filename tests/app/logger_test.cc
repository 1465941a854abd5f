#include "app/logger.h"

#include <gtest/gtest.h>

#include <string>

namespace poolwatch {
namespace {

TEST(LogfmtValue, leaves_a_plain_word_bare) {
  EXPECT_EQ(LogfmtValue("format_mismatch"), "format_mismatch");
  EXPECT_EQ(LogfmtValue("127.0.0.1:10090"), "127.0.0.1:10090");
}

TEST(LogfmtValue, quotes_what_a_parser_would_split_on) {
  EXPECT_EQ(LogfmtValue(""), R"("")");
  EXPECT_EQ(LogfmtValue("two words"), R"("two words")");
  EXPECT_EQ(LogfmtValue("level=error"), R"("level=error")");
  EXPECT_EQ(LogfmtValue(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(LogfmtValue(R"(C:\dir)"), R"("C:\\dir")");
}

TEST(LogfmtValue, keeps_a_value_on_one_line) {
  EXPECT_EQ(LogfmtValue("a\nlevel=error msg=forged"), R"("a\nlevel=error msg=forged")");
  EXPECT_EQ(LogfmtValue("a\r\tb"), R"("a\r\tb")");
}

TEST(LogfmtValue, escapes_terminal_controls_and_invalid_utf8_as_hex) {
  EXPECT_EQ(LogfmtValue("\x1b[2Jclear"), R"("\x1b[2Jclear")");
  EXPECT_EQ(LogfmtValue(std::string("nul\0byte", 8)), R"("nul\x00byte")");
  EXPECT_EQ(LogfmtValue("del\x7f"), R"("del\x7f")");
  EXPECT_EQ(LogfmtValue("\xff\xfe"), R"("\xff\xfe")");
  // U+009B (CSI) as UTF-8 is a control some terminals obey; shown as its two bytes.
  EXPECT_EQ(LogfmtValue("\xc2\x9b"
                        "31m"),
            R"("\xc2\x9b31m")");
  // Overlong and surrogate encodings, and a sequence cut short.
  EXPECT_EQ(LogfmtValue("\xc0\xaf"), R"("\xc0\xaf")");
  EXPECT_EQ(LogfmtValue("\xed\xa0\x80"), R"("\xed\xa0\x80")");
  EXPECT_EQ(LogfmtValue("\xe2\x82"), R"("\xe2\x82")");
}

TEST(LogfmtValue, shows_valid_utf8_text_as_it_is) {
  EXPECT_EQ(LogfmtValue("caf\xc3\xa9 \xe2\x9c\x85 \xf0\x9f\x9a\xa8"),
            "\"caf\xc3\xa9 \xe2\x9c\x85 \xf0\x9f\x9a\xa8\"");
}

TEST(FormatLogLine, quotes_the_message_and_escapes_each_field) {
  EXPECT_EQ(FormatLogLine("2026-12-04T10:00:00Z", LogLevel::kWarn, "skipped",
                          {{"reason", "binary"}, {"line", "GET /\x1b]0;owned\x07"}}),
            "ts=2026-12-04T10:00:00Z level=warn msg=\"skipped\" reason=binary "
            "line=\"GET /\\x1b]0;owned\\x07\"\n");
}

}  // namespace
}  // namespace poolwatch
