// SyslogReceiver on real sockets on loopback: UDP and unix datagram sockets, what is not a
// usable line counted, drops of a full receive buffer counted from the kernel's own count.
#include "exporter/syslog_receiver.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kLine = "127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] \"GET / HTTP/1.1\" 200 1";

int UdpPort(const SyslogReceiver& receiver) {
  const std::string address = receiver.BoundAddresses().at(0);
  return std::stoi(address.substr(address.rfind(':') + 1));
}

void SendUdp(int port, const std::string& datagram) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                   sizeof(addr)),
            static_cast<ssize_t>(datagram.size()));
  close(fd);
}

void SendUnix(const std::string& path, const std::string& datagram) {
  const int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  ASSERT_EQ(sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                   sizeof(addr)),
            static_cast<ssize_t>(datagram.size()))
      << std::strerror(errno);
  close(fd);
}

// Polls until `count` datagrams have been read (or 5 s pass), collecting the lines.
std::vector<std::string> Receive(SyslogReceiver& receiver, uint64_t count) {
  std::vector<std::string> lines;
  uint64_t seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen < count && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> fds;
    for (int fd : receiver.fds()) fds.push_back({fd, POLLIN, 0});
    poll(fds.data(), fds.size(), 50);
    seen += receiver.Poll([&](std::string_view line) { lines.emplace_back(line); }).datagrams;
  }
  return lines;
}

TEST(SyslogReceiver, UdpDatagramsFromNginxBecomeLines) {
  SyslogReceiver receiver({{{SyslogEndpoint::Kind::kUdp, "127.0.0.1", 0, ""}}});
  std::string error;
  ASSERT_TRUE(receiver.Open(&error)) << error;
  const int port = UdpPort(receiver);
  ASSERT_GT(port, 0);
  SendUdp(port, "<190>Nov 26 07:00:00 web-1 nginx: " + kLine + " a");
  SendUdp(port, "<190>Nov 26 07:00:00 nginx: " + kLine + " b");
  SendUdp(port, "<190>Nov 26 07:00:00 nginx: " + kLine + " c\n");
  EXPECT_THAT(Receive(receiver, 3), ElementsAre(kLine + " a", kLine + " b", kLine + " c"));
  EXPECT_EQ(receiver.stats().received, 3u);
  EXPECT_EQ(receiver.stats().malformed, 0u);
  EXPECT_EQ(receiver.stats().bytes, 3 * (kLine.size() + 2));
}

TEST(SyslogReceiver, UnixDatagramsBecomeLinesAndTheSocketFileIsManaged) {
  TempDir dir;
  const std::string path = (dir / "syslog.sock").string();
  {
    // A socket file left behind by a run that did not end cleanly.
    const int stale = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    ASSERT_EQ(bind(stale, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(stale);
  }
  {
    SyslogReceiver receiver({{{SyslogEndpoint::Kind::kUnixgram, "", 0, path}}});
    std::string error;
    ASSERT_TRUE(receiver.Open(&error)) << error;
    EXPECT_THAT(receiver.BoundAddresses(), ElementsAre("unixgram://" + path));
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0666u);  // nginx's workers run as another user
    SendUnix(path, "<190>Nov 26 07:00:00 nginx: " + kLine);
    EXPECT_THAT(Receive(receiver, 1), ElementsAre(kLine));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SyslogReceiver, MalformedAndOversizedDatagramsAreCountedAndSkipped) {
  TempDir dir;
  const std::string path = (dir / "syslog.sock").string();
  SyslogReceiverOptions options;
  options.endpoints = {{SyslogEndpoint::Kind::kUnixgram, "", 0, path}};
  options.max_message_bytes = 1000;
  SyslogReceiver receiver(options);
  std::string error;
  ASSERT_TRUE(receiver.Open(&error)) << error;
  SendUnix(path, kLine);                                                    // no syslog header
  SendUnix(path, "<190>Nov 26 07:00:00 nginx: " + std::string(1001, 'x'));  // message too long
  SendUnix(path, "<190>Nov 26 07:00:00 nginx: " + std::string(5000, 'x'));  // datagram too long
  SendUnix(path, "<190>Nov 26 07:00:00 nginx: " + std::string(1000, 'y'));  // just fits
  EXPECT_THAT(Receive(receiver, 4), ElementsAre(std::string(1000, 'y')));
  EXPECT_EQ(receiver.stats().received, 4u);
  EXPECT_EQ(receiver.stats().malformed, 1u);
  EXPECT_EQ(receiver.stats().oversized, 2u);
  EXPECT_EQ(receiver.stats().dropped, 0u);
}

// The status page shows each listener on its own; stats() is all of them together.
TEST(SyslogReceiver, EachListenerCountsItsOwnDatagrams) {
  TempDir dir;
  const std::string path = (dir / "syslog.sock").string();
  SyslogReceiver receiver({{{SyslogEndpoint::Kind::kUdp, "127.0.0.1", 0, ""},
                            {SyslogEndpoint::Kind::kUnixgram, "", 0, path}}});
  std::string error;
  ASSERT_TRUE(receiver.Open(&error)) << error;
  const int port = UdpPort(receiver);
  ASSERT_GT(port, 0);
  SendUdp(port, "<190>Nov 26 07:00:00 nginx: " + kLine);
  SendUdp(port, "<190>Nov 26 07:00:00 nginx: " + kLine);
  SendUnix(path, kLine);  // no syslog header
  EXPECT_THAT(Receive(receiver, 3), ElementsAre(kLine, kLine));
  EXPECT_EQ(receiver.listener_stats(0).received, 2u);
  EXPECT_EQ(receiver.listener_stats(0).malformed, 0u);
  EXPECT_EQ(receiver.listener_stats(1).received, 1u);
  EXPECT_EQ(receiver.listener_stats(1).malformed, 1u);
  EXPECT_EQ(receiver.stats().received, 3u);
  EXPECT_EQ(receiver.stats().malformed, 1u);
  EXPECT_EQ(receiver.stats().bytes, 2 * kLine.size());
}

TEST(SyslogReceiver, DatagramsDroppedForAFullReceiveBufferAreCounted) {
  SyslogReceiver receiver({{{SyslogEndpoint::Kind::kUdp, "127.0.0.1", 0, ""}}});
  std::string error;
  ASSERT_TRUE(receiver.Open(&error)) << error;
  const int small = 4096;  // the kernel doubles it; still only a few datagrams fit
  ASSERT_EQ(setsockopt(receiver.fds()[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  const int port = UdpPort(receiver);
  const int sent = 500;
  for (int i = 0; i < sent; ++i) {
    SendUdp(port, "<190>Nov 26 07:00:00 nginx: " + kLine + " " + std::to_string(i));
  }
  // Nothing read meanwhile: most were dropped. The kernel reports drops with the next datagram
  // read, so one more after the others were read tells the rest.
  std::vector<std::string> lines;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool last_sent = false;
  while (receiver.stats().received + receiver.stats().dropped < sent + 1u &&
         std::chrono::steady_clock::now() < deadline) {
    const auto result = receiver.Poll([&](std::string_view line) { lines.emplace_back(line); });
    if (result.datagrams == 0 && !last_sent) {
      SendUdp(port, "<190>Nov 26 07:00:00 nginx: last");
      last_sent = true;
    }
    pollfd fd{receiver.fds()[0], POLLIN, 0};
    poll(&fd, 1, 20);
  }
  EXPECT_EQ(receiver.stats().received + receiver.stats().dropped, sent + 1u);
  EXPECT_GT(receiver.stats().dropped, 0u);
  EXPECT_EQ(lines.size(), receiver.stats().received);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "last");
}

TEST(SyslogReceiver, APortInUseFailsNamingTheEndpoint) {
  SyslogReceiver first({{{SyslogEndpoint::Kind::kUdp, "127.0.0.1", 0, ""}}});
  std::string error;
  ASSERT_TRUE(first.Open(&error)) << error;
  const int port = UdpPort(first);
  SyslogReceiver second(
      {{{SyslogEndpoint::Kind::kUdp, "127.0.0.1", static_cast<uint16_t>(port), ""}}});
  EXPECT_FALSE(second.Open(&error));
  EXPECT_THAT(error, HasSubstr("syslog udp://127.0.0.1:" + std::to_string(port) +
                               ": cannot bind: Address already in use"));
}

TEST(SyslogReceiver, AFloodOnOneSocketDoesNotStarveTheOther) {
  TempDir dir;
  const std::string path = (dir / "syslog.sock").string();
  SyslogReceiver receiver({{{SyslogEndpoint::Kind::kUdp, "127.0.0.1", 0, ""},
                            {SyslogEndpoint::Kind::kUnixgram, "", 0, path}}});
  std::string error;
  ASSERT_TRUE(receiver.Open(&error)) << error;
  // A unix datagram socket queues 10 (net.unix.max_dgram_qlen); more would block the sender.
  for (int i = 0; i < 8; ++i) SendUnix(path, "<190>Nov 26 07:00:00 nginx: unix");
  SendUdp(UdpPort(receiver), "<190>Nov 26 07:00:00 nginx: udp");
  pollfd fd{receiver.fds()[0], POLLIN, 0};
  ASSERT_EQ(poll(&fd, 1, 5000), 1);
  std::vector<std::string> lines;
  const auto result = receiver.Poll([&](std::string_view line) { lines.emplace_back(line); }, 4);
  EXPECT_TRUE(result.more);
  EXPECT_EQ(result.datagrams, 4u);
  EXPECT_THAT(lines, ::testing::Contains("udp"));
}

}  // namespace
}  // namespace poolwatch
