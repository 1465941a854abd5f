#include "exporter/syslog_sources.h"

#include <charconv>

#include "exporter/metrics.h"

namespace poolwatch {

std::string_view SyslogLabelName(SyslogLabel label) {
  switch (label) {
    case SyslogLabel::kTag:
      return "syslog_tag";
    case SyslogLabel::kHost:
      return "host";
  }
  return "";
}

namespace {

std::string_view ValueOf(SyslogLabel label, const SyslogMessage& message) {
  return label == SyslogLabel::kTag ? message.tag : message.host;
}

}  // namespace

SyslogSources::SyslogSources(SyslogSourcesOptions options) : options_(std::move(options)) {}

LineSource SyslogSources::MakeSource(const SyslogMessage& message) const {
  LineSource source;
  source.values.resize(options_.leading_values);
  for (SyslogLabel label : options_.labels) source.values.emplace_back(ValueOf(label, message));
  source.id = NewLineSourceId();
  return source;
}

const LineSource& SyslogSources::SourceOf(const SyslogMessage& message) {
  // Only the configured labels tell senders apart: with just syslog_tag, every host sending
  // the same tag is one source. Each value's length goes first, so no bytes of one value can
  // pass for the boundary between two.
  key_.clear();
  for (SyslogLabel label : options_.labels) {
    const std::string_view value = ValueOf(label, message);
    char digits[24];
    key_.append(digits, std::to_chars(digits, digits + sizeof(digits), value.size()).ptr);
    key_ += ':';
    key_.append(value);
  }
  if (auto it = by_key_.find(std::string_view(key_)); it != by_key_.end()) return *it->second;
  if (by_key_.size() >= options_.max_sources) {
    if (overflow_ == nullptr) {
      overflow_ = std::make_unique<LineSource>();
      overflow_->values.resize(options_.leading_values);
      overflow_->values.resize(options_.leading_values + options_.labels.size(),
                               std::string(kOverflowLabel));
      overflow_->id = NewLineSourceId();
    }
    return *overflow_;
  }
  const LineSource& source =
      *sources_.emplace_back(std::make_unique<LineSource>(MakeSource(message)));
  by_key_.emplace(key_, &source);
  return source;
}

}  // namespace poolwatch
