#include "exporter/line_splitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace poolwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Feeds each block in turn and collects the lines (copied: the views die with the call).
std::vector<std::string> Split(LineSplitter& splitter, const std::vector<std::string>& blocks) {
  std::vector<std::string> lines;
  for (const std::string& block : blocks) {
    splitter.Feed(block, [&](std::string_view line) { lines.emplace_back(line); });
  }
  return lines;
}

std::vector<std::string> Split(const std::vector<std::string>& blocks, size_t max = 64 * 1024) {
  LineSplitter splitter(max);
  return Split(splitter, blocks);
}

TEST(LineSplitter, DeliversEveryCompleteLineOfABlockInOrder) {
  EXPECT_THAT(Split({"a\nbb\nccc\n"}), ElementsAre("a", "bb", "ccc"));
}

TEST(LineSplitter, HandsOutViewsIntoTheBlockWithoutCopying) {
  const std::string block = "first\nsecond\n";
  LineSplitter splitter;
  std::vector<const char*> starts;
  splitter.Feed(block, [&](std::string_view line) { starts.push_back(line.data()); });
  EXPECT_THAT(starts, ElementsAre(block.data(), block.data() + 6));
}

TEST(LineSplitter, KeepsThePartialTailUntilItsNewlineArrives) {
  LineSplitter splitter;
  EXPECT_THAT(Split(splitter, {"one\ntw"}), ElementsAre("one"));
  EXPECT_EQ(splitter.pending_bytes(), 2u);
  EXPECT_EQ(splitter.bytes_since_newline(), 2u);
  EXPECT_THAT(Split(splitter, {"o"}), IsEmpty());
  EXPECT_EQ(splitter.pending_bytes(), 3u);
  EXPECT_THAT(Split(splitter, {"\nthree\n"}), ElementsAre("two", "three"));
  EXPECT_EQ(splitter.pending_bytes(), 0u);
  EXPECT_EQ(splitter.bytes_since_newline(), 0u);
}

TEST(LineSplitter, GivesTheSameLinesWhereverTheInputIsCutIntoBlocks) {
  const std::string text = "alpha\r\n\nbeta\ngamma delta\r\n\r\nx\n";
  const std::vector<std::string> expected = Split({text});
  ASSERT_THAT(expected, ElementsAre("alpha", "", "beta", "gamma delta", "", "x"));
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); ++j) {
      EXPECT_EQ(Split({text.substr(0, i), text.substr(i, j - i), text.substr(j)}), expected)
          << "cut at " << i << " and " << j;
    }
  }
}

TEST(LineSplitter, JoinsALineFedOneByteAtATime) {
  const std::string text = "GET /index.html 200\nPOST /api 502\n";
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  EXPECT_THAT(Split(bytes), ElementsAre("GET /index.html 200", "POST /api 502"));
}

TEST(LineSplitter, StripsOneTrailingCarriageReturnOnly) {
  EXPECT_THAT(Split({"crlf\r\n", "two\r\r\n", "mid\rdle\n", "\r\n"}),
              ElementsAre("crlf", "two\r", "mid\rdle", ""));
}

TEST(LineSplitter, StripsCarriageReturnSplitFromItsNewlineAcrossBlocks) {
  EXPECT_THAT(Split({"line\r", "\nnext\n"}), ElementsAre("line", "next"));
}

TEST(LineSplitter, DeliversEmptyLines) {
  EXPECT_THAT(Split({"\n\n", "\n"}), ElementsAre("", "", ""));
}

TEST(LineSplitter, PassesBinaryBytesThroughUnchanged) {
  const std::string binary("\x00\xff\x01\x7f\x80 \t\x1b[0m", 11);
  const std::vector<std::string> lines = Split({binary + "\n" + binary, "\n"});
  EXPECT_THAT(lines, ElementsAre(binary, binary));
}

TEST(LineSplitter, IgnoresAnEmptyBlock) {
  LineSplitter splitter;
  EXPECT_THAT(Split(splitter, {"", "a", "", "\n"}), ElementsAre("a"));
}

TEST(LineSplitter, DeliversALineOfExactlyTheMaximumLength) {
  const std::string max_line(10, 'x');
  LineSplitter splitter(10);
  EXPECT_THAT(Split(splitter, {max_line + "\n", max_line + "\r\n"}),
              ElementsAre(max_line, max_line));
  // The same when carried across blocks, where the '\r' is not known to be one yet.
  EXPECT_THAT(Split(splitter, {max_line.substr(0, 4), max_line.substr(4) + "\r", "\n"}),
              ElementsAre(max_line));
  EXPECT_EQ(splitter.overlong_lines(), 0u);
}

TEST(LineSplitter, DropsAnOverlongLineInsideABlockCountsItAndGoesOn) {
  LineSplitter splitter(10);
  EXPECT_THAT(Split(splitter, {"short\n" + std::string(11, 'x') + "\nafter\n"}),
              ElementsAre("short", "after"));
  EXPECT_EQ(splitter.overlong_lines(), 1u);
}

TEST(LineSplitter, DropsAnOverlongLineSpanningManyBlocksWithoutBufferingIt) {
  LineSplitter splitter(10);
  std::vector<std::string> blocks = {"ok\nwwwwww"};
  for (int i = 0; i < 1000; ++i) blocks.push_back(std::string(100, 'y'));
  blocks.push_back("zz\r\nnext\n");
  std::vector<std::string> lines;
  for (const std::string& block : blocks) {
    splitter.Feed(block, [&](std::string_view line) { lines.emplace_back(line); });
    EXPECT_LE(splitter.pending_bytes(), 11u);  // memory stays bounded
  }
  EXPECT_THAT(lines, ElementsAre("ok", "next"));
  EXPECT_EQ(splitter.overlong_lines(), 1u);  // counted once, not per block
}

TEST(LineSplitter, DropsAnOverlongLineWhoseCarriedPartIsShortButWholeIsLong) {
  LineSplitter splitter(10);
  EXPECT_THAT(Split(splitter, {"abcdef", "ghijkl\nm\n"}), ElementsAre("m"));
  EXPECT_EQ(splitter.overlong_lines(), 1u);
}

TEST(LineSplitter, ReportsEachOverlongLineToTheCallback) {
  LineSplitter splitter(4);
  int overlong = 0;
  std::vector<std::string> lines;
  auto on_line = [&](std::string_view line) { lines.emplace_back(line); };
  auto on_overlong = [&] { ++overlong; };
  splitter.Feed("12345\nok\n123", on_line, on_overlong);
  splitter.Feed("45", on_line, on_overlong);  // 5 bytes: could still be "1234\r"
  EXPECT_EQ(overlong, 1);
  splitter.Feed("6", on_line, on_overlong);  // detected before its newline arrives
  EXPECT_EQ(overlong, 2);
  splitter.Feed("7\nfine\n", on_line, on_overlong);
  EXPECT_EQ(overlong, 2);
  EXPECT_THAT(lines, ElementsAre("ok", "fine"));
  EXPECT_EQ(splitter.overlong_lines(), 2u);
}

TEST(LineSplitter, ResetDropsThePartialTail) {
  LineSplitter splitter;
  EXPECT_THAT(Split(splitter, {"old partial"}), IsEmpty());
  splitter.Reset();
  EXPECT_EQ(splitter.pending_bytes(), 0u);
  EXPECT_EQ(splitter.bytes_since_newline(), 0u);
  EXPECT_THAT(Split(splitter, {"new\n"}), ElementsAre("new"));
}

TEST(LineSplitter, ResetEndsTheSkippingOfAnOverlongLine) {
  LineSplitter splitter(4);
  EXPECT_THAT(Split(splitter, {"toolong"}), IsEmpty());
  splitter.Reset();
  EXPECT_THAT(Split(splitter, {"new\n"}), ElementsAre("new"));
  EXPECT_EQ(splitter.overlong_lines(), 1u);
}

TEST(LineSplitter, FlushHandsOutTheUnterminatedTailAsALastLine) {
  LineSplitter splitter;
  std::vector<std::string> lines = Split(splitter, {"done\nunterminated\r"});
  splitter.Flush([&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_THAT(lines, ElementsAre("done", "unterminated"));
  EXPECT_EQ(splitter.pending_bytes(), 0u);
  splitter.Flush([&](std::string_view line) { lines.emplace_back(line); });
  EXPECT_EQ(lines.size(), 2u);  // nothing pending, nothing delivered
}

TEST(LineSplitter, FlushReportsAnUnterminatedTailThatIsTooLong) {
  LineSplitter splitter(4);
  int overlong = 0;
  std::vector<std::string> lines;
  splitter.Feed("12345", [&](std::string_view line) { lines.emplace_back(line); });
  splitter.Flush([&](std::string_view line) { lines.emplace_back(line); }, [&] { ++overlong; });
  EXPECT_THAT(lines, IsEmpty());
  EXPECT_EQ(overlong, 1);
  EXPECT_EQ(splitter.overlong_lines(), 1u);
}

TEST(LineSplitter, CountsBytesSinceTheLastNewlineWhileSkipping) {
  LineSplitter splitter(4);
  Split(splitter, {"ab\n", "cdefgh", "ij"});
  EXPECT_EQ(splitter.pending_bytes(), 0u);
  EXPECT_EQ(splitter.bytes_since_newline(), 8u);
}

}  // namespace
}  // namespace poolwatch
