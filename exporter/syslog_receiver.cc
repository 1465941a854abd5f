#include "exporter/syslog_receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exporter/syslog_message.h"

namespace poolwatch {
namespace {

// Room for what precedes the line: "<PRI>Mmm dd hh:mm:ss ", a host name (up to 255 bytes) and
// a tag (nginx allows 32).
constexpr size_t kHeaderAllowance = 512;
// Several thousand access log lines, with the kernel's overhead per datagram counted.
constexpr int kUdpReceiveBuffer = 8 << 20;

std::string Describe(const SyslogEndpoint& e) {
  if (e.kind == SyslogEndpoint::Kind::kUnixgram) return "unixgram://" + e.path;
  return "udp://" + (e.host.empty() ? std::string("0.0.0.0") : e.host) + ":" +
         std::to_string(e.port);
}

}  // namespace

SyslogReceiver::SyslogReceiver(SyslogReceiverOptions options) : options_(std::move(options)) {}

SyslogReceiver::~SyslogReceiver() {
  for (Socket& s : sockets_) {
    if (s.fd >= 0) ::close(s.fd);
    if (s.endpoint.kind == SyslogEndpoint::Kind::kUnixgram) ::unlink(s.endpoint.path.c_str());
  }
}

bool SyslogReceiver::Open(std::string* error) {
  buffer_.assign(options_.max_message_bytes + kHeaderAllowance, '\0');
  control_.assign(CMSG_SPACE(sizeof(uint32_t)), '\0');
  for (const SyslogEndpoint& endpoint : options_.endpoints) {
    if (!Bind(endpoint, error)) return false;
  }
  return true;
}

bool SyslogReceiver::Bind(const SyslogEndpoint& endpoint, std::string* error) {
  const bool udp = endpoint.kind == SyslogEndpoint::Kind::kUdp;
  const int fd = ::socket(udp ? AF_INET : AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  auto fail = [&](const std::string& what) {
    *error = "syslog " + Describe(endpoint) + ": " + what + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  };
  if (fd < 0) return fail("cannot create a socket");
  Socket socket;
  socket.fd = fd;
  socket.endpoint = endpoint;
  if (udp) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(endpoint.port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (!endpoint.host.empty() &&
        ::inet_pton(AF_INET, endpoint.host.c_str(), &addr.sin_addr) != 1) {
      errno = EINVAL;
      return fail("not an IPv4 address");
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      return fail("cannot bind");
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    socket.endpoint.port = ntohs(addr.sin_port);
    // Room for bursts: nginx does not wait for poolwatch. The kernel caps the request at
    // net.core.rmem_max (208 KiB unless raised), so a failure here is not an error.
    const int buffer = kUdpReceiveBuffer;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    // The kernel's count of datagrams dropped for a full receive buffer, on every datagram.
    const int on = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) != 0) {
      return fail("cannot count drops (SO_RXQ_OVFL)");
    }
  } else {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (endpoint.path.size() >= sizeof(addr.sun_path)) {
      errno = ENAMETOOLONG;
      return fail("path too long for a unix socket");
    }
    std::memcpy(addr.sun_path, endpoint.path.data(), endpoint.path.size());
    struct stat st {};
    // A socket file an earlier run left behind would make bind() fail; anything else is not
    // ours to remove.
    if (::lstat(endpoint.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      ::unlink(endpoint.path.c_str());
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      return fail("cannot bind");
    // nginx's workers write as their own user (www-data, nobody).
    if (::chmod(endpoint.path.c_str(), 0666) != 0) {
      ::unlink(endpoint.path.c_str());
      return fail("cannot make the socket writable");
    }
  }
  sockets_.push_back(socket);
  return true;
}

bool SyslogReceiver::ReadOne(Socket& socket, MessageSink on_message) {
  iovec iov{buffer_.data(), buffer_.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control_.data();
  msg.msg_controllen = control_.size();
  ssize_t n;
  do {
    n = ::recvmsg(socket.fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;  // EAGAIN: nothing waiting (other errors: nothing to read either)
  SyslogStats& stats = socket.stats;
  ++stats.received;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      uint32_t drops = 0;
      std::memcpy(&drops, CMSG_DATA(c), sizeof(drops));
      stats.dropped += static_cast<uint32_t>(drops - socket.drops_seen);  // wraps at 2^32
      socket.drops_seen = drops;
    }
  }
  if (msg.msg_flags & MSG_TRUNC) {
    ++stats.oversized;
    return true;
  }
  const std::optional<SyslogMessage> message =
      ParseNginxSyslog(std::string_view(buffer_.data(), static_cast<size_t>(n)));
  if (!message) {
    ++stats.malformed;
    return true;
  }
  if (message->message.size() > options_.max_message_bytes) {
    ++stats.oversized;
    return true;
  }
  stats.bytes += message->message.size();
  on_message(*message);
  return true;
}

SyslogReceiver::PollResult SyslogReceiver::Poll(LineSink on_line, size_t max_datagrams) {
  return PollMessages([on_line](const SyslogMessage& message) { on_line(message.message); },
                      max_datagrams);
}

SyslogReceiver::PollResult SyslogReceiver::PollMessages(MessageSink on_message,
                                                        size_t max_datagrams) {
  PollResult result;
  // Round-robin, one datagram per socket at a time, so a flood on one does not starve another.
  bool any = true;
  while (any) {
    any = false;
    for (Socket& socket : sockets_) {
      if (result.datagrams >= max_datagrams) {
        result.more = true;
        return result;
      }
      if (ReadOne(socket, on_message)) {
        ++result.datagrams;
        any = true;
      }
    }
  }
  return result;
}

SyslogStats SyslogReceiver::stats() const {
  SyslogStats sum;
  for (const Socket& s : sockets_) {
    sum.received += s.stats.received;
    sum.malformed += s.stats.malformed;
    sum.oversized += s.stats.oversized;
    sum.dropped += s.stats.dropped;
    sum.bytes += s.stats.bytes;
  }
  return sum;
}

std::vector<int> SyslogReceiver::fds() const {
  std::vector<int> out;
  for (const Socket& s : sockets_) out.push_back(s.fd);
  return out;
}

std::vector<std::string> SyslogReceiver::BoundAddresses() const {
  std::vector<std::string> out;
  for (const Socket& s : sockets_) out.push_back(Describe(s.endpoint));
  return out;
}

}  // namespace poolwatch
