#include "app/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "exporter/hex.h"
#include "exporter/line_splitter.h"
#include "exporter/log_format.h"

namespace poolwatch {
namespace {

using nlohmann::json;
constexpr int kVersion = 1;

std::string ErrnoText(int error) { return std::generic_category().message(error); }

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// A string as JSON: itself when valid UTF-8, otherwise its exact bytes as {"hex": "..."}.
json Str(const std::string& s) {
  if (ValidUtf8(s)) return s;
  return json{{"hex", HexEncode(s)}};
}

// Thrown while decoding; caught at the top and turned into a "corrupt" message.
struct Corrupt {
  std::string what;
};

std::string GetStr(const json& j, const char* where) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.size() == 1 && j.contains("hex") && j["hex"].is_string()) {
    std::string out;
    if (HexDecode(j["hex"].get<std::string>(), &out)) return out;
  }
  throw Corrupt{std::string(where) + ": expected a string"};
}

const json& Field(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) {
    throw Corrupt{std::string("missing ") + key};
  }
  return object[key];
}

uint64_t GetU64(const json& j, const char* where) {
  if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<int64_t>() >= 0)) {
    throw Corrupt{std::string(where) + ": expected a non-negative integer"};
  }
  return j.get<uint64_t>();
}

int64_t GetI64(const json& j, const char* where) {
  if (!j.is_number_integer()) throw Corrupt{std::string(where) + ": expected an integer"};
  return j.get<int64_t>();
}

bool GetBool(const json& j, const char* where) {
  if (!j.is_boolean()) throw Corrupt{std::string(where) + ": expected true or false"};
  return j.get<bool>();
}

const json& GetArray(const json& j, const char* where) {
  if (!j.is_array()) throw Corrupt{std::string(where) + ": expected a list"};
  return j;
}

json Millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
json OptMillis(const std::optional<TimePoint>& t) { return t ? Millis(*t) : json(nullptr); }

TimePoint GetTime(const json& j, const char* where) {
  // Bounded so the conversion to the clock's nanoseconds cannot overflow (found by fuzzing).
  constexpr int64_t kYear2200Ms = 7258118400000;
  const int64_t ms = GetI64(j, where);
  if (ms < 0 || ms > kYear2200Ms) throw Corrupt{std::string(where) + ": time out of range"};
  return TimePoint(std::chrono::milliseconds(ms));
}

int GetCount(const json& j, const char* where) {
  const int64_t n = GetI64(j, where);
  if (n < 0 || n > 1000000000) throw Corrupt{std::string(where) + ": count out of range"};
  return static_cast<int>(n);
}
std::optional<TimePoint> GetOptTime(const json& j, const char* where) {
  if (j.is_null()) return std::nullopt;
  return GetTime(j, where);
}

json Labels(const std::map<std::string, std::string>& labels) {
  json out = json::array();
  for (const auto& [k, v] : labels) out.push_back(json::array({Str(k), Str(v)}));
  return out;
}

std::map<std::string, std::string> GetLabels(const json& j, const char* where) {
  std::map<std::string, std::string> out;
  for (const json& pair : GetArray(j, where)) {
    if (!pair.is_array() || pair.size() != 2)
      throw Corrupt{std::string(where) + ": expected pairs"};
    out[GetStr(pair[0], where)] = GetStr(pair[1], where);
  }
  return out;
}

const char* KindName(RuleKind kind) {
  return kind == RuleKind::kFailover ? "failover" : "error_rate";
}

RuleKind GetKind(const json& j) {
  const std::string kind = GetStr(j, "kind");
  if (kind == "failover") return RuleKind::kFailover;
  if (kind == "error_rate") return RuleKind::kErrorRate;
  throw Corrupt{"kind: unknown rule kind '" + kind + "'"};
}

json EncodeNotification(const Notification& n) {
  json fields = json::array();
  for (const auto& [k, v] : n.fields) fields.push_back(json::array({Str(k), Str(v)}));
  return {{"rule", Str(n.rule)},
          {"status", n.status == AlertStatus::kFiring ? "firing" : "resolved"},
          {"labels", Labels(n.labels)},
          {"severity", Str(n.severity)},
          {"title", Str(n.title)},
          {"summary", Str(n.summary)},
          {"fields", fields},
          {"action", Str(n.action)},
          {"at_ms", Millis(n.at)},
          {"suppressed", n.suppressed},
          {"notifiers", n.notifiers},
          {"state_only", n.state_only}};
}

// `where` names the list in error messages: "outbox" or "alertmanager_firing.notification".
Notification DecodeNotification(const json& j, const std::string& where) {
  auto at = [&where](const char* key) { return where + "." + key; };
  Notification n;
  n.rule = GetStr(Field(j, "rule"), at("rule").c_str());
  const std::string status = GetStr(Field(j, "status"), at("status").c_str());
  if (status != "firing" && status != "resolved") throw Corrupt{at("status") + ": " + status};
  n.status = status == "firing" ? AlertStatus::kFiring : AlertStatus::kResolved;
  n.labels = GetLabels(Field(j, "labels"), at("labels").c_str());
  n.severity = GetStr(Field(j, "severity"), at("severity").c_str());
  n.title = GetStr(Field(j, "title"), at("title").c_str());
  n.summary = GetStr(Field(j, "summary"), at("summary").c_str());
  for (const json& pair : GetArray(Field(j, "fields"), at("fields").c_str())) {
    if (!pair.is_array() || pair.size() != 2) throw Corrupt{at("fields") + ": expected pairs"};
    n.fields.emplace_back(GetStr(pair[0], at("fields").c_str()),
                          GetStr(pair[1], at("fields").c_str()));
  }
  n.action = GetStr(Field(j, "action"), at("action").c_str());
  n.at = GetTime(Field(j, "at_ms"), at("at_ms").c_str());
  n.suppressed = GetCount(Field(j, "suppressed"), at("suppressed").c_str());
  // Added later: absent in older files, whose notifications went to every notifier.
  if (j.contains("notifiers")) {
    for (const json& kind : GetArray(j["notifiers"], at("notifiers").c_str())) {
      n.notifiers.push_back(GetStr(kind, at("notifiers").c_str()));
    }
  }
  if (j.contains("state_only")) n.state_only = GetBool(j["state_only"], at("state_only").c_str());
  return n;
}

json EncodeBody(const PersistedState& s) {
  json position = nullptr;
  if (s.position) {
    position = {{"dev", static_cast<uint64_t>(s.position->dev)},
                {"inode", static_cast<uint64_t>(s.position->inode)},
                {"offset", s.position->offset},
                {"fingerprint", s.position->fingerprint}};
  }
  json pools = json::array();
  for (const auto& [address, pool] : s.learned_pools) {
    pools.push_back(json::array({Str(address), Str(pool)}));
  }
  json alerts = json::array();
  for (const AlertStateRecord& a : s.alerting.alerts) {
    alerts.push_back({{"rule", Str(a.rule)},
                      {"kind", KindName(a.kind)},
                      {"labels", Labels(a.labels)},
                      {"announced", a.announced},
                      {"last_fired_ms", OptMillis(a.last_fired)},
                      {"suppressed", a.suppressed}});
  }
  json outbox = json::array();
  for (const Notification& n : s.outbox) outbox.push_back(EncodeNotification(n));
  json alertmanager = json::array();
  for (const AlertmanagerFiring& a : s.alertmanager_firing) {
    alertmanager.push_back({{"notification", EncodeNotification(a.notification)},
                            {"starts_at_ms", Millis(a.starts_at)}});
  }
  return {{"version", kVersion},
          {"log", {{"path", Str(s.log_path)}, {"position", position}, {"lines", s.lines}}},
          {"pools", pools},
          {"alerting",
           {{"maintenance", s.alerting.maintenance},
            {"maintenance_until_ms", OptMillis(s.alerting.maintenance_until)},
            {"configured_maintenance", s.configured_maintenance},
            {"configured_maintenance_until_ms", OptMillis(s.configured_maintenance_until)},
            {"alerts", alerts}}},
          {"outbox", outbox},
          {"alertmanager_firing", alertmanager}};
}

void DecodeBody(const json& root, PersistedState* s) {
  if (!root.is_object()) throw Corrupt{"expected a JSON object"};
  const int64_t version = GetI64(Field(root, "version"), "version");
  if (version != kVersion) {
    throw Corrupt{"version " + std::to_string(version) + " is not understood (expected " +
                  std::to_string(kVersion) + ")"};
  }
  const json& log = Field(root, "log");
  s->log_path = GetStr(Field(log, "path"), "log.path");
  s->lines = GetU64(Field(log, "lines"), "log.lines");
  const json& position = Field(log, "position");
  if (!position.is_null()) {
    FilePosition p;
    p.dev = static_cast<dev_t>(GetU64(Field(position, "dev"), "log.position.dev"));
    p.inode = static_cast<ino_t>(GetU64(Field(position, "inode"), "log.position.inode"));
    p.offset = GetU64(Field(position, "offset"), "log.position.offset");
    p.fingerprint = GetStr(Field(position, "fingerprint"), "log.position.fingerprint");
    std::string raw;
    if (!HexDecode(p.fingerprint, &raw) || raw.size() > FileFollower::kFingerprintBytes) {
      throw Corrupt{"log.position.fingerprint: expected up to 64 hex-encoded bytes"};
    }
    s->position = p;
  }
  for (const json& pair : GetArray(Field(root, "pools"), "pools")) {
    if (!pair.is_array() || pair.size() != 2) throw Corrupt{"pools: expected pairs"};
    s->learned_pools[GetStr(pair[0], "pools")] = GetStr(pair[1], "pools");
  }
  const json& alerting = Field(root, "alerting");
  s->alerting.maintenance = GetBool(Field(alerting, "maintenance"), "alerting.maintenance");
  s->alerting.maintenance_until =
      GetOptTime(Field(alerting, "maintenance_until_ms"), "alerting.maintenance_until_ms");
  s->configured_maintenance =
      GetBool(Field(alerting, "configured_maintenance"), "alerting.configured_maintenance");
  s->configured_maintenance_until = GetOptTime(Field(alerting, "configured_maintenance_until_ms"),
                                               "alerting.configured_maintenance_until_ms");
  for (const json& a : GetArray(Field(alerting, "alerts"), "alerting.alerts")) {
    AlertStateRecord r;
    r.rule = GetStr(Field(a, "rule"), "alerting.alerts.rule");
    r.kind = GetKind(Field(a, "kind"));
    r.labels = GetLabels(Field(a, "labels"), "alerting.alerts.labels");
    r.announced = GetBool(Field(a, "announced"), "alerting.alerts.announced");
    r.last_fired = GetOptTime(Field(a, "last_fired_ms"), "alerting.alerts.last_fired_ms");
    r.suppressed = GetCount(Field(a, "suppressed"), "alerting.alerts.suppressed");
    s->alerting.alerts.push_back(std::move(r));
  }
  for (const json& n : GetArray(Field(root, "outbox"), "outbox")) {
    s->outbox.push_back(DecodeNotification(n, "outbox"));
  }
  // Added after version 1 shipped: absent in older files, which then restore no such alerts.
  if (root.contains("alertmanager_firing")) {
    for (const json& a : GetArray(root["alertmanager_firing"], "alertmanager_firing")) {
      AlertmanagerFiring firing;
      firing.notification =
          DecodeNotification(Field(a, "notification"), "alertmanager_firing.notification");
      firing.starts_at = GetTime(Field(a, "starts_at_ms"), "alertmanager_firing.starts_at_ms");
      s->alertmanager_firing.push_back(std::move(firing));
    }
  }
}

bool WriteAll(const WriteFunction& write, int fd, std::string_view data, int* error) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = errno;
      return false;
    }
    if (n == 0) {
      *error = ENOSPC;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string EncodeState(const PersistedState& state) {
  json body = EncodeBody(state);
  body["saved_at"] = FormatRfc3339(state.saved_at);
  return body.dump(1) + "\n";
}

bool DecodeState(std::string_view text, PersistedState* state, std::string* error) {
  const json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    *error = "not valid JSON";
    return false;
  }
  PersistedState decoded;
  try {
    DecodeBody(root, &decoded);
  } catch (const Corrupt& e) {
    *error = e.what;
    return false;
  } catch (const json::exception& e) {
    *error = e.what();
    return false;
  }
  if (root.contains("saved_at") && root["saved_at"].is_string()) {
    if (auto t = ParseTimeIso8601(root["saved_at"].get<std::string>())) decoded.saved_at = *t;
  }
  *state = std::move(decoded);
  return true;
}

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
  // The temporary file lives next to the target: rename() is atomic only within a file system.
  const std::string temp = path_ + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot create " + temp + ": " + ErrnoText(errno);
    return false;
  }
  int e = 0;
  if (!WriteAll(write_, fd, contents, &e)) {
    ::close(fd);
    ::unlink(temp.c_str());
    *error = "cannot write " + temp + ": " + ErrnoText(e);
    return false;
  }
  // Data on disk before the rename makes it visible; otherwise a power loss could leave an
  // empty file under the final name.
  if (::fsync(fd) != 0) {
    e = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    *error = "cannot fsync " + temp + ": " + ErrnoText(e);
    return false;
  }
  if (::close(fd) != 0) {
    e = errno;
    ::unlink(temp.c_str());
    *error = "cannot close " + temp + ": " + ErrnoText(e);
    return false;
  }
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    e = errno;
    ::unlink(temp.c_str());
    *error = "cannot rename " + temp + " to " + path_ + ": " + ErrnoText(e);
    return false;
  }
  // The rename itself is durable once the directory is synced. A failure here does not undo
  // the rename: the new state is visible, only its durability across power loss is in doubt.
  std::string dir = std::filesystem::path(path_).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
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
      last_written_ = EncodeBody(loaded.state).dump();
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
  json full = EncodeBody(state);
  std::string body = full.dump();
  if (body == last_written_) return true;
  full["saved_at"] = FormatRfc3339(Clock::now());
  std::string error;
  if (store_.Save(full.dump(1) + "\n", &error)) {
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
    last_written_ = std::move(body);
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

RotatedRemainder ReadRotatedRemainder(const std::string& log_path, const FilePosition& saved,
                                      LineSink on_line) {
  RotatedRemainder out;
  out.from_offset = saved.offset;
  if (saved.dev == 0 && saved.inode == 0) return out;
  struct stat st {};
  if (::stat(log_path.c_str(), &st) == 0 && st.st_dev == saved.dev && st.st_ino == saved.inode) {
    return out;  // still at the path: the follower resumes in it
  }
  out.needed = true;
  std::string expected;
  if (!HexDecode(saved.fingerprint, &expected)) expected.clear();

  const std::filesystem::path path(log_path);
  std::string dir = path.parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    struct stat est {};
    if (::stat(entry.path().c_str(), &est) != 0 || !S_ISREG(est.st_mode)) continue;
    if (est.st_dev != saved.dev || est.st_ino != saved.inode) continue;
    const int candidate = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (candidate < 0) continue;
    // The inode number alone may have been reused by an unrelated file after a deletion.
    std::string head(expected.size(), '\0');
    const ssize_t n = ::pread(candidate, head.data(), head.size(), 0);
    if (n != static_cast<ssize_t>(head.size()) || head != expected ||
        static_cast<uint64_t>(est.st_size) < saved.offset) {
      ::close(candidate);
      continue;
    }
    fd = candidate;
    out.file = entry.path().string();
    break;
  }
  if (fd < 0) {
    out.message = "the file poolwatch was reading when it stopped (inode " +
                  std::to_string(saved.inode) + ") is no longer in " + dir +
                  " (deleted, compressed or moved): lines written to it after offset " +
                  std::to_string(saved.offset) + " are lost";
    return out;
  }
  out.found = true;
  LineSplitter splitter;
  auto deliver = [&](std::string_view line) {
    ++out.lines;
    on_line(line);
  };
  std::vector<char> block(256 * 1024);
  uint64_t offset = saved.offset;
  for (;;) {
    const ssize_t n = ::pread(fd, block.data(), block.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    offset += static_cast<uint64_t>(n);
    out.bytes += static_cast<uint64_t>(n);
    splitter.Feed(std::string_view(block.data(), static_cast<size_t>(n)), deliver);
  }
  // The writer has moved on to the new file: an unterminated last line will not be completed.
  splitter.Flush(deliver);
  out.overlong_lines = splitter.overlong_lines();
  ::close(fd);
  out.message = "the log was rotated while poolwatch was down: read the rest of " + out.file +
                " from offset " + std::to_string(saved.offset) + " (" + std::to_string(out.lines) +
                " lines), then the new " + log_path + " from its beginning";
  return out;
}

}  // namespace poolwatch
