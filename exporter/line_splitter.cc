#include "exporter/line_splitter.h"

#include <algorithm>

namespace poolwatch {

LineSplitter::LineSplitter(size_t max_line_bytes)
    : max_line_bytes_(std::max<size_t>(max_line_bytes, 1)) {}

bool LineSplitter::Hold(const char* p, const char* end) {
  if (skipping_ || p == end) return false;
  const size_t n = static_cast<size_t>(end - p);
  // Even if the line later ends in "\r\n", more than max+1 bytes cannot fit: drop it now
  // instead of buffering an unbounded line.
  if (carry_.size() + n > max_line_bytes_ + 1) {
    carry_.clear();
    skipping_ = true;
    ++overlong_lines_;
    return true;
  }
  carry_.append(p, n);
  return false;
}

void LineSplitter::Reset() {
  // clear() keeps the capacity, so a splitter that was reset does not allocate again.
  carry_.clear();
  skipping_ = false;
  since_newline_ = 0;
}

}  // namespace poolwatch
