#include "app/replay_order.h"

#include <algorithm>
#include <numeric>

namespace poolwatch {

std::vector<size_t> OrderByFirstLine(std::span<const std::optional<TimePoint>> first_line_times) {
  std::vector<size_t> order(first_line_times.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const bool a_known = first_line_times[a].has_value();
    const bool b_known = first_line_times[b].has_value();
    if (a_known != b_known) return a_known;
    return a_known && *first_line_times[a] < *first_line_times[b];
  });
  return order;
}

}  // namespace poolwatch
