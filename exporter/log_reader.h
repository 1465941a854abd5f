#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct z_stream_s;  // zlib's stream state; zlib stays out of this header

namespace poolwatch {

// One log read once from its first byte to its last, as replay reads logs: a plain file, a
// gzip file (logrotate's `compress`), or standard input ("-"). Compression is recognised by
// the gzip magic bytes, not by the name, so a renamed file or `gzip -c … |` on standard input
// is read alike; gzip members one after another (`cat a.gz b.gz`, pigz) are one log, and
// zero bytes after the last member are ignored, as gzip(1) does.
//
// Errors never throw: Read() returns nullopt and error() names the file and how far it got.
// A gzip stream that stops inside a member (a file cut while it was compressed or copied),
// corrupt data, a checksum that does not match and bytes after the end that are not another
// member are all errors, never a quiet end: the rest of such a file cannot be read. What was
// decoded before the error is handed out first; the error comes with the next Read().
//
// Reads in blocks into the caller's buffer; after Open() nothing allocates. Not thread-safe.
class LogReader {
 public:
  static constexpr std::string_view kStdin = "-";

  LogReader();
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Opens `path` ("-": standard input, which is not closed) and reads its first bytes to see
  // whether it is gzip. False, with error() set, when it cannot be opened or read. A reader
  // can be opened again for another log.
  bool Open(const std::string& path);
  // Copies the next bytes of the log into `out`: how many (out.size() at most, fewer only at
  // the end of the input or for a plain file whose read returned fewer), 0 at the end of the
  // log, nullopt on an error (see error()).
  std::optional<size_t> Read(std::span<char> out);

  const std::string& path() const { return path_; }
  // "standard input" for "-", else the path: for messages.
  std::string_view name() const;
  bool compressed() const { return gzip_; }
  // Bytes taken from the file (compressed ones for gzip) and bytes of log handed out.
  uint64_t file_bytes() const { return file_bytes_; }
  uint64_t log_bytes() const { return log_bytes_; }
  // Set once Open() or Read() failed; names the file and how far reading got.
  const std::string& error() const { return error_; }

 private:
  void Close();
  // Reads once more into input_ after what it holds (moved to its start first). False on a
  // read error; sets eof_ at the end of the file.
  bool FillInput();
  size_t Available() const { return input_end_ - input_pos_; }
  void Consume(size_t n);
  std::optional<size_t> ReadPlain(std::span<char> out);
  std::optional<size_t> ReadGzip(std::span<char> out);
  // Between two members: starts the next one, skips zero padding, or finds garbage. Returns
  // false on an error; sets done_ at the end of the log.
  bool NextMember();
  // Records the error and returns what this call already decoded (the error waits for the
  // next call), or nullopt when it decoded nothing.
  std::optional<size_t> Fail(std::string message, size_t produced);
  std::string Progress() const;

  std::string path_;
  int fd_ = -1;
  bool owns_fd_ = false;
  std::optional<uint64_t> file_size_;  // of a regular file, for messages
  std::vector<char> input_;            // raw bytes read from the file, not yet used
  size_t input_pos_ = 0;
  size_t input_end_ = 0;
  bool eof_ = false;
  bool gzip_ = false;
  std::unique_ptr<z_stream_s> stream_;  // inflate state, kept across Open()s
  bool stream_ready_ = false;           // inflateInit2 succeeded on stream_
  bool between_members_ = false;        // the last member ended; the next may follow
  uint64_t members_ = 0;
  bool done_ = false;
  bool failed_ = false;
  uint64_t file_bytes_ = 0;
  uint64_t log_bytes_ = 0;
  std::string error_;
};

}  // namespace poolwatch
