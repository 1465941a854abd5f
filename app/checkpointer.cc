#include "app/checkpointer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "exporter/log_format.h"

namespace poolwatch {
namespace {

std::string ErrnoText(int error) { return std::generic_category().message(error); }

}  // namespace

StateStore::StateStore(std::string path, WriteFunction write)
    : path_(std::move(path)), write_(std::move(write)) {
  if (!write_)
    write_ = [](int fd, const void* data, size_t size) { return ::write(fd, data, size); };
}

StateStore::LoadResult StateStore::Load() const {
  LoadResult result;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    result.status = e == ENOENT ? LoadStatus::kMissing : LoadStatus::kUnreadable;
    result.message = (e == ENOENT ? "no state file at " : "cannot read the state file ") + path_ +
                     (e == ENOENT ? "" : ": " + ErrnoText(e));
    return result;
  }
  std::string text;
  char buffer[64 * 1024];
  constexpr size_t kMaxStateBytes = 64 * 1024 * 1024;  // far beyond any real state
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      result.status = LoadStatus::kUnreadable;
      result.message = "cannot read the state file " + path_ + ": " + ErrnoText(e);
      return result;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxStateBytes) break;
  }
  ::close(fd);
  std::string error;
  if (text.size() > kMaxStateBytes) {
    error = "larger than 64 MiB";
  } else if (DecodeState(text, &result.state, &error)) {
    result.status = LoadStatus::kLoaded;
    result.message = "loaded the state file " + path_;
    return result;
  }
  result.status = LoadStatus::kCorrupt;
  result.message = "the state file " + path_ + " is unusable (" + error + ")";
  return result;
}

bool StateStore::Save(std::string_view contents, std::string* error) {
  return ReplaceFileAtomically(path_, contents, write_, error);
}

Checkpointer::Checkpointer(CheckpointerOptions options)
    : options_(std::move(options)), store_(options_.path, options_.write) {
  if (!options_.log_info) options_.log_info = [](std::string_view) {};
  if (!options_.log_error) options_.log_error = [](std::string_view) {};
  if (options_.registry != nullptr) {
    auto& registry = *options_.registry;
    writes_metric_ = &prometheus::BuildCounter()
                          .Name("poolwatch_state_writes_total")
                          .Help("State file writes that succeeded")
                          .Register(registry)
                          .Add({});
    errors_metric_ = &prometheus::BuildCounter()
                          .Name("poolwatch_state_write_errors_total")
                          .Help("State file writes that failed (each attempt); retried")
                          .Register(registry)
                          .Add({});
    ok_metric_ = &prometheus::BuildGauge()
                      .Name("poolwatch_state_last_write_successful")
                      .Help("1 when the last state file write succeeded, 0 when it failed")
                      .Register(registry)
                      .Add({});
    time_metric_ = &prometheus::BuildGauge()
                        .Name("poolwatch_state_last_write_timestamp_seconds")
                        .Help("Unix time of the last successful state file write")
                        .Register(registry)
                        .Add({});
    ok_metric_->Set(1);
  }
}

std::optional<PersistedState> Checkpointer::Restore() {
  StateStore::LoadResult loaded = store_.Load();
  switch (loaded.status) {
    case StateStore::LoadStatus::kLoaded:
      options_.log_info(loaded.message + " (saved at " + FormatRfc3339(loaded.state.saved_at) +
                        ")");
      last_written_ = EncodeStateContent(loaded.state);
      return std::move(loaded.state);
    case StateStore::LoadStatus::kMissing:
      options_.log_info(loaded.message + ": starting fresh");
      return std::nullopt;
    case StateStore::LoadStatus::kCorrupt: {
      const std::string aside = store_.path() + ".corrupt";
      const bool moved = ::rename(store_.path().c_str(), aside.c_str()) == 0;
      options_.log_error(loaded.message + ": starting fresh" +
                         (moved ? "; kept it as " + aside : ""));
      return std::nullopt;
    }
    case StateStore::LoadStatus::kUnreadable:
      options_.log_error(loaded.message + ": starting fresh");
      return std::nullopt;
  }
  return std::nullopt;
}

bool Checkpointer::Maybe(const PersistedState& state, std::chrono::steady_clock::time_point now,
                         bool urgent) {
  if (!urgent && !Due(now)) return false;
  last_attempt_ = now;
  std::string content = EncodeStateContent(state);
  if (content == last_written_) return true;
  PersistedState stamped = state;
  stamped.saved_at = Clock::now();
  std::string error;
  if (store_.Save(EncodeState(stamped), &error)) {
    ++writes_;
    if (writes_metric_ != nullptr) writes_metric_->Increment();
    if (ok_metric_ != nullptr) ok_metric_->Set(1);
    if (time_metric_ != nullptr) {
      time_metric_->Set(std::chrono::duration<double>(Clock::now().time_since_epoch()).count());
    }
    if (!failing_.empty()) {
      options_.log_info("state file " + store_.path() + " written again");
      failing_.clear();
    }
    last_written_ = std::move(content);
    return true;
  }
  ++errors_;
  if (errors_metric_ != nullptr) errors_metric_->Increment();
  if (ok_metric_ != nullptr) ok_metric_->Set(0);
  if (error != failing_) {
    options_.log_error("cannot save the state (" + error +
                       "); retrying, a restart now would re-read more of the log");
    failing_ = std::move(error);
  }
  return false;
}

}  // namespace poolwatch
