#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace poolwatch {

// a == b for the short names of pools, releases and addresses that the rules and the metrics
// compare on every line: whole words, the last one overlapping the one before, instead of a call to
// memcmp (or a loop over bytes).
inline bool SameText(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  const auto word = [](const char* p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  };
  const auto half = [](const char* p) {
    uint32_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  };
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (word(x + i) != word(y + i)) return false;
    }
    return word(x + n - 8) == word(y + n - 8);
  }
  if (n >= 4) return half(x) == half(y) && half(x + n - 4) == half(y + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

}  // namespace poolwatch
