// ParseNginxSyslog: what nginx's access_log syslog: writes, with and without nohostname.
#include "exporter/syslog_message.h"

#include <gtest/gtest.h>

namespace poolwatch {
namespace {

constexpr std::string_view kLine =
    "127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] \"GET /version HTTP/1.1\" 200 51";

TEST(ParseNginxSyslog, WithTheHostName) {
  const std::string datagram = "<190>Nov 26 07:00:00 web-1 nginx: " + std::string(kLine);
  const auto m = ParseNginxSyslog(datagram);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->priority, 190);
  EXPECT_EQ(m->timestamp, "Nov 26 07:00:00");
  EXPECT_EQ(m->host, "web-1");
  EXPECT_EQ(m->tag, "nginx");
  EXPECT_EQ(m->message, kLine);
}

TEST(ParseNginxSyslog, WithoutTheHostNameAndASpacePaddedDay) {
  const std::string datagram = "<134>Dec  5 21:40:00 shop_blue: " + std::string(kLine);
  const auto m = ParseNginxSyslog(datagram);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->priority, 134);
  EXPECT_EQ(m->timestamp, "Dec  5 21:40:00");
  EXPECT_EQ(m->host, "");
  EXPECT_EQ(m->tag, "shop_blue");
  EXPECT_EQ(m->message, kLine);
}

TEST(ParseNginxSyslog, ANewlineARelayAddedIsDropped) {
  // The message is a view into the datagram, which must outlive it.
  const std::string datagram = "<190>Nov 26 07:00:00 nginx: " + std::string(kLine) + "\n";
  const auto m = ParseNginxSyslog(datagram);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->message, kLine);
}

TEST(ParseNginxSyslog, AnEmptyMessageIsStillAMessage) {
  // The pipeline counts it as an empty line, as in a file.
  const auto m = ParseNginxSyslog("<190>Nov 26 07:00:00 nginx: ");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->message, "");
}

TEST(ParseNginxSyslog, WhatIsNotNginxsShapeIsRefused) {
  for (std::string_view bad : {
           std::string_view(""),
           std::string_view("127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] \"GET /\" 200 1"),
           std::string_view("<>Nov 26 07:00:00 nginx: x"),
           std::string_view("<1900>Nov 26 07:00:00 nginx: x"),
           std::string_view("<192>Nov 26 07:00:00 nginx: x"),
           std::string_view("<190 Nov 26 07:00:00 nginx: x"),
           std::string_view("<190>2026-11-26T07:00:00Z web-1 nginx: x"),  // RFC 5424's time
           std::string_view("<190>Nov 26 07:00:00"),
           std::string_view("<190>Nov 26 07:00:00 web-1 nginx x"),
           std::string_view("<190>Nov 26 07:00:00 web-1"),
           std::string_view("<190>Nov 26 07:00:00 : x"),
           std::string_view("<190>Nov 26 7:00:00 nginx: x"),
       }) {
    EXPECT_FALSE(ParseNginxSyslog(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace poolwatch
