// SyslogSources: each sender's tag and host as the source values of its lines, one source per
// sender kept for the table's life, bounded by max_sources.
#include "exporter/syslog_sources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace poolwatch {
namespace {

using ::testing::ElementsAre;

SyslogMessage From(std::string_view tag, std::string_view host) {
  SyslogMessage message;
  message.tag = tag;
  message.host = host;
  message.message = "a line";
  return message;
}

SyslogSourcesOptions Options(std::vector<SyslogLabel> labels, size_t leading = 0,
                             size_t max_sources = 50) {
  SyslogSourcesOptions options;
  options.labels = std::move(labels);
  options.leading_values = leading;
  options.max_sources = max_sources;
  return options;
}

TEST(SyslogSources, EachSenderHasItsValuesInTheConfiguredOrderAfterThePathLabels) {
  SyslogSources sources(Options({SyslogLabel::kHost, SyslogLabel::kTag}, 1));
  const LineSource& web1 = sources.SourceOf(From("shop", "web-1"));
  const LineSource& bare = sources.SourceOf(From("api", ""));  // nohostname
  EXPECT_THAT(web1.values, ElementsAre("", "web-1", "shop"));
  EXPECT_THAT(bare.values, ElementsAre("", "", "api"));
  EXPECT_NE(web1.id, 0u);
  EXPECT_NE(web1.id, bare.id);
}

TEST(SyslogSources, ASenderKeepsItsSourceAddressAndId) {
  SyslogSources sources(Options({SyslogLabel::kTag, SyslogLabel::kHost}));
  const LineSource* first = &sources.SourceOf(From("shop", "web-1"));
  const uint64_t id = first->id;
  for (int i = 0; i < 40; ++i) sources.SourceOf(From("t" + std::to_string(i), "web-2"));
  // The datagram's views may point anywhere: the key is their text.
  const std::string tag = "shop", host = "web-1";
  const LineSource& again = sources.SourceOf(From(tag, host));
  EXPECT_EQ(&again, first);
  EXPECT_EQ(again.id, id);
  EXPECT_EQ(sources.size(), 41u);
}

TEST(SyslogSources, OnlyTheConfiguredLabelsTellSendersApart) {
  SyslogSources tag_only(Options({SyslogLabel::kTag}));
  EXPECT_EQ(&tag_only.SourceOf(From("shop", "web-1")), &tag_only.SourceOf(From("shop", "web-2")));
  EXPECT_THAT(tag_only.SourceOf(From("shop", "web-2")).values, ElementsAre("shop"));
  EXPECT_NE(&tag_only.SourceOf(From("shop", "web-1")), &tag_only.SourceOf(From("api", "web-1")));

  SyslogSources none(Options({}, 1));  // a path label only: every datagram alike
  EXPECT_EQ(&none.SourceOf(From("shop", "web-1")), &none.SourceOf(From("api", "web-2")));
  EXPECT_THAT(none.SourceOf(From("api", "web-2")).values, ElementsAre(""));
}

TEST(SyslogSources, ValuesThatRunTogetherAreStillTwoSenders) {
  SyslogSources sources(Options({SyslogLabel::kTag, SyslogLabel::kHost}));
  const LineSource& a = sources.SourceOf(From("ab", "c"));
  const LineSource& b = sources.SourceOf(From("a", "bc"));
  EXPECT_NE(&a, &b);
  EXPECT_THAT(b.values, ElementsAre("a", "bc"));
}

TEST(SyslogSources, SendersBeyondTheCapShareOneOtherSource) {
  SyslogSources sources(Options({SyslogLabel::kTag, SyslogLabel::kHost}, 1, 2));
  const LineSource& first = sources.SourceOf(From("shop", "web-1"));
  sources.SourceOf(From("shop", "web-2"));
  const LineSource& third = sources.SourceOf(From("shop", "web-3"));
  const LineSource& fourth = sources.SourceOf(From("api", "web-1"));
  EXPECT_EQ(&third, &fourth);
  EXPECT_THAT(third.values, ElementsAre("", "other", "other"));
  EXPECT_NE(third.id, first.id);
  EXPECT_EQ(&sources.SourceOf(From("shop", "web-1")), &first);  // a known sender keeps its own
  EXPECT_EQ(sources.size(), 2u);
}

}  // namespace
}  // namespace poolwatch
