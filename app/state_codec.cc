#include "app/state_codec.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <system_error>

#include "config/value_parsers.h"
#include "exporter/hex.h"
#include "exporter/log_format.h"

namespace poolwatch {
namespace {

using nlohmann::json;
constexpr int kVersion = 1;

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

RuleKind GetKind(const json& j) {
  const std::string kind = GetStr(j, "kind");
  if (std::optional<RuleKind> parsed = ParseRuleKind(kind)) return *parsed;
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
          {"state_only", n.state_only},
          {"incident_note", n.incident_note}};
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
  // Slack app mode (issue 16); absent in older files.
  if (j.contains("incident_note")) {
    n.incident_note = GetBool(j["incident_note"], at("incident_note").c_str());
  }
  return n;
}

json EncodePosition(const FilePosition& p) {
  return {{"dev", static_cast<uint64_t>(p.dev)},
          {"inode", static_cast<uint64_t>(p.inode)},
          {"offset", p.offset},
          {"fingerprint", p.fingerprint}};
}

FilePosition DecodePosition(const json& position, const std::string& where) {
  FilePosition p;
  p.dev = static_cast<dev_t>(GetU64(Field(position, "dev"), (where + ".dev").c_str()));
  p.inode = static_cast<ino_t>(GetU64(Field(position, "inode"), (where + ".inode").c_str()));
  p.offset = GetU64(Field(position, "offset"), (where + ".offset").c_str());
  p.fingerprint = GetStr(Field(position, "fingerprint"), (where + ".fingerprint").c_str());
  std::string raw;
  if (!HexDecode(p.fingerprint, &raw) || raw.size() > FileFollower::kFingerprintBytes) {
    throw Corrupt{where + ".fingerprint: expected up to 64 hex-encoded bytes"};
  }
  return p;
}

// A ring of counts as one compact string, oldest bucket first: "R" (no bad request), "R/B",
// and "*N" for N empty buckets. A busy day of one-minute buckets is some 20 KB.
std::string EncodeCounts(const SpanCounters::Snapshot& ring) {
  std::string out;
  size_t empty = 0;
  auto flush_empty = [&] {
    if (empty == 0) return;
    if (!out.empty()) out += ' ';
    out += '*' + std::to_string(empty);
    empty = 0;
  };
  for (size_t k = 0; k < ring.requests.size(); ++k) {
    if (ring.requests[k] == 0 && ring.bad[k] == 0) {
      ++empty;
      continue;
    }
    flush_empty();
    if (!out.empty()) out += ' ';
    out += std::to_string(ring.requests[k]);
    if (ring.bad[k] != 0) out += '/' + std::to_string(ring.bad[k]);
  }
  flush_empty();
  return out;
}

// Bounded so a corrupt file cannot make a ring of billions of buckets: 35 days of minutes.
constexpr size_t kMaxSavedBuckets = 35 * 24 * 60;

uint32_t ParseCount32(std::string_view text) {
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw Corrupt{"counts: '" + std::string(text) + "' is not a count"};
  }
  return value;
}

void DecodeCounts(std::string_view text, SpanCounters::Snapshot* ring) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    if (!item.empty() && item[0] == '*') {
      const uint32_t n = ParseCount32(item.substr(1));
      if (n == 0 || ring->requests.size() + n > kMaxSavedBuckets) throw Corrupt{"counts: too many"};
      ring->requests.insert(ring->requests.end(), n, 0);
      ring->bad.insert(ring->bad.end(), n, 0);
      continue;
    }
    const size_t slash = item.find('/');
    const uint32_t requests = ParseCount32(item.substr(0, slash));
    const uint32_t bad = slash == std::string_view::npos ? 0 : ParseCount32(item.substr(slash + 1));
    if (bad > requests) throw Corrupt{"counts: more bad requests than requests"};
    if (ring->requests.size() + 1 > kMaxSavedBuckets) throw Corrupt{"counts: too many"};
    ring->requests.push_back(requests);
    ring->bad.push_back(bad);
  }
}

json EncodeCounters(const RuleCounters& c) {
  json rings = json::array();
  for (const SpanCounters::Snapshot& ring : c.rings) {
    rings.push_back(
        {{"bucket_s", ring.bucket_seconds}, {"head", ring.head}, {"counts", EncodeCounts(ring)}});
  }
  json out = {{"rule", Str(c.rule)},
              {"kind", RuleKindName(c.kind)},
              {"counted", Str(c.counted)},
              {"watched_since_ms", OptMillis(c.watched_since)},
              {"rings", rings}};
  // group_by (issue 17): only for a grouped rule's counts, so older files read the same.
  if (!c.group.empty()) out["group"] = Labels(c.group);
  return out;
}

RuleCounters DecodeCounters(const json& j) {
  RuleCounters c;
  c.rule = GetStr(Field(j, "rule"), "alerting.counters.rule");
  c.kind = GetKind(Field(j, "kind"));
  c.counted = GetStr(Field(j, "counted"), "alerting.counters.counted");
  c.watched_since = GetOptTime(Field(j, "watched_since_ms"), "alerting.counters.watched_since_ms");
  if (j.contains("group")) c.group = GetLabels(j["group"], "alerting.counters.group");
  for (const json& r : GetArray(Field(j, "rings"), "alerting.counters.rings")) {
    SpanCounters::Snapshot ring;
    ring.bucket_seconds = GetI64(Field(r, "bucket_s"), "alerting.counters.rings.bucket_s");
    if (ring.bucket_seconds < 1 || ring.bucket_seconds > 86400) {
      throw Corrupt{"alerting.counters.rings.bucket_s: out of range"};
    }
    ring.head = GetI64(Field(r, "head"), "alerting.counters.rings.head");
    // Bucket indexes of log times between the epoch and the year 2200.
    if (ring.head < 0 || ring.head > 7258118400 / ring.bucket_seconds) {
      throw Corrupt{"alerting.counters.rings.head: out of range"};
    }
    DecodeCounts(GetStr(Field(r, "counts"), "alerting.counters.rings.counts"), &ring);
    c.rings.push_back(std::move(ring));
  }
  return c;
}

json EncodeBody(const PersistedState& s) {
  json position = nullptr;
  if (s.position) position = EncodePosition(*s.position);
  // Issue 17: one entry per file; absent in files written before.
  json files = json::array();
  for (const auto& [path, p] : s.files) {
    files.push_back({{"path", Str(path)}, {"position", EncodePosition(p)}});
  }
  json pools = json::array();
  for (const auto& [address, pool] : s.learned_pools) {
    pools.push_back(json::array({Str(address), Str(pool)}));
  }
  json alerts = json::array();
  for (const AlertStateRecord& a : s.alerting.alerts) {
    alerts.push_back({{"rule", Str(a.rule)},
                      {"kind", RuleKindName(a.kind)},
                      {"labels", Labels(a.labels)},
                      {"announced", a.announced},
                      {"last_fired_ms", OptMillis(a.last_fired)},
                      {"suppressed", a.suppressed}});
  }
  json counters = json::array();
  for (const RuleCounters& c : s.alerting.counters) counters.push_back(EncodeCounters(c));
  json outbox = json::array();
  for (const Notification& n : s.outbox) outbox.push_back(EncodeNotification(n));
  json alertmanager = json::array();
  for (const AlertmanagerFiring& a : s.alertmanager_firing) {
    alertmanager.push_back({{"notification", EncodeNotification(a.notification)},
                            {"starts_at_ms", Millis(a.starts_at)}});
  }
  // Slack app mode (issue 16).
  json slack_threads = json::array();
  for (const SlackThread& t : s.slack_threads) {
    slack_threads.push_back({{"key", Str(t.key)},
                             {"channel", Str(t.channel)},
                             {"ts", Str(t.ts)},
                             {"started_ms", Millis(t.started)},
                             {"replies", t.replies},
                             {"suppressed", t.suppressed},
                             {"peak_text", Str(t.peak_text)},
                             {"peak", t.peak},
                             {"resolved", t.resolved},
                             {"resolved_at_ms", Millis(t.resolved_at)}});
  }
  return {
      {"version", kVersion},
      {"log",
       {{"path", Str(s.log_path)}, {"position", position}, {"lines", s.lines}, {"files", files}}},
      {"pools", pools},
      {"alerting",
       {{"maintenance", s.alerting.maintenance},
        {"maintenance_until_ms", OptMillis(s.alerting.maintenance_until)},
        {"configured_maintenance", s.configured_maintenance},
        {"configured_maintenance_until_ms", OptMillis(s.configured_maintenance_until)},
        {"alerts", alerts},
        {"counters", counters}}},
      {"outbox", outbox},
      {"alertmanager_firing", alertmanager},
      {"slack_threads", slack_threads}};
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
  if (!position.is_null()) s->position = DecodePosition(position, "log.position");
  if (log.contains("files")) {
    for (const json& file : GetArray(log["files"], "log.files")) {
      const std::string path = GetStr(Field(file, "path"), "log.files.path");
      s->files[path] = DecodePosition(Field(file, "position"), "log.files.position");
    }
  } else if (s->position) {
    // Written before issue 17, when poolwatch followed one file: that file's position.
    s->files[s->log_path] = *s->position;
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
  // Added later (slo): absent in older files. A corrupt record costs only its rule's history:
  // skipped with a line in the log, the rest of the file is taken.
  if (alerting.contains("counters")) {
    const json& counters = GetArray(alerting["counters"], "alerting.counters");
    for (size_t i = 0; i < counters.size(); ++i) {
      try {
        s->alerting.counters.push_back(DecodeCounters(counters[i]));
      } catch (const Corrupt& e) {
        s->skipped.push_back("alerting.counters[" + std::to_string(i) + "] ignored: " + e.what);
      } catch (const json::exception& e) {
        s->skipped.push_back("alerting.counters[" + std::to_string(i) + "] ignored: " + e.what());
      }
    }
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
  // Slack app mode (issue 16); absent in older files.
  if (root.contains("slack_threads")) {
    for (const json& t : GetArray(root["slack_threads"], "slack_threads")) {
      SlackThread thread;
      thread.key = GetStr(Field(t, "key"), "slack_threads.key");
      thread.channel = GetStr(Field(t, "channel"), "slack_threads.channel");
      thread.ts = GetStr(Field(t, "ts"), "slack_threads.ts");
      thread.started = GetTime(Field(t, "started_ms"), "slack_threads.started_ms");
      thread.replies = GetCount(Field(t, "replies"), "slack_threads.replies");
      thread.suppressed = GetCount(Field(t, "suppressed"), "slack_threads.suppressed");
      thread.peak_text = GetStr(Field(t, "peak_text"), "slack_threads.peak_text");
      const json& peak = Field(t, "peak");
      if (!peak.is_number()) throw Corrupt{"slack_threads.peak: expected a number"};
      thread.peak = peak.get<double>();
      thread.resolved = GetBool(Field(t, "resolved"), "slack_threads.resolved");
      thread.resolved_at = GetTime(Field(t, "resolved_at_ms"), "slack_threads.resolved_at_ms");
      s->slack_threads.push_back(std::move(thread));
    }
  }
}

}  // namespace

std::string EncodeState(const PersistedState& state) {
  json body = EncodeBody(state);
  body["saved_at"] = FormatRfc3339(state.saved_at);
  return body.dump(1) + "\n";
}

std::string EncodeStateContent(const PersistedState& state) { return EncodeBody(state).dump(); }

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

}  // namespace poolwatch
