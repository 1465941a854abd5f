#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poolwatch {

// Appends `families` to `out` in the Prometheus text format 0.0.4: the bytes
// prometheus::TextSerializer (1.0.1) writes for them, same order, same number formatting
// (%.16g, "Nan", "+Inf"), so dashboards, rules and the golden exposition see no difference.
// One exception: HELP text escapes '\\' and '\n' as the format asks (prometheus-cpp writes them
// raw, which would cut the line; poolwatch's help texts have neither).
//
// Why not TextSerializer: it formats every number through an ostream, which made it half the
// cost of a scrape at the cardinality caps (bench/README.md). Appending to a caller's string lets
// a scrape reuse the previous scrape's capacity instead of growing a 2 MB buffer page by page.
void AppendTextExposition(const std::vector<prometheus::MetricFamily>& families, std::string& out);

// Writes one family in the same format for code that keeps its series itself, without a
// prometheus::MetricFamily in between (name and help must outlive the writer). HELP and TYPE go
// out with the first metric, so a family without metrics writes nothing, as prometheus-cpp
// collects nothing for it. A metric's labels are rendered once for all its lines; the "le"
// values of histogram buckets once per family while the bounds repeat.
class TextFamilyWriter {
 public:
  using Label = std::pair<std::string_view, std::string_view>;  // name, value (unescaped)

  TextFamilyWriter(std::string& out, std::string_view name, std::string_view help,
                   prometheus::MetricType type);

  // Writes HELP and TYPE now if no metric has yet.
  void Start();
  // Starts a metric. Label names in the order prometheus-cpp keeps them: sorted.
  void Metric(std::initializer_list<Label> labels, int64_t timestamp_ms = 0);
  void Metric(const std::vector<prometheus::ClientMetric::Label>& labels, int64_t timestamp_ms);
  // The same for labels assembled at run time (a label whose name is configured).
  void MetricLabels(std::span<const Label> labels);
  // Then its value: one for a counter, gauge or untyped metric, or the lines of a summary or a
  // histogram.
  void Value(double value);
  void Summary(const prometheus::ClientMetric::Summary& summary);
  void Histogram(const prometheus::ClientMetric::Histogram& histogram);

 private:
  void Begin(int64_t timestamp_ms);
  void AddLabel(std::string_view name, std::string_view value);
  const std::string& Bound(size_t i, double bound);
  void Head(std::string_view suffix, std::string_view extra_name = {},
            std::string_view extra_value = {});
  void Tail();

  std::string& out_;
  std::string_view name_, help_;
  prometheus::MetricType type_;
  bool started_ = false;
  std::string labels_;   // the current metric's labels, escaped, without braces
  std::string scratch_;  // a quantile's value as text
  std::vector<std::pair<double, std::string>> bounds_;
  int64_t timestamp_ms_ = 0;
};

}  // namespace poolwatch
