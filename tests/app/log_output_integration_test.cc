// The daemon's own log on stderr stays logfmt whatever the access log holds: a line with
// terminal escape sequences, forged "level=… msg=…" text, quotes and invalid UTF-8 is logged
// escaped, one line, and a logfmt reader gets the hostile bytes back as one value.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using std::chrono::seconds;

// Splits one logfmt line into its pairs, decoding quoted values; nullopt when the line is not
// logfmt (a stray quote, a bare value with a space or '=', an unknown escape).
std::optional<std::vector<std::pair<std::string, std::string>>> ParseLogfmt(
    const std::string& line) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t i = 0;
  while (i < line.size()) {
    const size_t eq = line.find('=', i);
    if (eq == std::string::npos || eq == i) return std::nullopt;
    std::string key = line.substr(i, eq - i);
    if (key.find_first_of(" \"") != std::string::npos) return std::nullopt;
    i = eq + 1;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      for (++i;; ++i) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '"') break;
        if (line[i] != '\\') {
          value += line[i];
          continue;
        }
        if (++i >= line.size()) return std::nullopt;
        switch (line[i]) {
          case '"':
          case '\\':
            value += line[i];
            break;
          case 'n':
            value += '\n';
            break;
          case 'r':
            value += '\r';
            break;
          case 't':
            value += '\t';
            break;
          case 'x':
            if (i + 2 >= line.size()) return std::nullopt;
            value += static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16));
            i += 2;
            break;
          default:
            return std::nullopt;
        }
      }
      ++i;  // the closing quote
    } else {
      const size_t end = std::min(line.find(' ', i), line.size());
      value = line.substr(i, end - i);
      if (value.find_first_of("=\"") != std::string::npos) return std::nullopt;
      i = end;
    }
    pairs.emplace_back(std::move(key), std::move(value));
    if (i < line.size()) {
      if (line[i] != ' ') return std::nullopt;
      ++i;
    }
  }
  return pairs;
}

TEST(LogOutput, hostile_log_lines_are_logged_as_escaped_logfmt_values) {
  TempDir dir;
  const std::vector<std::string> hostile = {
      // Clears the screen and sets the terminal's title, then forges a log line.
      "\x1b[2J\x1b]0;pwned\x07 200 \"GET /\"\nts=now level=error msg=\"forged\"",
      // Invalid UTF-8 and a C1 control (CSI as UTF-8) that some terminals obey.
      "\xff\xfe GET \xc2\x9b"
      "31m red \x7f",
      // Quotes and backslashes that would end a naive quoted value early.
      "pool=\"blue\" release=\\\" upstream_status=abc",
  };
  std::string log;
  // The newline inside the first value ends that log line in the file; what the follower
  // sees are the pieces, each malformed.
  std::vector<std::string> lines;
  for (const std::string& h : hostile) {
    log += h + "\n";
    std::stringstream pieces(h);
    for (std::string piece; std::getline(pieces, piece);) lines.push_back(piece);
  }
  WriteFile(dir / "access.log", log);

  Process poolwatch(
      {POOLWATCH_BINARY, "--log.path", (dir / "access.log").string(), "--log.start-at", "beginning",
       "--log.level", "debug", "--web.listen-address", "127.0.0.1:0"},
      dir / "poolwatch.out");
  const int port = WaitForListeningPort(poolwatch);
  ASSERT_NE(port, 0) << poolwatch.Output();
  const std::string metrics = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  ASSERT_TRUE(WaitUntil(
      [&] {
        return MetricValue(HttpGet(metrics).body, "poolwatch_log_malformed_lines_total") ==
               static_cast<double>(lines.size());
      },
      seconds(20)))
      << poolwatch.Output();
  poolwatch.Stop();

  std::vector<std::string> logged;  // the `line` field of each "skipped" message
  std::stringstream output(poolwatch.Output());
  for (std::string line; std::getline(output, line);) {
    if (line.rfind("ts=", 0) != 0) continue;  // alerts printed by the console notifier
    for (unsigned char c : line) {
      EXPECT_TRUE(c >= 0x20 && c != 0x7f) << "a raw control byte on stderr: " << line;
    }
    EXPECT_EQ(line.find("\xff"), std::string::npos) << line;
    EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos) << line;
    auto pairs = ParseLogfmt(line);
    ASSERT_TRUE(pairs.has_value()) << "not logfmt: " << line;
    ASSERT_GE(pairs->size(), 3u) << line;
    EXPECT_EQ((*pairs)[0].first, "ts");
    EXPECT_EQ((*pairs)[1].first, "level");
    EXPECT_EQ((*pairs)[2].first, "msg");
    EXPECT_EQ(line.find(" msg=\""), line.find(" msg=")) << "msg is always quoted: " << line;
    std::map<std::string, std::string> fields(pairs->begin(), pairs->end());
    if (fields["msg"].rfind("skipped a malformed log line", 0) == 0) {
      EXPECT_EQ(fields["level"], "warn");
      logged.push_back(fields["line"]);
    }
  }
  EXPECT_EQ(logged, lines) << "each hostile line comes back, byte for byte, from its value";
}

}  // namespace
}  // namespace poolwatch::testing
