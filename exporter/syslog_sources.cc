#include "exporter/syslog_sources.h"

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
  std::vector<std::string> values(options_.leading_values);
  for (SyslogLabel label : options_.labels) values.emplace_back(ValueOf(label, message));
  return NewLineSource(std::move(values));
}

const LineSource& SyslogSources::SourceOf(const SyslogMessage& message) {
  // Only the configured labels tell senders apart: with just syslog_tag, every host sending
  // the same tag is one source.
  key_.clear();
  for (SyslogLabel label : options_.labels) AppendSourceKey(key_, ValueOf(label, message));
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
