#include "config/value_parsers.h"

#include <gtest/gtest.h>

namespace poolwatch {
namespace {

using std::chrono::milliseconds;

// Each row: the text as a user writes it in the file, a variable or a flag, and what it means
// (nullopt: refused).
template <typename T>
struct Row {
  const char* text;
  std::optional<T> value;
};

template <typename T, typename Parse>
void ExpectTable(Parse parse, std::initializer_list<Row<T>> rows) {
  for (const Row<T>& row : rows) {
    EXPECT_EQ(parse(row.text), row.value) << "text: '" << row.text << "'";
  }
}

TEST(ValueParsers, log_level_is_one_of_four_names) {
  ExpectTable<LogLevel>(ParseLogLevel, {{"debug", LogLevel::kDebug},
                                        {"info", LogLevel::kInfo},
                                        {"warn", LogLevel::kWarn},
                                        {"error", LogLevel::kError},
                                        {"verbose", std::nullopt},
                                        {"INFO", std::nullopt},
                                        {"", std::nullopt}});
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    EXPECT_EQ(ParseLogLevel(LogLevelName(level)), level);
  }
}

TEST(ValueParsers, start_at_is_end_or_beginning) {
  ExpectTable<StartAt>(ParseStartAt, {{"end", StartAt::kEnd},
                                      {"beginning", StartAt::kBeginning},
                                      {"start", std::nullopt},
                                      {"", std::nullopt}});
}

TEST(ValueParsers, escape_rule_kind_and_scope_are_their_names) {
  ExpectTable<LogEscape>(ParseLogEscape, {{"default", LogEscape::kDefault},
                                          {"json", LogEscape::kJson},
                                          {"none", LogEscape::kNone},
                                          {"html", std::nullopt}});
  ExpectTable<RuleKind>(ParseRuleKind, {{"failover", RuleKind::kFailover},
                                        {"error_rate", RuleKind::kErrorRate},
                                        {"latency", RuleKind::kLatency},
                                        {"error-rate", std::nullopt}});
  ExpectTable<ErrorScope>(ParseErrorScope, {{"client", ErrorScope::kClient},
                                            {"upstream", ErrorScope::kUpstream},
                                            {"server", std::nullopt}});
}

TEST(ValueParsers, booleans_take_yaml_and_shell_spellings_in_any_case) {
  ExpectTable<bool>(ParseBool, {{"true", true},
                                {"True", true},
                                {"YES", true},
                                {"on", true},
                                {"y", true},
                                {"1", true},
                                {"false", false},
                                {"No", false},
                                {"off", false},
                                {"0", false},
                                {"maybe", std::nullopt},
                                {"truthy", std::nullopt},
                                {"", std::nullopt}});
}

TEST(ValueParsers, counts_are_digits_only) {
  ExpectTable<size_t>(ParseCount, {{"0", 0},
                                   {"200", 200},
                                   {"200.9", std::nullopt},
                                   {"1e2", std::nullopt},
                                   {"-1", std::nullopt},
                                   {" 1", std::nullopt},
                                   {"99999999999999999999999", std::nullopt},
                                   {"", std::nullopt}});
}

TEST(ValueParsers, numbers_are_whole_texts) {
  ExpectTable<double>(
      ParseNumber,
      {{"5", 5.0}, {"2.5", 2.5}, {"1e2", 100.0}, {"5%", std::nullopt}, {"", std::nullopt}});
}

TEST(ValueParsers, durations_take_units_or_plain_seconds_and_refuse_the_absurd) {
  ExpectTable<milliseconds>(ParseDuration, {{"300", std::chrono::seconds(300)},
                                            {"1.5", milliseconds(1500)},
                                            {"1h30m", std::chrono::minutes(90)},
                                            {"250ms", milliseconds(250)},
                                            {"2d", std::chrono::hours(48)},
                                            {"5x", std::nullopt},
                                            {"-1s", std::nullopt},
                                            {"1e300s", std::nullopt},
                                            {"nan", std::nullopt},
                                            {"", std::nullopt}});
}

TEST(ValueParsers, notifier_kinds_are_the_four_notifiers) {
  ExpectTable<std::string>(ParseNotifierKind, {{"slack", "slack"},
                                               {"webhook", "webhook"},
                                               {"console", "console"},
                                               {"alertmanager", "alertmanager"},
                                               {"email", std::nullopt},
                                               {"Slack", std::nullopt}});
}

TEST(ValueParsers, urls_lists_and_messages) {
  EXPECT_TRUE(IsHttpUrl("https://hooks.slack.com/x"));
  EXPECT_TRUE(IsHttpUrl("http://am:9093"));
  EXPECT_FALSE(IsHttpUrl("https://"));
  EXPECT_FALSE(IsHttpUrl("ftp://host"));
  EXPECT_EQ(SplitCommaList(" a, b ,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SplitCommaList(" , ").empty());
  EXPECT_EQ(ExpectedGot(kStartAtExpected, "start"), "expected end or beginning, got 'start'");
}

}  // namespace
}  // namespace poolwatch
