// Replay's read loop is on the hot path: once a log is open, LogReader::Read() allocates
// nothing, for a plain file and through every member of a gzip'd one. This executable counts
// every operator new while a measurement is running (zlib's own state is made once, at the
// first Open(), and reset between members and logs).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/log_reader.h"
#include "tests/support/allocation_count.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::AllocationCount;
using ::poolwatch::testing::Gzip;
using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;

std::string Lines(int count, int seed) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    out += "127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] \"GET /" + std::to_string(i * seed) +
           " HTTP/1.1\" 200 " + std::to_string(i % 991) + "\n";
  }
  return out;
}

// Reads to the end; the number of bytes, or -1 on an error.
long ReadToEnd(LogReader& reader, std::vector<char>& buffer) {
  long total = 0;
  for (;;) {
    std::optional<size_t> n = reader.Read(std::span<char>(buffer.data(), buffer.size()));
    if (!n) return -1;
    if (*n == 0) return total;
    total += static_cast<long>(*n);
  }
}

TEST(LogReaderAllocations, the_counter_sees_allocations) {
  AllocationCount count;
  std::vector<std::string> strings;
  strings.emplace_back(64, 'x');
  EXPECT_GE(count.value(), 2);
}

TEST(LogReaderAllocations, read_does_not_allocate_plain_or_through_gzip_members) {
  TempDir dir;
  const std::string a = Lines(50000, 3);
  const std::string b = Lines(20000, 7);
  WriteFile(dir / "plain.log", a);
  WriteFile(dir / "members.gz", Gzip(a) + Gzip(b) + Gzip(a));
  std::vector<char> buffer(128 << 10);
  LogReader reader;
  // The first Open() makes the buffers and zlib's state; later logs reuse them.
  ASSERT_TRUE(reader.Open((dir / "members.gz").string()));
  ASSERT_EQ(ReadToEnd(reader, buffer), static_cast<long>(2 * a.size() + b.size()));
  for (const char* name : {"members.gz", "plain.log"}) {
    ASSERT_TRUE(reader.Open((dir / name).string())) << reader.error();
    AllocationCount count;
    const long bytes = ReadToEnd(reader, buffer);
    EXPECT_EQ(count.value(), 0) << name;
    EXPECT_GT(bytes, 0) << name;
  }
}

}  // namespace
}  // namespace poolwatch
