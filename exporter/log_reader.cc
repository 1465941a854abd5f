#include "exporter/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace poolwatch {
namespace {

// Compressed logs shrink about 10:1, so one block of input feeds many blocks of output.
constexpr size_t kInputBlock = 128 << 10;
constexpr unsigned char kGzipMagic0 = 0x1f;
constexpr unsigned char kGzipMagic1 = 0x8b;
// zlib's windowBits: the largest window, and + 16 to expect (and check) the gzip wrapper.
constexpr int kGzipWindowBits = 15 + 16;

}  // namespace

LogReader::LogReader() : stream_(std::make_unique<z_stream_s>()) {}

LogReader::~LogReader() {
  Close();
  if (stream_ready_) inflateEnd(stream_.get());
}

std::string_view LogReader::name() const {
  return path_ == kStdin ? std::string_view("standard input") : std::string_view(path_);
}

void LogReader::Close() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  owns_fd_ = false;
}

bool LogReader::Open(const std::string& path) {
  Close();
  path_ = path;
  file_size_.reset();
  input_pos_ = input_end_ = 0;
  eof_ = gzip_ = between_members_ = done_ = failed_ = false;
  members_ = file_bytes_ = log_bytes_ = 0;
  error_.clear();
  if (input_.size() < kInputBlock) input_.resize(kInputBlock);

  if (path == kStdin) {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      error_ = "cannot read " + path + ": " + std::strerror(errno);
      failed_ = true;
      return false;
    }
    owns_fd_ = true;
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      file_size_ = static_cast<uint64_t>(st.st_size);
      ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
  }
  // A pipe may deliver the two magic bytes in separate reads.
  while (Available() < 2 && !eof_) {
    if (!FillInput()) return false;
  }
  const auto* head = reinterpret_cast<const unsigned char*>(input_.data() + input_pos_);
  gzip_ = Available() >= 2 && head[0] == kGzipMagic0 && head[1] == kGzipMagic1;
  if (gzip_) {
    const int rc = stream_ready_ ? inflateReset2(stream_.get(), kGzipWindowBits)
                                 : inflateInit2(stream_.get(), kGzipWindowBits);
    if (rc != Z_OK) {
      error_ = "cannot decompress " + std::string(name()) + ": zlib could not start (" +
               std::to_string(rc) + ")";
      failed_ = true;
      return false;
    }
    stream_ready_ = true;
    members_ = 1;
  }
  return true;
}

bool LogReader::FillInput() {
  if (input_pos_ > 0) {
    std::memmove(input_.data(), input_.data() + input_pos_, Available());
    input_end_ -= input_pos_;
    input_pos_ = 0;
  }
  for (;;) {
    const ssize_t n = ::read(fd_, input_.data() + input_end_, input_.size() - input_end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ =
          "error reading " + std::string(name()) + " " + Progress() + ": " + std::strerror(errno);
      failed_ = true;
      return false;
    }
    if (n == 0) eof_ = true;
    input_end_ += static_cast<size_t>(n);
    return true;
  }
}

void LogReader::Consume(size_t n) {
  input_pos_ += n;
  file_bytes_ += n;
}

std::string LogReader::Progress() const {
  std::string out = "after " + std::to_string(file_bytes_);
  if (file_size_) out += " of " + std::to_string(*file_size_);
  out += " bytes of the file";
  if (gzip_) out += " (" + std::to_string(log_bytes_) + " bytes of log decompressed)";
  return out;
}

std::optional<size_t> LogReader::Fail(std::string message, size_t produced) {
  error_ = std::move(message);
  failed_ = true;
  if (produced == 0) return std::nullopt;
  return produced;
}

std::optional<size_t> LogReader::Read(std::span<char> out) {
  if (failed_) return std::nullopt;
  if (done_ || out.empty()) return 0;
  return gzip_ ? ReadGzip(out) : ReadPlain(out);
}

std::optional<size_t> LogReader::ReadPlain(std::span<char> out) {
  // What Open() read to look for the magic bytes comes first.
  if (Available() > 0) {
    const size_t n = std::min(Available(), out.size());
    std::memcpy(out.data(), input_.data() + input_pos_, n);
    Consume(n);
    log_bytes_ += n;
    return n;
  }
  if (eof_) {
    done_ = true;
    return 0;
  }
  for (;;) {
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Fail(
          "error reading " + std::string(name()) + " " + Progress() + ": " + std::strerror(errno),
          0);
    }
    if (n == 0) {
      eof_ = done_ = true;
      return 0;
    }
    file_bytes_ += static_cast<uint64_t>(n);
    log_bytes_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }
}

bool LogReader::NextMember() {
  while (Available() < 2 && !eof_) {
    if (!FillInput()) return false;
  }
  if (Available() == 0) {
    done_ = true;
    return true;
  }
  const auto* head = reinterpret_cast<const unsigned char*>(input_.data() + input_pos_);
  if (Available() >= 2 && head[0] == kGzipMagic0 && head[1] == kGzipMagic1) {
    inflateReset(stream_.get());
    between_members_ = false;
    ++members_;
    return true;
  }
  // Zero padding (tape blocks, some copy tools) is not data; gzip(1) ignores it too.
  const size_t zeros = static_cast<size_t>(
      std::find_if(head, head + Available(), [](unsigned char c) { return c != 0; }) - head);
  if (zeros == 0) {
    error_ = std::string(name()) + ": the bytes after gzip member " + std::to_string(members_) +
             " are not another gzip member (at byte " + std::to_string(file_bytes_) +
             " of the file, " + std::to_string(log_bytes_) + " bytes of log decompressed)";
    failed_ = true;
    return false;
  }
  Consume(zeros);
  return true;
}

std::optional<size_t> LogReader::ReadGzip(std::span<char> out) {
  z_stream_s& z = *stream_;
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  // A span larger than 4 GiB is read in more than one call.
  z.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), UINT32_MAX));
  const size_t wanted = z.avail_out;
  auto produced = [&] { return wanted - z.avail_out; };
  while (z.avail_out > 0 && !done_) {
    if (between_members_) {
      if (!NextMember()) return Fail(error_, produced());
      continue;
    }
    if (Available() == 0) {
      if (eof_) {
        return Fail(std::string(name()) + ": the gzip data ends in the middle of member " +
                        std::to_string(members_) + " (truncated file?) " + Progress() +
                        "; the rest of the file cannot be read",
                    produced());
      }
      if (!FillInput()) return Fail(error_, produced());
      continue;
    }
    z.next_in = reinterpret_cast<Bytef*>(input_.data() + input_pos_);
    z.avail_in = static_cast<uInt>(Available());
    const size_t before_out = produced();
    const int rc = inflate(&z, Z_NO_FLUSH);
    const size_t consumed = Available() - z.avail_in;
    Consume(consumed);
    log_bytes_ += produced() - before_out;
    if (rc == Z_STREAM_END) {
      between_members_ = true;
    } else if (rc == Z_BUF_ERROR && consumed == 0 && produced() == before_out) {
      // Input and room were both there and inflate took neither: it never does that for
      // valid data, and calling it again would loop forever.
      return Fail(std::string(name()) + ": zlib made no progress " + Progress(), produced());
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      // Z_DATA_ERROR (corrupt data, a checksum or length that does not match), Z_NEED_DICT,
      // Z_MEM_ERROR: nothing after this point can be decoded.
      return Fail(std::string(name()) + ": corrupt gzip data in member " +
                      std::to_string(members_) + " (" +
                      (z.msg != nullptr ? z.msg : "zlib error " + std::to_string(rc)) + ") " +
                      Progress() + "; the rest of the file cannot be read",
                  produced());
    }
  }
  return produced();
}

}  // namespace poolwatch
