#include "exporter/log_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exporter/pool_resolver.h"

namespace poolwatch {
namespace {

using ::testing::HasSubstr;

LogFormat DefaultFormat(LogEscape escape = LogEscape::kDefault) {
  std::string error;
  LogFormatOptions options;
  options.escape = escape;
  auto format = LogFormat::Compile(kDefaultLogFormat, options, &error);
  EXPECT_TRUE(format) << error;
  return *format;
}

constexpr std::string_view kPlainLine =
    R"(127.0.0.1 - - [26/Nov/2026:07:06:51 +0000] "GET /version HTTP/1.1" 200 45 "-" )"
    R"("curl/7.88.1" pool=blue release=v1.0.0 upstream_status=200 )"
    R"(upstream_addr=127.0.0.1:8081 request_time=0.012 upstream_response_time=0.010)";

constexpr std::string_view kRetriedLine =
    R"(127.0.0.1 - - [26/Nov/2026:07:06:52 +0000] "GET /version HTTP/1.1" 200 45 "-" )"
    R"("curl/7.88.1" pool=green release=v2.0.0 upstream_status=500, 200 )"
    R"(upstream_addr=127.0.0.1:8081, 127.0.0.1:8082 request_time=0.013 )"
    R"(upstream_response_time=0.002, 0.010)";

TEST(LogFormat, ParsesAPlainLineIntoARecord) {
  LogFormat format = DefaultFormat();
  LogRecord record;
  ASSERT_EQ(format.Parse(kPlainLine, record), std::nullopt);
  EXPECT_EQ(record.status, 200);
  EXPECT_EQ(record.pool, "blue");
  EXPECT_EQ(record.release, "v1.0.0");
  EXPECT_DOUBLE_EQ(record.request_time, 0.012);
  EXPECT_EQ(FormatRfc3339(record.time), "2026-11-26T07:06:51Z");
  ASSERT_EQ(record.attempts.size(), 1u);
  EXPECT_EQ(record.attempts[0].address, "127.0.0.1:8081");
  EXPECT_EQ(record.attempts[0].status, 200);
  EXPECT_DOUBLE_EQ(record.attempts[0].response_time, 0.010);
}

TEST(LogFormat, SplitsRetriedRequestsIntoOneAttemptPerServer) {
  LogFormat format = DefaultFormat();
  LogRecord record;
  ASSERT_EQ(format.Parse(kRetriedLine, record), std::nullopt);
  EXPECT_EQ(record.pool, "green");
  ASSERT_EQ(record.attempts.size(), 2u);
  EXPECT_EQ(record.attempts[0].address, "127.0.0.1:8081");
  EXPECT_EQ(record.attempts[0].status, 500);
  EXPECT_DOUBLE_EQ(record.attempts[0].response_time, 0.002);
  EXPECT_EQ(record.attempts[1].address, "127.0.0.1:8082");
  EXPECT_EQ(record.attempts[1].status, 200);
  EXPECT_DOUBLE_EQ(record.attempts[1].response_time, 0.010);
}

TEST(LogFormat, TreatsInternalRedirectSeparatorAsAnotherAttempt) {
  std::vector<std::string_view> items;
  SplitUpstreamList("10.0.0.1:80, 10.0.0.2:80 : 10.0.0.3:80", items);
  EXPECT_THAT(items, ::testing::ElementsAre("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"));
}

TEST(LogFormat, ReadsDashesAsAbsentValues) {
  LogFormat format = DefaultFormat();
  LogRecord record;
  std::string line =
      R"(10.1.2.3 - alice [26/Nov/2026:07:06:51 +0100] "GET /nginx_status HTTP/1.1" 404 0 "-" )"
      R"("-" pool=- release=- upstream_status=- upstream_addr=- request_time=0.000 )"
      R"(upstream_response_time=-)";
  ASSERT_EQ(format.Parse(line, record), std::nullopt);
  EXPECT_EQ(record.status, 404);
  EXPECT_TRUE(record.pool.empty());
  EXPECT_TRUE(record.release.empty());
  EXPECT_TRUE(record.attempts.empty());
  EXPECT_EQ(FormatRfc3339(record.time), "2026-11-26T06:06:51Z");
}

TEST(LogFormat, KeepsAttemptsWithoutResponseAndMissingTimes) {
  LogFormat format = DefaultFormat();
  LogRecord record;
  std::string line =
      R"(127.0.0.1 - - [26/Nov/2026:07:06:51 +0000] "GET / HTTP/1.1" 502 157 "-" "x" pool=- )"
      R"(release=- upstream_status=502, -, 502 upstream_addr=127.0.0.1:8081, 127.0.0.1:8082, )"
      R"(backend request_time=3.001 upstream_response_time=1.000, -, 0.000)";
  ASSERT_EQ(format.Parse(line, record), std::nullopt);
  ASSERT_EQ(record.attempts.size(), 3u);
  EXPECT_EQ(record.attempts[1].status, 0);
  EXPECT_LT(record.attempts[1].response_time, 0);
  EXPECT_EQ(record.attempts[2].address, "backend");
}

TEST(LogFormat, SkipsEscapedQuotesInsideQuotedFields) {
  LogFormat format = DefaultFormat();
  LogRecord record;
  std::string nginx_escaped =
      R"(127.0.0.1 - - [26/Nov/2026:07:06:51 +0000] "GET /a\x22b HTTP/1.1" 200 1 "-" )"
      R"("agent \x22quoted\x22" pool=blue release=v1 upstream_status=200 )"
      R"(upstream_addr=127.0.0.1:8081 request_time=0.001 upstream_response_time=0.001)";
  ASSERT_EQ(format.Parse(nginx_escaped, record), std::nullopt);
  EXPECT_EQ(record.pool, "blue");
  std::string backslash_escaped =
      R"(127.0.0.1 - - [26/Nov/2026:07:06:51 +0000] "GET / HTTP/1.1" 200 1 "-" )"
      R"("agent \" pool=evil \"" pool=blue release=v1 upstream_status=200 )"
      R"(upstream_addr=127.0.0.1:8081 request_time=0.001 upstream_response_time=0.001)";
  ASSERT_EQ(format.Parse(backslash_escaped, record), std::nullopt);
  EXPECT_EQ(record.pool, "blue");
}

TEST(LogFormat, ParsesTheJsonVariantOfTheSameFields) {
  std::string error;
  LogFormatOptions options;
  options.escape = LogEscape::kJson;
  auto format = LogFormat::Compile(
      R"({"time":"$time_iso8601","remote_addr":"$remote_addr","request":"$request",)"
      R"("status":$status,"user_agent":"$http_user_agent","pool":"$upstream_http_x_app_pool",)"
      R"("release":"$upstream_http_x_release_id","upstream_status":"$upstream_status",)"
      R"("upstream_addr":"$upstream_addr","request_time":$request_time,)"
      R"("upstream_response_time":"$upstream_response_time"})",
      options, &error);
  ASSERT_TRUE(format) << error;
  LogRecord record;
  std::string line =
      R"({"time":"2026-11-26T07:06:51+00:00","remote_addr":"127.0.0.1","request":"GET / HTTP/1.1",)"
      R"("status":200,"user_agent":"say \"hi\"","pool":"green","release":"v2",)"
      R"("upstream_status":"500, 200","upstream_addr":"127.0.0.1:8081, 127.0.0.1:8082",)"
      R"("request_time":0.020,"upstream_response_time":"0.004, 0.012"})";
  ASSERT_EQ(format->Parse(line, record), std::nullopt);
  EXPECT_EQ(record.status, 200);
  EXPECT_EQ(record.pool, "green");
  EXPECT_EQ(record.attempts.size(), 2u);
  EXPECT_EQ(FormatRfc3339(record.time), "2026-11-26T07:06:51Z");
}

struct MalformedCase {
  std::string name;
  std::string line;
  MalformedReason reason;
};

class MalformedLines : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedLines, AreReportedWithTheirReason) {
  LogFormat format = DefaultFormat();
  LogRecord record;
  EXPECT_EQ(format.Parse(GetParam().line, record), GetParam().reason);
}

std::string Replace(std::string_view line, std::string_view from, std::string_view to) {
  std::string s(line);
  s.replace(s.find(from), from.size(), to);
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedLines,
    ::testing::Values(
        MalformedCase{"empty", "", MalformedReason::kEmpty},
        MalformedCase{"garbage", std::string(300, 'x'), MalformedReason::kFormatMismatch},
        MalformedCase{
            "binary",
            std::string(kPlainLine.substr(0, 40)) + '\0' + std::string(kPlainLine.substr(40)),
            MalformedReason::kBinary},
        MalformedCase{"truncated", std::string(kPlainLine.substr(0, 60)),
                      MalformedReason::kTruncated},
        MalformedCase{"cut_after_user_agent", std::string(kPlainLine.substr(0, 120)),
                      MalformedReason::kFormatMismatch},
        MalformedCase{"combined_format",
                      R"(127.0.0.1 - - [26/Nov/2026:07:06:51 +0000] "GET / HTTP/1.1" 200 45 "-" )"
                      R"("a very long user agent string that makes this line long enough to )"
                      R"(pass the length check of the parser and still not match at all")",
                      MalformedReason::kFormatMismatch},
        MalformedCase{"bad_status", Replace(kPlainLine, "\" 200 ", "\" 2x0 "),
                      MalformedReason::kBadStatus},
        MalformedCase{"bad_time", Replace(kPlainLine, "26/Nov", "99/Nov"),
                      MalformedReason::kBadTime},
        MalformedCase{"bad_request_time",
                      Replace(kPlainLine, "request_time=0.012", "request_time=abc"),
                      MalformedReason::kBadNumber},
        MalformedCase{"bad_upstream_status",
                      Replace(kPlainLine, "upstream_status=200", "upstream_status=2000"),
                      MalformedReason::kBadNumber}),
    [](const auto& info) { return info.param.name; });

TEST(LogFormat, NamesTheRequiredVariablesAFormatLacks) {
  std::string error;
  auto format = LogFormat::Compile(
      R"($remote_addr [$time_local] "$request" $status $body_bytes_sent)", {}, &error);
  EXPECT_FALSE(format);
  EXPECT_THAT(error, HasSubstr("$upstream_http_x_app_pool"));
  EXPECT_THAT(error, HasSubstr("$upstream_addr"));
  EXPECT_THAT(error, HasSubstr("$upstream_status"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("$status,")));
}

TEST(LogFormat, RejectsAdjacentVariables) {
  std::string error;
  EXPECT_FALSE(LogFormat::Compile(
      "$time_local $status$upstream_http_x_app_pool $upstream_addr $upstream_status", {}, &error));
  EXPECT_THAT(error, HasSubstr("$status$upstream_http_x_app_pool"));
}

TEST(LogFormat, SkipsUnknownVariablesAndAcceptsBracedNames) {
  std::string error;
  auto format = LogFormat::Compile(
      "${time_iso8601} $status $ssl_protocol pool=$upstream_http_x_app_pool a=$upstream_addr "
      "s=$upstream_status",
      {}, &error);
  ASSERT_TRUE(format) << error;
  LogRecord record;
  ASSERT_EQ(
      format->Parse("2026-11-26T07:06:51+00:00 503 TLSv1.3 pool=green a=10.0.0.2:80 s=503", record),
      std::nullopt);
  EXPECT_EQ(record.status, 503);
  EXPECT_EQ(record.pool, "green");
}

TEST(PoolResolver, AttributesTheFailedFirstAttemptToThePoolLearnedForItsAddress) {
  LogFormat format = DefaultFormat();
  PoolResolver resolver;
  LogRecord record;
  ASSERT_EQ(format.Parse(kPlainLine, record), std::nullopt);
  resolver.Resolve(record);
  ASSERT_EQ(format.Parse(kRetriedLine, record), std::nullopt);
  resolver.Resolve(record);
  EXPECT_EQ(record.attempts[0].pool, "blue");
  EXPECT_EQ(record.attempts[1].pool, "green");
  EXPECT_EQ(record.pool, "green");
}

TEST(PoolResolver, UsesTheConfiguredMapBeforeAnythingIsLearned) {
  LogFormat format = DefaultFormat();
  PoolResolver resolver(std::map<std::string, std::string>{{"127.0.0.1:8081", "blue"}});
  LogRecord record;
  ASSERT_EQ(format.Parse(kRetriedLine, record), std::nullopt);
  resolver.Resolve(record);
  EXPECT_EQ(record.attempts[0].pool, "blue");
}

TEST(PoolResolver, MarksUnlearnedAddressesUnknownAndNginxAnswersNone) {
  LogFormat format = DefaultFormat();
  PoolResolver resolver;
  LogRecord record;
  ASSERT_EQ(format.Parse(kRetriedLine, record), std::nullopt);
  resolver.Resolve(record);
  EXPECT_EQ(record.attempts[0].pool, kPoolUnknown);

  std::string no_upstream = Replace(Replace(Replace(kPlainLine, "pool=blue", "pool=-"),
                                            "upstream_status=200", "upstream_status=-"),
                                    "upstream_addr=127.0.0.1:8081", "upstream_addr=-");
  ASSERT_EQ(format.Parse(no_upstream, record), std::nullopt);
  resolver.Resolve(record);
  EXPECT_EQ(record.pool, kPoolNone);
}

TEST(PoolResolver, BlamesARefusedConnectionOnTheKnownPool) {
  LogFormat format = DefaultFormat();
  PoolResolver resolver;
  LogRecord record;
  ASSERT_EQ(format.Parse(kPlainLine, record), std::nullopt);
  resolver.Resolve(record);
  std::string refused = Replace(Replace(Replace(kPlainLine, "pool=blue", "pool=-"),
                                        "upstream_status=200", "upstream_status=502"),
                                "\" 200 ", "\" 502 ");
  ASSERT_EQ(format.Parse(refused, record), std::nullopt);
  resolver.Resolve(record);
  EXPECT_EQ(record.pool, "blue");
  EXPECT_EQ(record.attempts[0].pool, "blue");
}

TEST(PoolResolver, TreatsTheGroupNameAsNginxAnsweringItself) {
  // Both pools down: nginx tried blue, then found no live server and logged the group's name,
  // while $upstream_http_x_app_pool still held the header of an earlier response.
  LogFormat format = DefaultFormat();
  PoolResolver resolver;
  LogRecord record;
  ASSERT_EQ(format.Parse(kRetriedLine, record), std::nullopt);
  resolver.Resolve(record);
  std::string no_live =
      Replace(Replace(Replace(kRetriedLine, "upstream_status=500, 200", "upstream_status=500, 502"),
                      "127.0.0.1:8081, 127.0.0.1:8082", "127.0.0.1:8082, app_pools"),
              "\" 200 ", "\" 502 ");
  ASSERT_EQ(format.Parse(no_live, record), std::nullopt);
  resolver.Resolve(record);
  EXPECT_EQ(record.pool, kPoolNone);
  EXPECT_EQ(record.attempts[0].pool, "green");
  EXPECT_EQ(record.attempts[1].pool, kPoolNone);
  EXPECT_EQ(resolver.Known().count("app_pools"), 0u);
}

TEST(PoolResolver, StopsLearningPastItsCap) {
  PoolResolver resolver({}, 2);
  resolver.Learn("a:1", "blue");
  resolver.Learn("b:1", "green");
  resolver.Learn("c:1", "red");
  EXPECT_EQ(resolver.Known().size(), 2u);
}

}  // namespace
}  // namespace poolwatch
