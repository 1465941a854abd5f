#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alerting/notify/alertmanager_notifier.h"
#include "app/checkpointer.h"
#include "app/state_keeper.h"
#include "exporter/log_format.h"
#include "exporter/rotated_remainder.h"
#include "tests/notify/notify_fakes.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

namespace fs = std::filesystem;
using ::poolwatch::testing::AppendFile;
using ::poolwatch::testing::MetricValue;
using ::poolwatch::testing::ReadFile;
using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TimePoint At(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

PersistedState FullState() {
  PersistedState s;
  s.log_path = "/var/log/nginx/access.log";
  s.position = FilePosition{2049, 1234567, 987654321, "3132372e302e302e31"};
  s.lines = 4242;
  s.learned_pools = {{"10.0.0.1:3000", "blue"},
                     {"10.0.0.2:3000", "gr\"een"},
                     {"10.0.0.3:3000", std::string("bad\xff\xfeutf8", 10)}};
  s.alerting.maintenance = true;
  s.alerting.maintenance_until = At(1800000000000);
  s.alerting.alerts.push_back(AlertStateRecord{
      "failover", RuleKind::kFailover, {{"pool", "blue"}}, true, At(1700000000123), 2});
  s.alerting.alerts.push_back(AlertStateRecord{"error_rate",
                                               RuleKind::kErrorRate,
                                               {{"pool", std::string("\xc3\x28", 2)}},
                                               false,
                                               std::nullopt,
                                               0});
  s.alerting.alerts.push_back(
      AlertStateRecord{"no_traffic", RuleKind::kTraffic, {}, true, At(1700000002000), 1});
  s.alerting.alerts.push_back(AlertStateRecord{
      "slow_primary", RuleKind::kLatency, {{"pool", "blue"}}, true, At(1700000000999), 1});
  s.alerting.alerts.push_back(AlertStateRecord{"bad_release",
                                               RuleKind::kReleaseRegression,
                                               {{"pool", "green"}, {"release", "v2.0.0"}},
                                               true,
                                               At(1700000003000),
                                               0});
  s.alerting.alerts.push_back(AlertStateRecord{
      "checkout_slo", RuleKind::kSlo, {{"urgency", "page"}}, true, At(1700000003000), 0});
  RuleCounters counters;
  counters.rule = "checkout_slo";
  counters.kind = RuleKind::kSlo;
  counters.counted = "availability client";
  counters.watched_since = At(1699990000000);
  counters.rings.push_back(SpanCounters::Snapshot{
      10, 170000000, {0, 0, 0, 5, 7, 0, 4294967295u}, {0, 0, 0, 1, 0, 0, 4294967295u}});
  counters.rings.push_back(SpanCounters::Snapshot{60, 28333333, {}, {}});
  s.alerting.counters.push_back(counters);
  s.configured_maintenance = false;
  Notification n;
  n.rule = "failover";
  n.status = AlertStatus::kResolved;
  n.labels = {{"pool", "blue"}};
  n.title = "RESOLVED";
  n.summary = "line one\nline \"two\" }";
  n.fields = {{"Previous", "green"}, {"Current", "blue"}};
  n.action = "nothing";
  n.at = At(1700000001000);
  n.suppressed = 3;
  s.outbox.push_back(n);
  Notification note = n;
  note.rule = "maintenance";
  note.incident_note = true;
  s.outbox.push_back(note);
  Notification firing = n;
  firing.status = AlertStatus::kFiring;
  firing.title = "FAILOVER";
  firing.labels = {{"pool", std::string("bl\xffue", 5)}};
  s.alertmanager_firing.push_back(AlertmanagerFiring{firing, At(1699999999456)});
  SlackThread thread;
  thread.key = std::string("failover{pool=bl\xffue}", 20);
  thread.channel = "C0OPS";
  thread.ts = "1700000000.000100";
  thread.started = At(1699999999456);
  thread.replies = 2;
  thread.suppressed = 4;
  thread.peak_text = "Error rate 30.5%";
  thread.peak = 30.5;
  s.slack_threads.push_back(thread);
  thread.key = "failover{pool=green}";
  thread.resolved = true;
  thread.resolved_at = At(1700000001000);
  s.slack_threads.push_back(thread);
  return s;
}

void ExpectSame(const PersistedState& a, const PersistedState& b) {
  EXPECT_EQ(a.log_path, b.log_path);
  ASSERT_EQ(a.position.has_value(), b.position.has_value());
  if (a.position) {
    EXPECT_EQ(a.position->dev, b.position->dev);
    EXPECT_EQ(a.position->inode, b.position->inode);
    EXPECT_EQ(a.position->offset, b.position->offset);
    EXPECT_EQ(a.position->fingerprint, b.position->fingerprint);
  }
  EXPECT_EQ(a.lines, b.lines);
  EXPECT_EQ(a.learned_pools, b.learned_pools);
  EXPECT_EQ(a.alerting.maintenance, b.alerting.maintenance);
  EXPECT_EQ(a.alerting.maintenance_until, b.alerting.maintenance_until);
  ASSERT_EQ(a.alerting.alerts.size(), b.alerting.alerts.size());
  for (size_t i = 0; i < a.alerting.alerts.size(); ++i) {
    const auto& x = a.alerting.alerts[i];
    const auto& y = b.alerting.alerts[i];
    EXPECT_EQ(x.rule, y.rule);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.labels, y.labels);
    EXPECT_EQ(x.announced, y.announced);
    EXPECT_EQ(x.last_fired, y.last_fired);
    EXPECT_EQ(x.suppressed, y.suppressed);
  }
  ASSERT_EQ(a.alerting.counters.size(), b.alerting.counters.size());
  for (size_t i = 0; i < a.alerting.counters.size(); ++i) {
    const RuleCounters& x = a.alerting.counters[i];
    const RuleCounters& y = b.alerting.counters[i];
    EXPECT_EQ(x.rule, y.rule);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.counted, y.counted);
    EXPECT_EQ(x.watched_since, y.watched_since);
    EXPECT_EQ(x.group, y.group);
    ASSERT_EQ(x.rings.size(), y.rings.size());
    for (size_t k = 0; k < x.rings.size(); ++k) {
      EXPECT_EQ(x.rings[k].bucket_seconds, y.rings[k].bucket_seconds);
      EXPECT_EQ(x.rings[k].head, y.rings[k].head);
      EXPECT_EQ(x.rings[k].requests, y.rings[k].requests);
      EXPECT_EQ(x.rings[k].bad, y.rings[k].bad);
    }
  }
  EXPECT_EQ(a.configured_maintenance, b.configured_maintenance);
  EXPECT_EQ(a.configured_maintenance_until, b.configured_maintenance_until);
  ASSERT_EQ(a.outbox.size(), b.outbox.size());
  for (size_t i = 0; i < a.outbox.size(); ++i) {
    EXPECT_EQ(a.outbox[i].Key(), b.outbox[i].Key());
    EXPECT_EQ(a.outbox[i].status, b.outbox[i].status);
    EXPECT_EQ(a.outbox[i].Text(), b.outbox[i].Text());
    EXPECT_EQ(a.outbox[i].at, b.outbox[i].at);
    EXPECT_EQ(a.outbox[i].suppressed, b.outbox[i].suppressed);
    EXPECT_EQ(a.outbox[i].incident_note, b.outbox[i].incident_note);
  }
  ASSERT_EQ(a.alertmanager_firing.size(), b.alertmanager_firing.size());
  for (size_t i = 0; i < a.alertmanager_firing.size(); ++i) {
    const Notification& x = a.alertmanager_firing[i].notification;
    const Notification& y = b.alertmanager_firing[i].notification;
    EXPECT_EQ(x.Key(), y.Key());
    EXPECT_EQ(x.status, y.status);
    EXPECT_EQ(x.Text(), y.Text());
    EXPECT_EQ(x.at, y.at);
    EXPECT_EQ(a.alertmanager_firing[i].starts_at, b.alertmanager_firing[i].starts_at);
  }
  ASSERT_EQ(a.slack_threads.size(), b.slack_threads.size());
  for (size_t i = 0; i < a.slack_threads.size(); ++i) {
    const SlackThread& x = a.slack_threads[i];
    const SlackThread& y = b.slack_threads[i];
    EXPECT_EQ(x.key, y.key);
    EXPECT_EQ(x.channel, y.channel);
    EXPECT_EQ(x.ts, y.ts);
    EXPECT_EQ(x.started, y.started);
    EXPECT_EQ(x.replies, y.replies);
    EXPECT_EQ(x.suppressed, y.suppressed);
    EXPECT_EQ(x.peak_text, y.peak_text);
    EXPECT_EQ(x.peak, y.peak);
    EXPECT_EQ(x.resolved, y.resolved);
    EXPECT_EQ(x.resolved_at, y.resolved_at);
  }
}

TEST(StateFormat, RoundTripKeepsEveryFieldAndEveryByteOfHostileStrings) {
  const PersistedState original = FullState();
  const std::string text = EncodeState(original);
  // Valid JSON whatever the label bytes were.
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(text, &decoded, &error)) << error;
  ExpectSame(original, decoded);
}

TEST(StateFormat, EmptyStateRoundTrips) {
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(EncodeState(PersistedState{}), &decoded, &error)) << error;
  EXPECT_FALSE(decoded.position.has_value());
  EXPECT_EQ(decoded.lines, 0u);
}

TEST(StateFormat, EveryFilesPositionRoundTrips) {
  PersistedState original = FullState();
  original.files["/var/log/nginx/shop.access.log"] = FilePosition{2049, 11, 300, "61"};
  original.files["/var/log/nginx/api.access.log"] = FilePosition{2049, 12, 0, ""};
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(EncodeState(original), &decoded, &error)) << error;
  ASSERT_EQ(decoded.files.size(), 2u);
  const FilePosition& shop = decoded.files.at("/var/log/nginx/shop.access.log");
  EXPECT_EQ(shop.inode, 11u);
  EXPECT_EQ(shop.offset, 300u);
  EXPECT_EQ(shop.fingerprint, "61");
  EXPECT_EQ(decoded.files.at("/var/log/nginx/api.access.log").inode, 12u);
  ExpectSame(original, decoded);
}

TEST(StateFormat, AFileOfOneLogWithoutFilesLoadsAsThatLogsPosition) {
  // As written before issue 17, when poolwatch followed one file.
  nlohmann::json old = nlohmann::json::parse(EncodeState(FullState()));
  ASSERT_TRUE(old["log"].contains("files"));
  old["log"].erase("files");
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(old.dump(), &decoded, &error)) << error;
  ASSERT_EQ(decoded.files.size(), 1u);
  const FilePosition& position = decoded.files.at("/var/log/nginx/access.log");
  EXPECT_EQ(position.dev, 2049u);
  EXPECT_EQ(position.inode, 1234567u);
  EXPECT_EQ(position.offset, 987654321u);
  // A bad position in the new list is refused like the old one.
  nlohmann::json bad = nlohmann::json::parse(EncodeState(FullState()));
  bad["log"]["files"] = nlohmann::json::array(
      {{{"path", "/x"},
        {"position", {{"dev", 1}, {"inode", 2}, {"offset", 3}, {"fingerprint", "zz"}}}}});
  EXPECT_FALSE(DecodeState(bad.dump(), &decoded, &error));
  EXPECT_THAT(error, HasSubstr("log.files.position.fingerprint"));
}

TEST(StateFormat, AFileWithoutAlertmanagerAlertsStillLoads) {
  // As written before the field existed.
  nlohmann::json old = nlohmann::json::parse(EncodeState(FullState()));
  ASSERT_TRUE(old.contains("alertmanager_firing"));
  old.erase("alertmanager_firing");
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(old.dump(), &decoded, &error)) << error;
  EXPECT_THAT(decoded.alertmanager_firing, IsEmpty());
  PersistedState expected = FullState();
  expected.alertmanager_firing.clear();
  ExpectSame(expected, decoded);
}

TEST(StateFormat, AFileWithoutSlackThreadsStillLoads) {
  nlohmann::json old = nlohmann::json::parse(EncodeState(FullState()));
  ASSERT_TRUE(old.contains("slack_threads"));
  old.erase("slack_threads");
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(old.dump(), &decoded, &error)) << error;
  PersistedState expected = FullState();
  expected.slack_threads.clear();
  ExpectSame(expected, decoded);
}

TEST(StateFormat, CountersAreOneCompactStringPerRing) {
  const nlohmann::json j = nlohmann::json::parse(EncodeState(FullState()));
  const nlohmann::json& ring = j["alerting"]["counters"][0]["rings"][0];
  EXPECT_EQ(ring["counts"], "*3 5/1 7 *1 4294967295/4294967295");
  EXPECT_EQ(ring["bucket_s"], 10);
}

// group_by (issue 17): a grouped slo rule's counts are one record per group, which says which.
TEST(StateFormat, AGroupedRulesCountersKeepTheirGroupAndOthersSayNone) {
  PersistedState state = FullState();
  RuleCounters grouped = state.alerting.counters.at(0);
  grouped.rule = "site_slo";
  grouped.group = {{"site", "shop"}};
  state.alerting.counters.push_back(grouped);
  state.alerting.alerts.push_back(AlertStateRecord{"site_slo",
                                                   RuleKind::kSlo,
                                                   {{"site", "shop"}, {"urgency", "page"}},
                                                   true,
                                                   At(1700000003000),
                                                   0});
  const std::string text = EncodeState(state);
  const nlohmann::json j = nlohmann::json::parse(text);
  // The ungrouped record as an older poolwatch wrote it, and reads it.
  EXPECT_FALSE(j["alerting"]["counters"][0].contains("group"));
  EXPECT_EQ(j["alerting"]["counters"][1]["group"], nlohmann::json::parse(R"([["site", "shop"]])"));
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(text, &decoded, &error)) << error;
  ExpectSame(state, decoded);
}

TEST(StateFormat, AFileWithoutCountersStillLoads) {
  // As written before slo rules existed.
  nlohmann::json old = nlohmann::json::parse(EncodeState(FullState()));
  old["alerting"].erase("counters");
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(old.dump(), &decoded, &error)) << error;
  EXPECT_THAT(decoded.alerting.counters, IsEmpty());
  EXPECT_THAT(decoded.skipped, IsEmpty());
}

TEST(StateFormat, ACorruptCountersRecordIsSkippedAndTheRestLoads) {
  const std::string good = EncodeState(FullState());
  auto skipped = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json j = nlohmann::json::parse(good);
    nlohmann::json second = j["alerting"]["counters"][0];
    second["rule"] = "other_slo";
    j["alerting"]["counters"].push_back(second);
    change(j["alerting"]["counters"][0]);
    std::string error;
    PersistedState out;
    EXPECT_TRUE(DecodeState(j.dump(), &out, &error)) << error;
    EXPECT_EQ(out.alerting.alerts.size(), FullState().alerting.alerts.size());
    EXPECT_EQ(out.alerting.counters.size(), 1u);  // the intact one
    return out.skipped.empty() ? std::string() : out.skipped[0];
  };
  EXPECT_THAT(skipped([](auto& c) { c["rings"][0]["counts"] = "5/6"; }),
              HasSubstr("more bad requests than requests"));
  EXPECT_THAT(skipped([](auto& c) { c["rings"][0]["counts"] = "5 x"; }), HasSubstr("'x'"));
  EXPECT_THAT(skipped([](auto& c) { c["rings"][0]["counts"] = "*99999999"; }),
              HasSubstr("too many"));
  EXPECT_THAT(skipped([](auto& c) { c["rings"][0]["counts"] = "4294967296"; }),
              HasSubstr("not a count"));
  EXPECT_THAT(skipped([](auto& c) { c["rings"][0]["bucket_s"] = 0; }), HasSubstr("bucket_s"));
  EXPECT_THAT(skipped([](auto& c) { c["rings"][0]["head"] = -5; }), HasSubstr("head"));
  EXPECT_THAT(skipped([](auto& c) { c["kind"] = "apdex"; }), HasSubstr("unknown rule kind"));
  EXPECT_THAT(skipped([](auto& c) { c.erase("counted"); }), HasSubstr("alerting.counters[0]"));
}

TEST(StateFormat, TheFuzzersSloSeedIsAWholeStateFile) {
  // Seeds the state decoder's fuzzing with counters: it must decode, not be skipped.
  const std::string text =
      ReadFile(fs::path(POOLWATCH_SOURCE_DIR) / "fuzz" / "corpus" / "config" / "state_slo.json");
  PersistedState decoded;
  std::string error;
  ASSERT_TRUE(DecodeState(text, &decoded, &error)) << error;
  EXPECT_THAT(decoded.skipped, IsEmpty());
  ASSERT_EQ(decoded.alerting.counters.size(), 1u);
  const RuleCounters& c = decoded.alerting.counters[0];
  ASSERT_EQ(c.rings.size(), 2u);
  EXPECT_EQ(c.rings[0].requests, (std::vector<uint32_t>{0, 0, 0, 600, 598, 0, 0, 5}));
  EXPECT_EQ(c.rings[0].bad, (std::vector<uint32_t>{0, 0, 0, 12, 0, 0, 0, 5}));
  EXPECT_EQ(c.rings[1].requests.size(), 4302u);
}

TEST(StateFormat, RejectsWhatItDoesNotUnderstand) {
  const std::string good = EncodeState(FullState());
  std::string error;
  PersistedState s;
  EXPECT_FALSE(DecodeState("", &s, &error));
  EXPECT_FALSE(DecodeState(good.substr(0, good.size() / 2), &s, &error));
  EXPECT_EQ(error, "not valid JSON");
  EXPECT_FALSE(DecodeState("[1,2,3]", &s, &error));

  auto mutated = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json j = nlohmann::json::parse(good);
    change(j);
    std::string e;
    PersistedState out;
    EXPECT_FALSE(DecodeState(j.dump(), &out, &e)) << j.dump();
    return e;
  };
  EXPECT_THAT(mutated([](auto& j) { j["version"] = 2; }), HasSubstr("version 2"));
  EXPECT_THAT(mutated([](auto& j) { j["log"]["lines"] = -1; }), HasSubstr("log.lines"));
  EXPECT_THAT(mutated([](auto& j) { j["log"]["position"]["offset"] = "12"; }),
              HasSubstr("log.position.offset"));
  EXPECT_THAT(mutated([](auto& j) { j["log"]["position"]["fingerprint"] = "xyz"; }),
              HasSubstr("fingerprint"));
  EXPECT_THAT(mutated([](auto& j) { j["alerting"]["alerts"][0]["kind"] = "apdex"; }),
              HasSubstr("unknown rule kind"));
  EXPECT_THAT(mutated([](auto& j) { j["alerting"].erase("alerts"); }), HasSubstr("missing alerts"));
  EXPECT_THAT(mutated([](auto& j) { j["pools"] = nlohmann::json::object(); }), HasSubstr("pools"));
  EXPECT_THAT(mutated([](auto& j) { j["outbox"][0]["status"] = "maybe"; }),
              HasSubstr("outbox.status"));
  EXPECT_THAT(mutated([](auto& j) { j["pools"][0][1] = {{"hex", "zz"}}; }), HasSubstr("pools"));
  // Found by fuzzing: a time the clock cannot hold overflowed (undefined behaviour).
  EXPECT_THAT(mutated([](auto& j) { j["outbox"][0]["at_ms"] = 17956800000001; }),
              HasSubstr("out of range"));
  EXPECT_THAT(mutated([](auto& j) { j["alerting"]["alerts"][0]["last_fired_ms"] = -1; }),
              HasSubstr("out of range"));
  EXPECT_THAT(mutated([](auto& j) { j["alerting"]["alerts"][0]["suppressed"] = 1LL << 40; }),
              HasSubstr("out of range"));
  EXPECT_THAT(mutated([](auto& j) { j["alertmanager_firing"] = nlohmann::json::object(); }),
              HasSubstr("alertmanager_firing: expected a list"));
  EXPECT_THAT(mutated([](auto& j) { j["alertmanager_firing"][0].erase("starts_at_ms"); }),
              HasSubstr("missing starts_at_ms"));
  EXPECT_THAT(mutated([](auto& j) { j["alertmanager_firing"][0]["starts_at_ms"] = -1; }),
              HasSubstr("out of range"));
  EXPECT_THAT(
      mutated([](auto& j) { j["alertmanager_firing"][0]["notification"]["status"] = "maybe"; }),
      HasSubstr("alertmanager_firing.notification.status"));
}

TEST(StateStore, MissingFileIsReportedAsMissing) {
  TempDir dir;
  StateStore store((dir / "state.json").string());
  auto loaded = store.Load();
  EXPECT_EQ(loaded.status, StateStore::LoadStatus::kMissing);
  EXPECT_THAT(loaded.message, HasSubstr("no state file at"));
}

TEST(StateStore, SaveThenLoadRoundTripsAndLeavesNoTemporaryFile) {
  TempDir dir;
  StateStore store((dir / "state.json").string());
  std::string error;
  ASSERT_TRUE(store.Save(EncodeState(FullState()), &error)) << error;
  ASSERT_TRUE(store.Save(EncodeState(FullState()), &error)) << error;  // replaces
  auto loaded = store.Load();
  ASSERT_EQ(loaded.status, StateStore::LoadStatus::kLoaded) << loaded.message;
  ExpectSame(FullState(), loaded.state);
  EXPECT_FALSE(fs::exists(dir / "state.json.tmp"));
  EXPECT_THAT(std::vector<fs::path>(fs::directory_iterator(dir.path()), {}),
              ElementsAre(dir / "state.json"));
}

TEST(StateStore, CorruptFilesAreReportedNeverThrown) {
  TempDir dir;
  const fs::path path = dir / "state.json";
  StateStore store(path.string());
  const std::string good = EncodeState(FullState());
  for (const std::string& text :
       {std::string(), std::string("\0\0\0\0", 4), std::string("{\"version\":1}"),
        good.substr(0, good.size() - 10), std::string("null"), std::string(10000, '[')}) {
    WriteFile(path, text);
    auto loaded = store.Load();
    EXPECT_EQ(loaded.status, StateStore::LoadStatus::kCorrupt) << text.substr(0, 40);
    EXPECT_THAT(loaded.message, HasSubstr("is unusable"));
  }
}

TEST(StateStore, ADirectoryInPlaceOfTheFileIsUnreadable) {
  TempDir dir;
  fs::create_directories(dir / "state.json");
  StateStore store((dir / "state.json").string());
  auto loaded = store.Load();
  EXPECT_NE(loaded.status, StateStore::LoadStatus::kLoaded);
  EXPECT_NE(loaded.status, StateStore::LoadStatus::kMissing);
}

TEST(StateStore, SaveIntoAMissingDirectoryFailsWithThePath) {
  TempDir dir;
  StateStore store((dir / "gone" / "state.json").string());
  std::string error;
  EXPECT_FALSE(store.Save("{}", &error));
  EXPECT_THAT(error, HasSubstr((dir / "gone").string()));
  EXPECT_THAT(error, HasSubstr("No such file or directory"));
}

TEST(StateStore, DiskFullLeavesThePreviousFileIntact) {
  TempDir dir;
  const fs::path path = dir / "state.json";
  StateStore good(path.string());
  std::string error;
  ASSERT_TRUE(good.Save(EncodeState(FullState()), &error));
  int calls = 0;
  StateStore full(path.string(), [&](int fd, const void* data, size_t size) -> ssize_t {
    if (++calls > 1) {
      errno = ENOSPC;
      return -1;
    }
    return ::write(fd, data, std::min<size_t>(size, 10));  // a short write first
  });
  EXPECT_FALSE(full.Save(EncodeState(PersistedState{}), &error));
  EXPECT_THAT(error, HasSubstr("No space left on device"));
  EXPECT_FALSE(fs::exists(dir / "state.json.tmp"));
  auto loaded = good.Load();
  ASSERT_EQ(loaded.status, StateStore::LoadStatus::kLoaded);
  ExpectSame(FullState(), loaded.state);
}

struct Logs {
  std::vector<std::string> info, error;
  CheckpointerOptions Options(const fs::path& path, prometheus::Registry* registry) {
    CheckpointerOptions o;
    o.path = path.string();
    o.registry = registry;
    o.log_info = [this](std::string_view m) { info.emplace_back(m); };
    o.log_error = [this](std::string_view m) { error.emplace_back(m); };
    return o;
  }
};

std::string Exposition(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(Checkpointer, RestoreOfAMissingFileStartsFresh) {
  TempDir dir;
  Logs logs;
  Checkpointer c(logs.Options(dir / "state.json", nullptr));
  EXPECT_FALSE(c.Restore().has_value());
  EXPECT_THAT(logs.info, ElementsAre(HasSubstr("starting fresh")));
  EXPECT_THAT(logs.error, IsEmpty());
}

TEST(Checkpointer, RestoreOfACorruptFileStartsFreshAndKeepsItAside) {
  TempDir dir;
  WriteFile(dir / "state.json", "{\"version\": 1, \"log\": ");
  Logs logs;
  Checkpointer c(logs.Options(dir / "state.json", nullptr));
  EXPECT_FALSE(c.Restore().has_value());
  ASSERT_EQ(logs.error.size(), 1u);
  EXPECT_THAT(logs.error[0], HasSubstr("is unusable (not valid JSON): starting fresh"));
  EXPECT_TRUE(fs::exists(dir / "state.json.corrupt"));
  EXPECT_FALSE(fs::exists(dir / "state.json"));
}

TEST(Checkpointer, WritesChangesAtMostOncePerIntervalUnlessUrgent) {
  TempDir dir;
  Logs logs;
  auto options = logs.Options(dir / "state.json", nullptr);
  options.interval = std::chrono::seconds(1);
  Checkpointer c(options);
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  PersistedState s;
  s.lines = 1;
  EXPECT_TRUE(c.Maybe(s, t0));
  EXPECT_EQ(c.writes(), 1u);
  s.lines = 2;
  EXPECT_FALSE(c.Due(t0 + std::chrono::milliseconds(500)));
  EXPECT_FALSE(c.Maybe(s, t0 + std::chrono::milliseconds(500)));
  EXPECT_EQ(c.writes(), 1u);
  EXPECT_TRUE(c.Maybe(s, t0 + std::chrono::milliseconds(1000)));
  EXPECT_EQ(c.writes(), 2u);
  // Unchanged: nothing written, however much time passes.
  EXPECT_TRUE(c.Maybe(s, t0 + std::chrono::seconds(10)));
  EXPECT_EQ(c.writes(), 2u);
  s.lines = 3;
  EXPECT_TRUE(c.Maybe(s, t0 + std::chrono::seconds(10) + std::chrono::milliseconds(1), true));
  EXPECT_EQ(c.writes(), 3u);
  PersistedState read;
  std::string error;
  ASSERT_TRUE(DecodeState(ReadFile(dir / "state.json"), &read, &error)) << error;
  EXPECT_EQ(read.lines, 3u);
  EXPECT_NE(read.saved_at, TimePoint{});
}

TEST(Checkpointer, WriteFailuresAreCountedLoggedOncePerConditionAndRetried) {
  TempDir dir;
  prometheus::Registry registry;
  Logs logs;
  auto options = logs.Options(dir / "sub" / "state.json", &registry);
  options.interval = std::chrono::milliseconds(100);
  bool disk_full = false;
  options.write = [&](int fd, const void* data, size_t size) -> ssize_t {
    if (disk_full) {
      errno = ENOSPC;
      return -1;
    }
    return ::write(fd, data, size);
  };
  Checkpointer c(options);
  auto t = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  PersistedState s;
  for (int i = 0; i < 3; ++i) {  // the directory is missing
    s.lines = static_cast<uint64_t>(i);
    t += std::chrono::milliseconds(100);
    EXPECT_FALSE(c.Maybe(s, t));
  }
  EXPECT_EQ(c.errors(), 3u);
  ASSERT_EQ(logs.error.size(), 1u);
  EXPECT_THAT(logs.error[0], HasSubstr("No such file or directory"));
  std::string text = Exposition(registry);
  EXPECT_EQ(MetricValue(text, "poolwatch_state_write_errors_total"), 3);
  EXPECT_EQ(MetricValue(text, "poolwatch_state_last_write_successful"), 0);

  fs::create_directories(dir / "sub");
  t += std::chrono::milliseconds(100);
  EXPECT_TRUE(c.Maybe(s, t));
  EXPECT_THAT(logs.info, ElementsAre(HasSubstr("written again")));
  text = Exposition(registry);
  EXPECT_EQ(MetricValue(text, "poolwatch_state_writes_total"), 1);
  EXPECT_EQ(MetricValue(text, "poolwatch_state_last_write_successful"), 1);
  EXPECT_GT(MetricValue(text, "poolwatch_state_last_write_timestamp_seconds"), 1.7e9);

  disk_full = true;  // a second, different condition: logged once more
  for (int i = 0; i < 2; ++i) {
    s.lines += 1;
    t += std::chrono::milliseconds(100);
    EXPECT_FALSE(c.Maybe(s, t));
  }
  ASSERT_EQ(logs.error.size(), 2u);
  EXPECT_THAT(logs.error[1], HasSubstr("No space left on device"));
  EXPECT_EQ(c.errors(), 5u);
  disk_full = false;
  t += std::chrono::milliseconds(100);
  EXPECT_TRUE(c.Maybe(s, t));
  PersistedState read;
  std::string error;
  ASSERT_TRUE(DecodeState(ReadFile(dir / "sub" / "state.json"), &read, &error)) << error;
  EXPECT_EQ(read.lines, s.lines);
}

// nginx keeps appending to a renamed file until it reopens its log.
std::string Line(int i) {
  return "127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] \"GET /v?" + std::to_string(i) +
         " HTTP/1.1\" 200 51\n";
}

TEST(RotatedRemainder, ReadsTheRestOfTheRenamedFileIncludingAnUnterminatedLastLine) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, Line(1) + Line(2));
  FileFollowerOptions options;
  options.path = log.string();
  options.start_at_end = false;
  FilePosition saved;
  {
    FileFollower follower(options);
    std::vector<std::string> lines;
    follower.Poll([&](std::string_view l) { lines.emplace_back(l); });
    ASSERT_EQ(lines.size(), 2u);
    saved = follower.CurrentPosition();
  }
  AppendFile(log, Line(3) + "partial");
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, Line(4));

  std::vector<std::string> lines;
  RotatedRemainder rest =
      ReadRotatedRemainder(log.string(), saved, [&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_TRUE(rest.needed);
  EXPECT_TRUE(rest.found);
  EXPECT_EQ(rest.file, (dir / "access.log.1").string());
  EXPECT_THAT(lines, ElementsAre(Line(3).substr(0, Line(3).size() - 1), "partial"));
  EXPECT_EQ(rest.lines, 2u);
  EXPECT_THAT(rest.message, HasSubstr("access.log.1"));

  // Then the follower, resuming from the saved position, reads the new file from its start.
  options.resume_from = saved;
  FileFollower follower(options);
  lines.clear();
  follower.Poll([&](std::string_view l) { lines.emplace_back(l); });
  EXPECT_THAT(lines, ElementsAre(Line(4).substr(0, Line(4).size() - 1)));
}

TEST(RotatedRemainder, NothingIsReadWhileTheFileIsStillAtThePath) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, Line(1));
  FileFollowerOptions options;
  options.path = log.string();
  FileFollower follower(options);
  int calls = 0;
  RotatedRemainder rest = ReadRotatedRemainder(log.string(), follower.CurrentPosition(),
                                               [&](std::string_view) { ++calls; });
  EXPECT_FALSE(rest.needed);
  EXPECT_EQ(calls, 0);
}

TEST(RotatedRemainder, ADeletedOrReplacedFileIsReportedAsLost) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  WriteFile(log, Line(1));
  FilePosition saved;
  {
    FileFollowerOptions options;
    options.path = log.string();
    FileFollower follower(options);
    saved = follower.CurrentPosition();
  }
  fs::rename(log, dir / "access.log.1");
  WriteFile(log, Line(2));
  // Same inode, other content: the fingerprint tells them apart.
  WriteFile(dir / "access.log.1", "another file entirely\n");
  int calls = 0;
  RotatedRemainder rest =
      ReadRotatedRemainder(log.string(), saved, [&](std::string_view) { ++calls; });
  EXPECT_TRUE(rest.needed);
  EXPECT_FALSE(rest.found);
  EXPECT_EQ(calls, 0);
  EXPECT_THAT(rest.message, HasSubstr("are lost"));
  fs::remove(dir / "access.log.1");
  rest = ReadRotatedRemainder(log.string(), saved, [&](std::string_view) { ++calls; });
  EXPECT_FALSE(rest.found);
}

// The keeper end to end without a daemon: lines and alerting state saved by one "process"
// are restored by the next, which resumes after the last saved line.
TEST(StateKeeper, ASecondRunResumesAfterTheSavedLinesWithTheSameAlertingState) {
  TempDir dir;
  const fs::path log = dir / "access.log";
  const std::string line =
      "127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] \"GET /version HTTP/1.1\" 200 51 \"-\" "
      "\"curl/7.88.1\" pool=green release=v2.0.0 upstream_status=500, 200 "
      "upstream_addr=10.0.0.1:80, "
      "10.0.0.2:80 request_time=0.012 upstream_response_time=0.002, 0.010\n";
  std::string three;
  for (int i = 0; i < 3; ++i) three += line;
  WriteFile(log, three);
  Config config;
  config.log_paths = {log.string()};
  config.state_path = (dir / "state.json").string();
  config.start_at_beginning = true;

  {
    prometheus::Registry registry;
    Pipeline pipeline(config, registry);
    StateKeeper keeper(config, pipeline, &registry);
    LogSetOptions logs;
    logs.patterns = {log.string()};
    logs.follow.start_at_end = false;
    EXPECT_THAT(keeper.Restore(&logs).outbox, IsEmpty());
    LogSet files(logs);
    keeper.Attach(&files);
    auto r =
        files.files().at(0)->follower->Poll([&](std::string_view l) { pipeline.ProcessLine(l); });
    keeper.CountLines(r.lines);
    Notification n;
    n.rule = "failover";
    n.labels = {{"pool", "blue"}};
    keeper.BeforeEnqueue({n});  // saved at once, with the outbox
    AppendFile(log, line);      // written after the save: the next run must read it
  }
  PersistedState saved;
  std::string error;
  ASSERT_TRUE(DecodeState(ReadFile(dir / "state.json"), &saved, &error)) << error;
  EXPECT_EQ(saved.lines, 3u);
  EXPECT_EQ(saved.learned_pools.at("10.0.0.2:80"), "green");
  ASSERT_EQ(saved.outbox.size(), 1u);

  prometheus::Registry registry;
  Pipeline pipeline(config, registry);
  StateKeeper keeper(config, pipeline, &registry);
  LogSetOptions logs;
  logs.patterns = {log.string()};
  std::vector<Notification> again = keeper.Restore(&logs).outbox;
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].Key(), "failover{pool=blue}");
  EXPECT_EQ(pipeline.resolver().Known().at("10.0.0.2:80"), "green");
  ASSERT_EQ(logs.resume_from.count(log.string()), 1u);
  LogSet files(logs);
  keeper.Attach(&files);
  auto r =
      files.files().at(0)->follower->Poll([&](std::string_view l) { pipeline.ProcessLine(l); });
  EXPECT_EQ(r.lines, 1u);
  keeper.CountLines(r.lines);
  keeper.Tick(/*dispatcher_queue_length=*/0);  // delivered: the outbox empties, saved at once
  ASSERT_TRUE(DecodeState(ReadFile(dir / "state.json"), &saved, &error)) << error;
  EXPECT_EQ(saved.lines, 4u);
  EXPECT_THAT(saved.outbox, IsEmpty());
}

// One run of the daemon's state-keeping parts: the pipeline, the state keeper and two
// Alertmanager notifiers attached to it, as Daemon::Run wires them.
struct DaemonWithTwoAlertmanagers {
  DaemonWithTwoAlertmanagers(const Config& config, const AlertmanagerOptions& am)
      : log_path(config.log_paths.at(0)),
        pipeline(config, registry),
        keeper(config, pipeline, &registry),
        am_1("http://am-1:9093", poster, am),
        am_2("http://am-2:9093", poster, am) {
    StateKeeper::Exports exports;
    for (AlertmanagerNotifier* am : {&am_1, &am_2}) {
      exports.alertmanagers.push_back([am] { return am->ExportState(); });
    }
    keeper.AttachExports(std::move(exports));
  }
  std::vector<Notification> Restore() {
    LogSetOptions logs;
    logs.patterns = {log_path};
    StateKeeper::Restored restored = keeper.Restore(&logs);
    for (AlertmanagerNotifier* am : {&am_1, &am_2}) am->ImportState(restored.alertmanager_firing);
    return restored.outbox;
  }

  std::string log_path;
  prometheus::Registry registry;
  Pipeline pipeline;
  StateKeeper keeper;
  testing::FakePoster poster;
  AlertmanagerNotifier am_1;
  AlertmanagerNotifier am_2;
};

// What the Alertmanager notifiers keep re-posting is saved with the rest (one list for all of
// them) and handed back to them by the next run, which re-posts it with the same startsAt.
TEST(StateKeeper, AlertmanagerAlertsAreSavedOnceAndAdoptedByTheNextRun) {
  TempDir dir;
  Config config;
  config.log_paths = {(dir / "access.log").string()};
  config.state_path = (dir / "state.json").string();
  config.state_interval = std::chrono::milliseconds(0);  // every Tick() checks for changes
  WriteFile(dir / "access.log", "");
  const TimePoint started = At(1761920000000);
  Notification blue;
  blue.rule = "failover";
  blue.labels = {{"pool", "blue"}};
  blue.title = "FAILOVER";
  blue.at = started;
  Notification unknown = blue;  // not firing in the engine: its resolution would never come
  unknown.rule = "error_rate";
  unknown.labels = {{"pool", "green"}};
  AlertmanagerOptions am;
  am.start_resender = false;
  am.now = [started] { return started + std::chrono::minutes(10); };
  std::string error;
  PersistedState saved;

  {
    DaemonWithTwoAlertmanagers run(config, am);
    EXPECT_THAT(run.Restore(), IsEmpty());
    run.pipeline.engine().ImportState(EngineState{
        false,
        std::nullopt,
        {AlertStateRecord{"failover", RuleKind::kFailover, blue.labels, true, started, 0}},
        {}});
    run.am_1.Send(blue, std::chrono::seconds(1));
    run.am_2.Send(blue, std::chrono::seconds(1));
    run.am_2.Send(unknown, std::chrono::seconds(1));
    run.keeper.Tick(0);
    ASSERT_TRUE(DecodeState(ReadFile(dir / "state.json"), &saved, &error)) << error;
    ASSERT_EQ(saved.alertmanager_firing.size(), 2u) << "the union, each alert once";
    EXPECT_EQ(saved.alertmanager_firing[0].notification.Key(), "error_rate{pool=green}");
    EXPECT_EQ(saved.alertmanager_firing[1].notification.Key(), "failover{pool=blue}");
    EXPECT_EQ(saved.alertmanager_firing[1].starts_at, started);
  }  // killed: no Shutdown()

  DaemonWithTwoAlertmanagers run(config, am);
  run.Restore();
  EXPECT_TRUE(run.poster.calls.empty()) << "no new firing post";
  for (AlertmanagerNotifier* notifier : {&run.am_1, &run.am_2}) {
    std::vector<AlertmanagerFiring> adopted = notifier->ExportState();
    ASSERT_EQ(adopted.size(), 1u) << "only what the restored engine still has firing";
    EXPECT_EQ(adopted[0].notification.Key(), "failover{pool=blue}");
    EXPECT_EQ(adopted[0].notification.title, "FAILOVER");
    EXPECT_EQ(adopted[0].starts_at, started);
  }
  run.am_1.Resend(started + std::chrono::minutes(10));
  ASSERT_EQ(run.poster.calls.size(), 1u);
  EXPECT_THAT(run.poster.calls[0].body, HasSubstr("\"startsAt\":\"2025-10-31T14:13:20.000Z\""));

  // The resolution reaches both; the next checkpoint saves that nothing is left to re-post.
  Notification resolved = blue;
  resolved.status = AlertStatus::kResolved;
  resolved.at = started + std::chrono::minutes(11);
  run.am_1.Send(resolved, std::chrono::seconds(1));
  run.am_2.Send(resolved, std::chrono::seconds(1));
  run.keeper.Tick(0);
  ASSERT_TRUE(DecodeState(ReadFile(dir / "state.json"), &saved, &error)) << error;
  EXPECT_THAT(saved.alertmanager_firing, IsEmpty());
}

TEST(StateKeeper, DisabledWithoutAPath) {
  Config config;
  prometheus::Registry registry;
  Pipeline pipeline(config, registry);
  StateKeeper keeper(config, pipeline, &registry);
  EXPECT_FALSE(keeper.enabled());
  LogSetOptions logs;
  EXPECT_THAT(keeper.Restore(&logs).outbox, IsEmpty());
  EXPECT_THAT(logs.resume_from, IsEmpty());
  keeper.BeforeEnqueue({Notification{}});
  keeper.Tick(0);
  keeper.Shutdown();
  EXPECT_EQ(MetricValue(Exposition(registry), "poolwatch_state_writes_total"), -1);
}

// The Slack app's incidents are saved with the rest and handed back to the next run: resolved
// ones (for flaps) and open ones the restored engine still has as announced, whose resolution
// will come and update the saved message.
TEST(StateKeeper, SlackIncidentsAreSavedAndTheStillAnnouncedOnesAdoptedByTheNextRun) {
  TempDir dir;
  Config config;
  config.log_paths = {(dir / "access.log").string()};
  config.state_path = (dir / "state.json").string();
  config.state_interval = std::chrono::milliseconds(0);
  WriteFile(dir / "access.log", "");
  const TimePoint started = At(1761920000000);
  SlackThread open;
  open.key = "failover{pool=blue}";
  open.channel = "C0OPS";
  open.ts = "1.1";
  open.started = started;
  SlackThread gone = open;  // its rule was removed meanwhile: no resolution would come
  gone.key = "error_rate{pool=green}";
  gone.ts = "2.2";
  SlackThread resolved = open;
  resolved.key = "failover{pool=green}";
  resolved.ts = "3.3";
  resolved.resolved = true;
  resolved.resolved_at = started + std::chrono::minutes(5);
  std::vector<SlackThread> exported = {gone, open, resolved};

  {
    prometheus::Registry registry;
    Pipeline pipeline(config, registry);
    StateKeeper keeper(config, pipeline, &registry);
    StateKeeper::Exports exports;
    exports.slack_threads = [&exported] { return exported; };
    keeper.AttachExports(std::move(exports));
    LogSetOptions logs;
    logs.patterns = config.log_paths;
    EXPECT_THAT(keeper.Restore(&logs).slack_threads, IsEmpty());
    pipeline.engine().ImportState(EngineState{
        false,
        std::nullopt,
        {AlertStateRecord{"failover", RuleKind::kFailover, {{"pool", "blue"}}, true, started, 0}},
        {}});
    keeper.Tick(0);
  }  // killed: no Shutdown()
  PersistedState saved;
  std::string error;
  ASSERT_TRUE(DecodeState(ReadFile(dir / "state.json"), &saved, &error)) << error;
  ASSERT_EQ(saved.slack_threads.size(), 3u);

  prometheus::Registry registry;
  Pipeline pipeline(config, registry);
  StateKeeper keeper(config, pipeline, &registry);
  StateKeeper::Exports exports;
  exports.slack_threads = [] { return std::vector<SlackThread>{}; };
  keeper.AttachExports(std::move(exports));
  LogSetOptions logs;
  logs.patterns = config.log_paths;
  std::vector<std::string> adopted;
  for (const SlackThread& t : keeper.Restore(&logs).slack_threads) adopted.push_back(t.ts);
  EXPECT_EQ(adopted, (std::vector<std::string>{"1.1", "3.3"}));
}

}  // namespace
}  // namespace poolwatch
