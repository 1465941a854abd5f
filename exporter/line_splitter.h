#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace poolwatch {

// Turns a byte stream, fed in arbitrary blocks, into complete lines.
//
// Built for the hot path: lines that lie entirely inside a block are handed out as
// std::string_view into that block (found with memchr, no copy); only the unterminated
// tail of a block is copied into an internal carry buffer and joined with the next block.
//
// A line is the bytes before a '\n', minus one trailing '\r' (CRLF files). A line longer
// than `max_line_bytes` is never buffered whole: the splitter drops it (skipping input up to
// the next '\n'), counts it in overlong_lines() and calls the optional overlong callback, so
// the caller can count it as malformed ("too_long"). Memory stays bounded by max_line_bytes
// whatever the input.
//
// Not thread-safe: one owner feeds it.
class LineSplitter {
 public:
  static constexpr size_t kDefaultMaxLineBytes = 64 * 1024;

  explicit LineSplitter(size_t max_line_bytes = kDefaultMaxLineBytes);

  // Calls on_line(std::string_view) for every line completed by `block`, in order. The views
  // are valid only during the call (they point into `block` or into the carry buffer).
  template <typename OnLine>
  void Feed(std::string_view block, OnLine&& on_line) {
    Feed(block, on_line, [] {});
  }

  // As above; additionally calls on_overlong() once for each dropped overlong line, at the
  // moment it is known to be too long (possibly before its newline has arrived).
  template <typename OnLine, typename OnOverlong>
  void Feed(std::string_view block, OnLine&& on_line, OnOverlong&& on_overlong);

  // Hands out the unterminated tail as a last line (when not empty and not overlong) and
  // resets. For a file that will never be completed, e.g. one that was rotated away.
  template <typename OnLine>
  void Flush(OnLine&& on_line) {
    Flush(on_line, [] {});
  }
  template <typename OnLine, typename OnOverlong>
  void Flush(OnLine&& on_line, OnOverlong&& on_overlong);

  // Drops the partial tail and any overlong line being skipped: the input was truncated or
  // replaced, so what follows does not continue it. Counters are kept.
  void Reset();

  // Bytes of a partial line held in the carry buffer.
  size_t pending_bytes() const { return carry_.size(); }
  // Bytes fed since the last '\n' (held or being skipped). Subtracting this from the bytes
  // consumed gives the offset where the next undelivered line starts.
  uint64_t bytes_since_newline() const { return since_newline_; }
  uint64_t overlong_lines() const { return overlong_lines_; }
  size_t max_line_bytes() const { return max_line_bytes_; }

 private:
  static std::string_view TrimCr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  }

  template <typename OnLine, typename OnOverlong>
  void Deliver(std::string_view line, OnLine& on_line, OnOverlong& on_overlong) {
    line = TrimCr(line);
    if (line.size() > max_line_bytes_) [[unlikely]] {
      ++overlong_lines_;
      on_overlong();
      return;
    }
    on_line(line);
  }

  // Keeps the unterminated tail [p, end) of a block. Returns true when that made the held line
  // overlong; it is then dropped and the rest of it skipped.
  bool Hold(const char* p, const char* end);

  size_t max_line_bytes_;
  std::string carry_;
  bool skipping_ = false;  // inside an overlong line: drop everything up to the next '\n'
  uint64_t since_newline_ = 0;
  uint64_t overlong_lines_ = 0;
};

template <typename OnLine, typename OnOverlong>
void LineSplitter::Feed(std::string_view block, OnLine&& on_line, OnOverlong&& on_overlong) {
  if (block.empty()) return;  // memchr must not see the null data() of an empty view
  const char* p = block.data();
  const char* const end = p + block.size();
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', block.size()));
  if (nl == nullptr) {
    since_newline_ += block.size();
    if (Hold(p, end)) on_overlong();
    return;
  }

  // The first newline ends whatever was pending before this block.
  if (skipping_) {
    skipping_ = false;  // the overlong line was counted when it was detected
  } else if (!carry_.empty()) {
    const size_t head = static_cast<size_t>(nl - p);
    // +1: a line of exactly max bytes may still carry the '\r' of a CRLF ending.
    if (carry_.size() + head > max_line_bytes_ + 1) {
      ++overlong_lines_;
      on_overlong();
    } else {
      carry_.append(p, head);
      Deliver(carry_, on_line, on_overlong);
    }
    carry_.clear();
  } else {
    Deliver(std::string_view(p, static_cast<size_t>(nl - p)), on_line, on_overlong);
  }
  p = nl + 1;

  // Steady state: lines entirely inside the block, handed out without copying.
  while ((nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) !=
         nullptr) {
    Deliver(std::string_view(p, static_cast<size_t>(nl - p)), on_line, on_overlong);
    p = nl + 1;
  }
  since_newline_ = static_cast<uint64_t>(end - p);
  if (Hold(p, end)) on_overlong();
}

template <typename OnLine, typename OnOverlong>
void LineSplitter::Flush(OnLine&& on_line, OnOverlong&& on_overlong) {
  if (!skipping_ && !carry_.empty()) Deliver(carry_, on_line, on_overlong);
  Reset();
}

}  // namespace poolwatch
