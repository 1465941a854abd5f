// LogReader: a whole log read once, plain or gzip'd, from a file or a pipe; every way a gzip
// file can be damaged is an error that names the file and how far it got, never a quiet end.
#include "exporter/log_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::Gzip;
using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;
using ::testing::HasSubstr;

// Lines that compress well but not trivially (numbers vary), several MiB of them so that
// reads cross the reader's input and output blocks many times.
std::string ManyLines(int count, int seed = 0) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    out += "127.0.0.1 - - [26/Nov/2026:07:00:" + std::to_string((i + seed) % 60) +
           " +0000] \"GET /item/" + std::to_string((i * 7919 + seed) % 100003) +
           " HTTP/1.1\" 200 " + std::to_string(i % 977) + "\n";
  }
  return out;
}

struct ReadAll {
  std::string text;
  bool failed = false;
};

ReadAll ReadWhole(LogReader& reader, size_t block) {
  ReadAll out;
  std::string buffer(block, '\0');
  for (;;) {
    std::optional<size_t> n = reader.Read(std::span<char>(buffer.data(), buffer.size()));
    if (!n) {
      out.failed = true;
      return out;
    }
    if (*n == 0) return out;
    EXPECT_LE(*n, block);
    out.text.append(buffer.data(), *n);
  }
}

TEST(LogReader, PlainFileIsReadWholeWhateverTheBlockSize) {
  TempDir dir;
  const std::string log = ManyLines(40000);
  WriteFile(dir / "access.log", log);
  for (size_t block : {size_t{7}, size_t{4096}, size_t{1} << 20}) {
    LogReader reader;
    ASSERT_TRUE(reader.Open((dir / "access.log").string())) << reader.error();
    EXPECT_FALSE(reader.compressed());
    ReadAll all = ReadWhole(reader, block);
    EXPECT_FALSE(all.failed) << reader.error();
    EXPECT_EQ(all.text, log) << "block " << block;
    EXPECT_EQ(reader.log_bytes(), log.size());
    EXPECT_EQ(reader.file_bytes(), log.size());
  }
}

TEST(LogReader, GzipFileIsDecompressedWhateverTheBlockSize) {
  TempDir dir;
  const std::string log = ManyLines(60000);
  const std::string gz = Gzip(log);
  ASSERT_LT(gz.size() * 4, log.size());
  WriteFile(dir / "access.log.2.gz", gz);
  for (size_t block : {size_t{7}, size_t{4096}, size_t{128} << 10, size_t{1} << 22}) {
    LogReader reader;
    ASSERT_TRUE(reader.Open((dir / "access.log.2.gz").string())) << reader.error();
    EXPECT_TRUE(reader.compressed());
    ReadAll all = ReadWhole(reader, block);
    EXPECT_FALSE(all.failed) << reader.error();
    EXPECT_EQ(all.text, log) << "block " << block;
    EXPECT_EQ(reader.log_bytes(), log.size());
    EXPECT_EQ(reader.file_bytes(), gz.size());
  }
}

TEST(LogReader, GzipIsRecognisedByItsFirstBytesNotByItsName) {
  TempDir dir;
  const std::string log = ManyLines(100);
  WriteFile(dir / "access.log.1", Gzip(log));  // compressed, no .gz
  WriteFile(dir / "access.log.2.gz", log);     // plain, named .gz
  LogReader reader;
  ASSERT_TRUE(reader.Open((dir / "access.log.1").string()));
  EXPECT_TRUE(reader.compressed());
  EXPECT_EQ(ReadWhole(reader, 4096).text, log);
  ASSERT_TRUE(reader.Open((dir / "access.log.2.gz").string()));
  EXPECT_FALSE(reader.compressed());
  EXPECT_EQ(ReadWhole(reader, 4096).text, log);
}

TEST(LogReader, ConcatenatedGzipMembersAreOneLog) {
  TempDir dir;
  const std::string a = ManyLines(30000, 1);
  const std::string b = ManyLines(5, 2);
  const std::string c = ManyLines(20000, 3);
  // An empty member in the middle, as `gzip -c </dev/null >> file` leaves.
  WriteFile(dir / "joined.gz", Gzip(a) + Gzip(b) + Gzip("") + Gzip(c));
  for (size_t block : {size_t{13}, size_t{65536}}) {
    LogReader reader;
    ASSERT_TRUE(reader.Open((dir / "joined.gz").string()));
    ReadAll all = ReadWhole(reader, block);
    EXPECT_FALSE(all.failed) << reader.error();
    EXPECT_EQ(all.text, a + b + c) << "block " << block;
  }
}

TEST(LogReader, ZeroPaddingAfterTheLastMemberIsIgnoredAsGzipDoes) {
  TempDir dir;
  const std::string log = ManyLines(1000);
  WriteFile(dir / "padded.gz", Gzip(log) + std::string(300000, '\0'));
  LogReader reader;
  ASSERT_TRUE(reader.Open((dir / "padded.gz").string()));
  ReadAll all = ReadWhole(reader, 4096);
  EXPECT_FALSE(all.failed) << reader.error();
  EXPECT_EQ(all.text, log);
}

TEST(LogReader, BytesAfterAMemberThatAreNoMemberAreAnError) {
  TempDir dir;
  const std::string log = ManyLines(1000);
  WriteFile(dir / "mixed.gz", Gzip(log) + "127.0.0.1 - - appended in plain text\n");
  LogReader reader;
  ASSERT_TRUE(reader.Open((dir / "mixed.gz").string()));
  ReadAll all = ReadWhole(reader, 4096);
  EXPECT_TRUE(all.failed);
  EXPECT_EQ(all.text, log);  // everything before the garbage was handed out
  EXPECT_THAT(reader.error(), HasSubstr((dir / "mixed.gz").string()));
  EXPECT_THAT(reader.error(), HasSubstr("not another gzip member"));
  // Failed for good: no later read pretends the log ended normally.
  std::string buffer(16, '\0');
  EXPECT_FALSE(reader.Read(std::span<char>(buffer.data(), buffer.size())).has_value());
}

TEST(LogReader, TruncatedGzipIsAnErrorAfterWhatItHeld) {
  TempDir dir;
  const std::string log = ManyLines(60000);
  const std::string gz = Gzip(log);
  const size_t cut = gz.size() / 2;
  WriteFile(dir / "cut.gz", gz.substr(0, cut));
  LogReader reader;
  ASSERT_TRUE(reader.Open((dir / "cut.gz").string()));
  ReadAll all = ReadWhole(reader, 65536);
  EXPECT_TRUE(all.failed);
  // Roughly half of the log came out, and exactly as it was.
  EXPECT_GT(all.text.size(), log.size() / 4);
  EXPECT_LT(all.text.size(), log.size());
  EXPECT_EQ(all.text, log.substr(0, all.text.size()));
  EXPECT_EQ(reader.log_bytes(), all.text.size());
  EXPECT_THAT(reader.error(), HasSubstr((dir / "cut.gz").string()));
  EXPECT_THAT(reader.error(), HasSubstr("truncated"));
  EXPECT_THAT(reader.error(), HasSubstr("after " + std::to_string(cut) + " of " +
                                        std::to_string(cut) + " bytes of the file"));
  EXPECT_THAT(reader.error(),
              HasSubstr("(" + std::to_string(all.text.size()) + " bytes of log decompressed)"));
}

TEST(LogReader, TruncatedInsideTheTrailerIsStillAnError) {
  // All the data is there, only the checksum is cut: the log cannot be trusted to be whole.
  TempDir dir;
  const std::string log = ManyLines(100);
  const std::string gz = Gzip(log);
  WriteFile(dir / "cut.gz", gz.substr(0, gz.size() - 3));
  LogReader reader;
  ASSERT_TRUE(reader.Open((dir / "cut.gz").string()));
  ReadAll all = ReadWhole(reader, 65536);
  EXPECT_TRUE(all.failed);
  EXPECT_THAT(reader.error(), HasSubstr("truncated"));
}

TEST(LogReader, CorruptGzipDataIsAnError) {
  TempDir dir;
  const std::string log = ManyLines(60000);
  std::string gz = Gzip(log);
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 64; ++i) gz[i] = static_cast<char>(~gz[i]);
  WriteFile(dir / "corrupt.gz", gz);
  LogReader reader;
  ASSERT_TRUE(reader.Open((dir / "corrupt.gz").string()));
  ReadAll all = ReadWhole(reader, 65536);
  EXPECT_TRUE(all.failed);
  EXPECT_THAT(reader.error(), HasSubstr((dir / "corrupt.gz").string()));
  EXPECT_THAT(reader.error(), HasSubstr("corrupt gzip data in member 1"));
  EXPECT_THAT(reader.error(), HasSubstr("bytes of the file"));
}

TEST(LogReader, AChecksumThatDoesNotMatchIsAnError) {
  TempDir dir;
  const std::string log = ManyLines(100);
  std::string gz = Gzip(log);
  gz[gz.size() - 8] = static_cast<char>(gz[gz.size() - 8] ^ 0x01);  // CRC-32, first byte
  WriteFile(dir / "crc.gz", gz);
  LogReader reader;
  ASSERT_TRUE(reader.Open((dir / "crc.gz").string()));
  ReadAll all = ReadWhole(reader, 65536);
  EXPECT_TRUE(all.failed);
  EXPECT_THAT(reader.error(), HasSubstr("incorrect data check"));
}

TEST(LogReader, AMissingFileFailsToOpenWithItsName) {
  TempDir dir;
  LogReader reader;
  EXPECT_FALSE(reader.Open((dir / "nope.log.gz").string()));
  EXPECT_THAT(reader.error(), HasSubstr("cannot read " + (dir / "nope.log.gz").string()));
  EXPECT_THAT(reader.error(), HasSubstr("No such file"));
}

TEST(LogReader, EmptyFilesAreEmptyLogs) {
  TempDir dir;
  WriteFile(dir / "empty.log", "");
  WriteFile(dir / "empty.gz", Gzip(""));
  WriteFile(dir / "one_byte.log", "\x1f");  // half a magic number is plain text
  for (const char* name : {"empty.log", "empty.gz", "one_byte.log"}) {
    LogReader reader;
    ASSERT_TRUE(reader.Open((dir / name).string())) << name;
    ReadAll all = ReadWhole(reader, 4096);
    EXPECT_FALSE(all.failed) << name << ": " << reader.error();
    EXPECT_EQ(all.text, std::string(name) == "one_byte.log" ? "\x1f" : "") << name;
  }
}

TEST(LogReader, APipeDeliveringGzipInDribsIsReadToItsEnd) {
  const std::string log = ManyLines(20000);
  const std::string gz = Gzip(log);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([&] {
    // The first read sees one byte of the magic number only.
    size_t at = 0;
    for (size_t chunk : {size_t{1}, size_t{1}, size_t{5}}) {
      ASSERT_EQ(write(fds[1], gz.data() + at, chunk), static_cast<ssize_t>(chunk));
      at += chunk;
    }
    while (at < gz.size()) {
      const ssize_t n = write(fds[1], gz.data() + at, std::min<size_t>(1000, gz.size() - at));
      ASSERT_GT(n, 0);
      at += static_cast<size_t>(n);
    }
    close(fds[1]);
  });
  LogReader reader;
  const bool opened = reader.Open("/dev/fd/" + std::to_string(fds[0]));
  ReadAll all;
  if (opened) all = ReadWhole(reader, 65536);
  writer.join();
  close(fds[0]);
  ASSERT_TRUE(opened) << reader.error();
  EXPECT_TRUE(reader.compressed());
  EXPECT_FALSE(all.failed) << reader.error();
  EXPECT_EQ(all.text, log);
}

TEST(LogReader, OneReaderReadsOneLogAfterAnother) {
  TempDir dir;
  const std::string a = ManyLines(5000, 1);
  const std::string b = ManyLines(5000, 2);
  WriteFile(dir / "a.gz", Gzip(a));
  WriteFile(dir / "b.log", b);
  WriteFile(dir / "cut.gz", Gzip(a).substr(0, 100));
  LogReader reader;
  ASSERT_TRUE(reader.Open((dir / "cut.gz").string()));
  EXPECT_TRUE(ReadWhole(reader, 4096).failed);
  for (const char* name : {"a.gz", "b.log", "a.gz"}) {
    ASSERT_TRUE(reader.Open((dir / name).string())) << name;
    EXPECT_TRUE(reader.error().empty());
    ReadAll all = ReadWhole(reader, 4096);
    EXPECT_FALSE(all.failed) << name << ": " << reader.error();
    EXPECT_EQ(all.text, std::string(name) == "b.log" ? b : a) << name;
  }
}

}  // namespace
}  // namespace poolwatch
