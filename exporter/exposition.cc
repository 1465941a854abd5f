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

// Writes the lines of one family. A metric's labels are rendered once and reused on each of
// its lines (a histogram has 14 with the default buckets), and the "le" values of the buckets
// are remembered from the previous histogram, since a family's histograms share their bounds.
class FamilyWriter {
 public:
  FamilyWriter(std::string& out, const MetricFamily& family) : out_(out), family_(family) {}

  void Write() {
    if (!family_.help.empty()) {
      out_ += "# HELP ";
      out_ += family_.name;
      out_ += ' ';
      AppendHelp(out_, family_.help);
      out_ += '\n';
    }
    out_ += "# TYPE ";
    out_ += family_.name;
    out_ += ' ';
    out_ += TypeName(family_.type);
    out_ += '\n';
    for (const ClientMetric& metric : family_.metric) WriteMetric(metric);
  }

 private:
  static std::string_view TypeName(MetricType type) {
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

  void WriteMetric(const ClientMetric& metric) {
    labels_.clear();
    for (const ClientMetric::Label& label : metric.label) {
      if (!labels_.empty()) labels_ += ',';
      labels_ += label.name;
      labels_ += "=\"";
      AppendLabelValue(labels_, label.value);
      labels_ += '"';
    }
    timestamp_ms_ = metric.timestamp_ms;
    switch (family_.type) {
      case MetricType::Counter:
        Head("");
        AppendDouble(out_, metric.counter.value);
        Tail();
        break;
      case MetricType::Gauge:
        Head("");
        AppendDouble(out_, metric.gauge.value);
        Tail();
        break;
      case MetricType::Untyped:
        Head("");
        AppendDouble(out_, metric.untyped.value);
        Tail();
        break;
      case MetricType::Summary:
        WriteSummary(metric.summary);
        break;
      case MetricType::Histogram:
        WriteHistogram(metric.histogram);
        break;
    }
  }

  void WriteSummary(const ClientMetric::Summary& summary) {
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

  void WriteHistogram(const ClientMetric::Histogram& histogram) {
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

  // The i-th bucket's bound as text, formatted once per family for bounds that repeat.
  const std::string& Bound(size_t i, double bound) {
    if (i >= bounds_.size()) bounds_.resize(i + 1);
    auto& [value, text] = bounds_[i];
    if (text.empty() || std::memcmp(&value, &bound, sizeof(bound)) != 0) {
      value = bound;
      text.clear();
      AppendDouble(text, bound);
    }
    return text;
  }

  void Head(std::string_view suffix, std::string_view extra_name = {},
            std::string_view extra_value = {}) {
    out_ += family_.name;
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

  void Tail() {
    if (timestamp_ms_ != 0) {
      out_ += ' ';
      AppendInteger(out_, timestamp_ms_);
    }
    out_ += '\n';
  }

  std::string& out_;
  const MetricFamily& family_;
  std::string labels_;   // the current metric's labels, escaped, without braces
  std::string scratch_;  // a quantile's value as text
  std::vector<std::pair<double, std::string>> bounds_;
  int64_t timestamp_ms_ = 0;
};

}  // namespace

void AppendTextExposition(const std::vector<MetricFamily>& families, std::string& out) {
  for (const MetricFamily& family : families) FamilyWriter(out, family).Write();
}

}  // namespace poolwatch
