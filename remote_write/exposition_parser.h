#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poolwatch {

// One sample of a text exposition: its labels (`__name__` first, then as written) and value.
struct ExposedSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// Reads the samples of a Prometheus text exposition (format 0.0.4) as poolwatch writes it
// (exporter/exposition.h): `# HELP`/`# TYPE` and blank lines skipped, label values unescaped
// (\\, \", \n), "+Inf", "-Inf" and "NaN"/"Nan" understood, a trailing timestamp ignored.
// Histograms come out as the _bucket/_sum/_count series the text has.
//
// Why parse our own text: /metrics is assembled from three writers (the registry's families,
// ExporterMetrics' series written straight to text for speed, the process collector), and the
// text is the one place where all of them meet. Reading it back pushes exactly what a scrape
// sees, and any future part of /metrics without a change here. A line that cannot be read is
// skipped and counted in `malformed` (none is expected from our writers).
std::vector<ExposedSample> ParseTextExposition(std::string_view text, size_t* malformed = nullptr);

// The same reading in two halves, for a reader that keeps labels between snapshots: each sample
// line with its series as written ("name{a=\"x\"}", checked) and its value, without a copy;
// returns how many lines could not be read. SeriesLabels() then reads such a series' labels.
struct SampleLine {
  std::string_view series;
  double value = 0;
};
size_t ForEachSampleLine(std::string_view text, const std::function<void(const SampleLine&)>& each);
std::vector<std::pair<std::string, std::string>> SeriesLabels(std::string_view series);

}  // namespace poolwatch
