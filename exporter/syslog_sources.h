#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/log_record.h"
#include "exporter/syslog_message.h"

namespace poolwatch {

// log.syslog.labels: what of a datagram becomes a source label.
enum class SyslogLabel {
  kTag,   // syslog_tag: nginx's tag= ("nginx" by default), one per access_log directive
  kHost,  // host: the sender's hostname; "" (metrics: "none") under nohostname
};
std::string_view SyslogLabelName(SyslogLabel label);  // "syslog_tag", "host"

struct SyslogSourcesOptions {
  std::vector<SyslogLabel> labels;  // in log.syslog.labels' order
  // Source values before the syslog labels' (log.path_label's), left empty for a datagram.
  size_t leading_values = 0;
  // More distinct senders (combinations of the labels' values) → one source, "other" in each
  // syslog label. Bounds the table's memory whatever is sent to the socket.
  size_t max_sources = 50;
};

// The LineSource of each sender that syslog datagrams come from, so their lines carry the tag
// and host as source labels (metrics) and LogRecord::source (rules' group_by). A sender's
// source is made when its first datagram arrives and then kept, at the same address and with the
// same id, as long as the table lives: after that a datagram costs one hash lookup and no
// allocation. Not thread-safe: the reading thread's.
class SyslogSources {
 public:
  explicit SyslogSources(SyslogSourcesOptions options);
  SyslogSources(const SyslogSources&) = delete;
  SyslogSources& operator=(const SyslogSources&) = delete;

  // The source of `message`'s sender; valid while the table lives.
  const LineSource& SourceOf(const SyslogMessage& message);
  // Senders with a source of their own (not counting "other").
  size_t size() const { return by_key_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  LineSource MakeSource(const SyslogMessage& message) const;

  SyslogSourcesOptions options_;
  std::vector<std::unique_ptr<LineSource>> sources_;  // stable addresses
  std::unordered_map<std::string, const LineSource*, Hash, std::equal_to<>> by_key_;
  std::unique_ptr<LineSource> overflow_;
  std::string key_;  // the current datagram's key, its buffer reused
};

}  // namespace poolwatch
