#include "exporter/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

namespace poolwatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

template <typename Integer>
void AppendInteger(std::string& out, Integer value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

// As an ostream with precision 16 writes a double (printf's %.16g), which is what
// prometheus-cpp's serializer uses.
void AppendDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
    return;
  }
  // Most values are counts: whole numbers of at most 15 digits, which %.16g prints as integers.
  // Integer formatting is several times faster than the general path. -0 must stay "-0".
  if (std::fabs(value) < 1e15 && value == std::trunc(value) && !std::signbit(value)) {
    AppendInteger(out, static_cast<int64_t>(value));
    return;
  }
  char buffer[32];
  const auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::general, 16);
  out.append(buffer, result.ptr);
}

// Escapes for a label value: backslash, double quote and line feed.
void AppendLabelValue(std::string& out, std::string_view value) {
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(value.substr(start, i - start));
    out += '\\';
    out += c == '\n' ? 'n' : c;
    start = i + 1;
  }
  out.append(value.substr(start));
}

// The text format escapes backslash and line feed in HELP (not the double quote).
void AppendHelp(std::string& out, std::string_view help) {
  size_t start = 0;
  for (size_t i = 0; i < help.size(); ++i) {
    const char c = help[i];
    if (c != '\\' && c != '\n') continue;
    out.append(help.substr(start, i - start));
    out += '\\';
    out += c == '\n' ? 'n' : c;
    start = i + 1;
  }
  out.append(help.substr(start));
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Summary:
      return "summary";
    case MetricType::Histogram:
      return "histogram";
    case MetricType::Untyped:
      break;
  }
  return "untyped";
}

}  // namespace

TextFamilyWriter::TextFamilyWriter(std::string& out, std::string_view name, std::string_view help,
                                   MetricType type)
    : out_(out), name_(name), help_(help), type_(type) {}

void TextFamilyWriter::Start() {
  if (started_) return;
  started_ = true;
  if (!help_.empty()) {
    out_ += "# HELP ";
    out_ += name_;
    out_ += ' ';
    AppendHelp(out_, help_);
    out_ += '\n';
  }
  out_ += "# TYPE ";
  out_ += name_;
  out_ += ' ';
  out_ += TypeName(type_);
  out_ += '\n';
}

void TextFamilyWriter::Metric(std::initializer_list<Label> labels, int64_t timestamp_ms) {
  Begin(timestamp_ms);
  for (const auto& [name, value] : labels) AddLabel(name, value);
}

void TextFamilyWriter::Metric(const std::vector<ClientMetric::Label>& labels,
                              int64_t timestamp_ms) {
  Begin(timestamp_ms);
  for (const ClientMetric::Label& label : labels) AddLabel(label.name, label.value);
}

void TextFamilyWriter::MetricLabels(std::span<const Label> labels) {
  Begin(0);
  for (const auto& [name, value] : labels) AddLabel(name, value);
}

void TextFamilyWriter::Begin(int64_t timestamp_ms) {
  Start();
  labels_.clear();
  timestamp_ms_ = timestamp_ms;
}

void TextFamilyWriter::AddLabel(std::string_view name, std::string_view value) {
  if (!labels_.empty()) labels_ += ',';
  labels_ += name;
  labels_ += "=\"";
  AppendLabelValue(labels_, value);
  labels_ += '"';
}

void TextFamilyWriter::Value(double value) {
  Head("");
  AppendDouble(out_, value);
  Tail();
}

void TextFamilyWriter::Summary(const ClientMetric::Summary& summary) {
  Head("_count");
  AppendInteger(out_, summary.sample_count);
  Tail();
  Head("_sum");
  AppendDouble(out_, summary.sample_sum);
  Tail();
  for (const ClientMetric::Quantile& q : summary.quantile) {
    scratch_.clear();
    AppendDouble(scratch_, q.quantile);
    Head("", "quantile", scratch_);
    AppendDouble(out_, q.value);
    Tail();
  }
}

void TextFamilyWriter::Histogram(const ClientMetric::Histogram& histogram) {
  Head("_count");
  AppendInteger(out_, histogram.sample_count);
  Tail();
  Head("_sum");
  AppendDouble(out_, histogram.sample_sum);
  Tail();
  bool ends_with_inf = false;
  for (size_t i = 0; i < histogram.bucket.size(); ++i) {
    const ClientMetric::Bucket& bucket = histogram.bucket[i];
    Head("_bucket", "le", Bound(i, bucket.upper_bound));
    AppendInteger(out_, bucket.cumulative_count);
    Tail();
    ends_with_inf = std::isinf(bucket.upper_bound) && bucket.upper_bound > 0;
  }
  if (!ends_with_inf) {
    Head("_bucket", "le", "+Inf");
    AppendInteger(out_, histogram.sample_count);
    Tail();
  }
}

const std::string& TextFamilyWriter::Bound(size_t i, double bound) {
  if (i >= bounds_.size()) bounds_.resize(i + 1);
  auto& [value, text] = bounds_[i];
  if (text.empty() || std::memcmp(&value, &bound, sizeof(bound)) != 0) {
    value = bound;
    text.clear();
    AppendDouble(text, bound);
  }
  return text;
}

void TextFamilyWriter::Head(std::string_view suffix, std::string_view extra_name,
                            std::string_view extra_value) {
  out_ += name_;
  out_ += suffix;
  if (!labels_.empty() || !extra_name.empty()) {
    out_ += '{';
    out_ += labels_;
    if (!extra_name.empty()) {
      if (!labels_.empty()) out_ += ',';
      out_ += extra_name;
      out_ += "=\"";
      AppendLabelValue(out_, extra_value);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void TextFamilyWriter::Tail() {
  if (timestamp_ms_ != 0) {
    out_ += ' ';
    AppendInteger(out_, timestamp_ms_);
  }
  out_ += '\n';
}

void AppendTextExposition(const std::vector<MetricFamily>& families, std::string& out) {
  for (const MetricFamily& family : families) {
    TextFamilyWriter writer(out, family.name, family.help, family.type);
    writer.Start();  // a family without metrics still gets its comments, as from TextSerializer
    for (const ClientMetric& metric : family.metric) {
      writer.Metric(metric.label, metric.timestamp_ms);
      switch (family.type) {
        case MetricType::Counter:
          writer.Value(metric.counter.value);
          break;
        case MetricType::Gauge:
          writer.Value(metric.gauge.value);
          break;
        case MetricType::Untyped:
          writer.Value(metric.untyped.value);
          break;
        case MetricType::Summary:
          writer.Summary(metric.summary);
          break;
        case MetricType::Histogram:
          writer.Histogram(metric.histogram);
          break;
      }
    }
  }
}

}  // namespace poolwatch
