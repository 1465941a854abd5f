#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "exporter/file_follower.h"
#include "exporter/line_splitter.h"
#include "exporter/syslog_message.h"

namespace poolwatch {

// Where nginx's `access_log syslog:server=…` sends to: "udp://127.0.0.1:5514" or
// "unixgram:///run/poolwatch/syslog.sock" (parsed by ParseSyslogListen, config/value_parsers.h).
struct SyslogEndpoint {
  enum class Kind { kUdp, kUnixgram };
  Kind kind = Kind::kUdp;
  std::string host;   // udp: an IPv4 address; "" or 0.0.0.0: every interface
  uint16_t port = 0;  // udp; 0: a free port (tests read it back from BoundAddresses())
  std::string path;   // unixgram
  bool operator==(const SyslogEndpoint&) const = default;
};

struct SyslogReceiverOptions {
  std::vector<SyslogEndpoint> endpoints;
  // A message longer than a log line may be (the file's limit, "too_long" there) is counted as
  // oversized and skipped.
  size_t max_message_bytes = LineSplitter::kDefaultMaxLineBytes;
};

// Counters since start; what the daemon publishes as poolwatch_syslog_datagrams_total.
struct SyslogStats {
  uint64_t received = 0;   // datagrams read, whatever their content
  uint64_t malformed = 0;  // not syslog as nginx writes it: skipped
  uint64_t oversized = 0;  // longer than max_message_bytes: skipped
  uint64_t dropped = 0;    // lost before poolwatch read them: the receive buffer was full
  uint64_t bytes = 0;      // of the messages handed on (the log lines)
};

class MessageSink;
template <typename F>
concept MessageCallable =
    std::invocable<F&, const SyslogMessage&> && !std::same_as<std::remove_cvref_t<F>, MessageSink>;

// LineSink's like for whole datagrams: the line with the tag and host it came with.
class MessageSink {
 public:
  template <MessageCallable F>
  MessageSink(F&& f)  // NOLINT(google-explicit-constructor): stands in for a callable
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, const SyslogMessage& message) {
          (*static_cast<std::remove_reference_t<F>*>(object))(message);
        }) {}

  void operator()(const SyslogMessage& message) const { call_(object_, message); }

 private:
  void* object_;
  void (*call_)(void*, const SyslogMessage&);
};

// Receives nginx's access log lines over syslog: UDP and unix datagram sockets, each datagram
// one line (ParseNginxSyslog). Datagrams are not retried by anyone, so what cannot be used is
// counted, never silently gone: malformed and oversized datagrams, and those the kernel dropped
// because the socket's receive buffer was full (SO_RXQ_OVFL; UDP only, since a unix datagram
// sender waits or fails on its own side instead). Nothing to resume after a restart: what is
// sent while poolwatch is down is lost.
//
// Driven from outside like FileFollower: the run loop waits on fds(), then calls Poll(). Not
// thread-safe. After Open() reading allocates nothing.
class SyslogReceiver {
 public:
  explicit SyslogReceiver(SyslogReceiverOptions options);
  ~SyslogReceiver();  // closes the sockets and removes the unix socket files it made
  SyslogReceiver(const SyslogReceiver&) = delete;
  SyslogReceiver& operator=(const SyslogReceiver&) = delete;

  // Binds every endpoint. False, with `error` naming the endpoint, when one cannot be bound.
  // A unix socket file left by an earlier run is replaced; the new one is writable by every
  // user (nginx's workers run as another user): restrict access with its directory.
  bool Open(std::string* error);

  struct PollResult {
    uint64_t datagrams = 0;
    bool more = false;  // stopped at max_datagrams: poll again without waiting
  };
  // Reads the datagrams waiting on every socket, at most max_datagrams, and hands the line of
  // each well-formed one to on_line.
  PollResult Poll(LineSink on_line, size_t max_datagrams = 4096);
  // The same, handing on each well-formed datagram whole: its line (`message`) with the tag and
  // host it came with (the source labels of log.syslog.labels). Views into the receive buffer,
  // valid during the call.
  PollResult PollMessages(MessageSink on_message, size_t max_datagrams = 4096);

  std::vector<int> fds() const;
  // "udp://127.0.0.1:40123" with the port as bound, "unixgram:///run/poolwatch/syslog.sock".
  std::vector<std::string> BoundAddresses() const;
  // Every listener's together.
  SyslogStats stats() const;
  // The listener BoundAddresses()[i]'s alone (the status page shows each).
  const SyslogStats& listener_stats(size_t i) const { return sockets_[i].stats; }

 private:
  struct Socket {
    int fd = -1;
    SyslogEndpoint endpoint;
    uint32_t drops_seen = 0;  // the kernel's running count of drops on this socket
    SyslogStats stats;
  };
  bool Bind(const SyslogEndpoint& endpoint, std::string* error);
  // One datagram from `socket`; false when none is waiting.
  bool ReadOne(Socket& socket, MessageSink on_message);

  SyslogReceiverOptions options_;
  std::vector<Socket> sockets_;
  std::vector<char> buffer_;
  std::vector<char> control_;
};

}  // namespace poolwatch
