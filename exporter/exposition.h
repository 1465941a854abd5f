#pragma once

#include <prometheus/metric_family.h>

#include <string>
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

}  // namespace poolwatch
