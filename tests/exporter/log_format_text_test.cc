// The log format as users paste it (nginx directive syntax) and the escape= modes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "exporter/log_format.h"
#include "exporter/log_format_directive.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::ReadFile;
using ::testing::HasSubstr;

const std::filesystem::path kSource = POOLWATCH_SOURCE_DIR;

std::string ParseError(std::string_view text) {
  std::string error;
  auto spec = ParseLogFormatText(text, &error);
  EXPECT_FALSE(spec) << "parsed as '" << (spec ? spec->format : "") << "'";
  return error;
}

LogFormatSpec Parsed(std::string_view text) {
  std::string error;
  auto spec = ParseLogFormatText(text, &error);
  EXPECT_TRUE(spec) << error;
  return spec.value_or(LogFormatSpec{});
}

// The `log_format NAME ...;` lines of the project's nginx/log_format.conf, as they are.
std::vector<std::string> DirectivesOfTheProjectFile() {
  std::istringstream in(ReadFile(kSource / "nginx" / "log_format.conf"));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("log_format ", 0) == 0) out.push_back(line);
  }
  return out;
}

constexpr std::string_view kLine =
    R"(127.0.0.1 - - [26/Nov/2026:07:06:51 +0000] "GET / HTTP/1.1" 200 45 "-" "curl/7.88.1" )"
    R"(pool=blue release=v1 upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.012 )"
    R"(upstream_response_time=0.010)";

TEST(LogFormatText, TheProjectsDirectiveIsTheDefaultFormat) {
  std::vector<std::string> directives = DirectivesOfTheProjectFile();
  ASSERT_EQ(directives.size(), 2u);
  LogFormatSpec spec = Parsed(directives[0]);
  EXPECT_EQ(spec.format, kDefaultLogFormat);
  EXPECT_EQ(spec.escape, LogEscape::kDefault);

  std::string error;
  auto from_file = LogFormat::Compile(spec.format, {}, &error);
  auto from_constant = LogFormat::Compile(kDefaultLogFormat, {}, &error);
  ASSERT_TRUE(from_file && from_constant) << error;
  EXPECT_EQ(from_file->UsedVariables(), from_constant->UsedVariables());
  LogRecord a, b;
  ASSERT_EQ(from_file->Parse(kLine, a), std::nullopt);
  ASSERT_EQ(from_constant->Parse(kLine, b), std::nullopt);
  EXPECT_EQ(a.pool, b.pool);
  EXPECT_EQ(a.release, b.release);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.time, b.time);
}

TEST(LogFormatText, TheProjectsJsonDirectiveCarriesEscapeJson) {
  std::vector<std::string> directives = DirectivesOfTheProjectFile();
  ASSERT_EQ(directives.size(), 2u);
  LogFormatSpec spec = Parsed(directives[1]);
  EXPECT_EQ(spec.escape, LogEscape::kJson);
  EXPECT_EQ(spec.format.front(), '{');
  EXPECT_THAT(spec.format, HasSubstr(R"("pool":"$upstream_http_x_app_pool")"));
  std::string error;
  EXPECT_TRUE(LogFormat::Compile(spec.format, {LogEscape::kJson}, &error)) << error;
}

TEST(LogFormatText, TheWholeProjectFileIsTwoDirectivesAndSaysSo) {
  EXPECT_THAT(
      ParseError(ReadFile(kSource / "nginx" / "log_format.conf")
                     .substr(ReadFile(kSource / "nginx" / "log_format.conf").find("log_format "))),
      HasSubstr("text after the ';'"));
}

TEST(LogFormatText, ConcatenatesPartsOverSeveralLinesAsNginxDoes) {
  LogFormatSpec spec = Parsed(
      "log_format main '$remote_addr - $remote_user [$time_local] \"$request\" '\n"
      "                \"$status \" # the status\n"
      "                '$body_bytes_sent';\n");
  EXPECT_EQ(spec.format,
            "$remote_addr - $remote_user [$time_local] \"$request\" $status "
            "$body_bytes_sent");
  // Without the keyword or the semicolon, and with escape= alone.
  EXPECT_EQ(Parsed("'$a ' '$b'").format, "$a $b");
  EXPECT_EQ(Parsed("'$a ' '$b'").escape, std::nullopt);
  LogFormatSpec json = Parsed("escape=json '{\"s\":\"$status\"}'");
  EXPECT_EQ(json.escape, LogEscape::kJson);
  EXPECT_EQ(json.format, "{\"s\":\"$status\"}");
  EXPECT_EQ(Parsed("log_format x escape=none '$a'").escape, LogEscape::kNone);
}

TEST(LogFormatText, AppliesNginxBackslashRulesInsideQuotes) {
  EXPECT_EQ(Parsed(R"('it\'s \"$a\" \\ \x22 \t')").format, "it's \"$a\" \\ \\x22 \t");
  EXPECT_EQ(Parsed(R"("say \"$a\"")").format, "say \"$a\"");
}

TEST(LogFormatText, ABareFormatIsTakenAsItIs) {
  EXPECT_EQ(Parsed(kDefaultLogFormat).format, kDefaultLogFormat);
  EXPECT_EQ(Parsed("{\"status\":\"$status\"}").format, "{\"status\":\"$status\"}");
  EXPECT_EQ(Parsed("$a 'b' $c").format, "$a 'b' $c");
  EXPECT_EQ(Parsed("$a 'b' $c").escape, std::nullopt);
}

TEST(LogFormatText, RejectsUnbalancedAndStrayQuotes) {
  EXPECT_THAT(ParseError("log_format main '$remote_addr $status"), HasSubstr("never closed"));
  EXPECT_THAT(ParseError("'$a' '$b"), HasSubstr("never closed"));
  EXPECT_THAT(ParseError("'$a''$b'"), HasSubstr("right after a quoted part"));
  EXPECT_THAT(ParseError("log_format main '$a' $b;"),
              HasSubstr("expected a quoted part, got '$b'"));
  EXPECT_THAT(ParseError("log_format ma'in '$a'"), HasSubstr("stray '"));
  EXPECT_THAT(ParseError("\"$request\" $status"), HasSubstr("wrap it in single quotes"));
  EXPECT_THAT(ParseError("log_format main escape=yaml '$a'"), HasSubstr("escape=yaml"));
  EXPECT_THAT(ParseError("log_format;"), HasSubstr("needs a name"));
  EXPECT_THAT(ParseError("log_format main escape=json;"), HasSubstr("no quoted format part"));
  EXPECT_THAT(ParseError("'$a'; '$b'"), HasSubstr("text after the ';'"));
}

// A small format with the pool and release in quotes, where escapes matter.
constexpr std::string_view kQuotedFormat =
    R"([$time_local] $status pool="$upstream_http_x_app_pool" )"
    R"(release="$upstream_http_x_release_id" us=$upstream_status ua=$upstream_addr)";

LogFormat QuotedFormat(LogEscape escape) {
  std::string error;
  auto format = LogFormat::Compile(kQuotedFormat, {escape}, &error);
  EXPECT_TRUE(format) << error;
  return *format;
}

std::string QuotedLine(std::string_view pool, std::string_view release) {
  return std::string("[26/Nov/2026:07:06:51 +0000] 200 pool=\"")
      .append(pool)
      .append("\" release=\"")
      .append(release)
      .append("\" us=200 ua=127.0.0.1:8081");
}

TEST(LogFormatEscape, DefaultModeDecodesHexEscapesIntoBytes) {
  LogFormat format = QuotedFormat(LogEscape::kDefault);
  LogRecord record;
  ASSERT_EQ(format.Parse(QuotedLine(R"(gr\x22een\x5C)", R"(caf\xC3\xa9 \q \x)"), record),
            std::nullopt);
  EXPECT_EQ(record.pool, "gr\"een\\");
  EXPECT_EQ(record.release, "caf\xC3\xA9 \\q \\x");  // no escape of the mode: kept
}

TEST(LogFormatEscape, JsonModeDecodesJsonEscapesAndUnicodeToUtf8) {
  LogFormat format = QuotedFormat(LogEscape::kJson);
  LogRecord record;
  ASSERT_EQ(
      format.Parse(QuotedLine(R"(gr\"een\\\/)", R"(\u0041\u00e9\ud83d\ude00\n\t\x41)"), record),
      std::nullopt);
  EXPECT_EQ(record.pool, "gr\"een\\/");
  EXPECT_EQ(record.release, "A\xC3\xA9\xF0\x9F\x98\x80\n\t\\x41");
  ASSERT_EQ(format.Parse(QuotedLine(R"(\ud800x)", R"(\u12)"), record), std::nullopt);
  EXPECT_EQ(record.pool, "\xEF\xBF\xBDx");  // a lone surrogate has no UTF-8 form
  EXPECT_EQ(record.release, "\\u12");
}

TEST(LogFormatEscape, NoneModeKeepsBackslashesAndAQuoteAfterOneEndsTheField) {
  LogFormat format = QuotedFormat(LogEscape::kNone);
  LogRecord record;
  const std::string line = QuotedLine(R"(blue\)", R"(v\x22)");  // the fields are views into it
  ASSERT_EQ(format.Parse(line, record), std::nullopt);
  EXPECT_EQ(record.pool, "blue\\");
  EXPECT_EQ(record.release, "v\\x22");
  // With backslash escapes, the same \" does not end the field, so the line does not fit.
  EXPECT_EQ(QuotedFormat(LogEscape::kJson).Parse(QuotedLine(R"(blue\)", "v1"), record),
            MalformedReason::kFormatMismatch);
}

TEST(LogFormatEscape, PlainValuesStayViewsAndDecodingReusesTheRecordsBuffer) {
  LogFormat format = QuotedFormat(LogEscape::kDefault);
  LogRecord record;
  const std::string plain = QuotedLine("blue", "v1");
  ASSERT_EQ(format.Parse(plain, record), std::nullopt);
  EXPECT_GE(record.pool.data(), plain.data());
  EXPECT_LT(record.pool.data(), plain.data() + plain.size());

  ASSERT_EQ(format.Parse(QuotedLine(R"(a-long-pool-name-\x22-beyond-sso)", "v1"), record),
            std::nullopt);
  const char* buffer = record.pool_storage.data();
  EXPECT_EQ(record.pool.data(), buffer);
  ASSERT_EQ(format.Parse(QuotedLine(R"(a-shorter-pool\x22)", "v1"), record), std::nullopt);
  EXPECT_EQ(record.pool, "a-shorter-pool\"");
  EXPECT_EQ(record.pool_storage.data(), buffer);  // same capacity, no new allocation
}

TEST(LogFormatStatus, AcceptsAnyThreeDigitStatusNginxPrints) {
  LogFormat format = QuotedFormat(LogEscape::kDefault);
  LogRecord record;
  auto with_status = [](std::string_view status) {
    std::string line = QuotedLine("blue", "v1");
    return line.replace(line.find(" 200 "), 5, std::string(" ").append(status).append(" "));
  };
  for (auto [text, value] : {std::pair{"000", 0}, {"099", 99}, {"600", 600}, {"999", 999}}) {
    ASSERT_EQ(format.Parse(with_status(text), record), std::nullopt) << text;
    EXPECT_EQ(record.status, value);
  }
  for (const char* bad : {"2x0", "20", "2000", "-20", "+20", ""}) {
    EXPECT_EQ(format.Parse(with_status(bad), record), MalformedReason::kBadStatus) << bad;
  }
}

}  // namespace
}  // namespace poolwatch
