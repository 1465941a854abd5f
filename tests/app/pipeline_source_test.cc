// Pipeline::SetSource: every source value reaches the metrics under SourceLabelNames(config), a
// line without a source has "none" in each, and a source is told apart from an earlier one at the
// same address by its id.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <memory>
#include <new>
#include <optional>
#include <string>

#include "app/pipeline.h"
#include "exporter/exposition.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::DefaultFormatLine;
using ::poolwatch::testing::MetricValue;

class PipelineSource : public ::testing::Test {
 protected:
  PipelineSource() {
    config_.path_label.name = "site";
    config_.path_label.pattern = "/var/log/nginx/(\\w+)\\.access\\.log";
    config_.syslog_labels = {SyslogLabel::kTag, SyslogLabel::kHost};
    pipeline_.emplace(config_, registry_);
  }
  double Requests(const std::string& site, const std::string& tag, const std::string& host) {
    pipeline_->Flush();
    std::string text;
    AppendTextExposition(registry_.Collect(), text);
    return MetricValue(text, "poolwatch_http_requests_total",
                       {{"site", site}, {"syslog_tag", tag}, {"host", host}});
  }

  Config config_;
  prometheus::Registry registry_;
  std::optional<Pipeline> pipeline_;
};

TEST_F(PipelineSource, EveryValueBecomesItsLabelAndNoSourceIsNoneInEach) {
  const PathLabeler labeler(config_.path_label);
  LineSource file{Pipeline::FileSourceValues(labeler, 2, "/var/log/nginx/shop.access.log"),
                  NewLineSourceId()};
  LineSource sender{{"", "api", "web-1"}, NewLineSourceId()};
  pipeline_->SetSource(&file);
  pipeline_->ProcessLine(DefaultFormatLine(0, 200));
  pipeline_->ProcessLine(DefaultFormatLine(1, 200));
  pipeline_->SetSource(&sender);
  pipeline_->ProcessLine(DefaultFormatLine(2, 200));
  pipeline_->SetSource(nullptr);
  pipeline_->ProcessLine(DefaultFormatLine(3, 200));
  EXPECT_EQ(Requests("shop", "none", "none"), 2);
  EXPECT_EQ(Requests("none", "api", "web-1"), 1);
  EXPECT_EQ(Requests("none", "none", "none"), 1);
}

TEST_F(PipelineSource, ANewSourceAtTheAddressOfAGoneOneIsANewSource) {
  auto source = std::make_unique<LineSource>(LineSource{{"", "shop", "web-1"}, NewLineSourceId()});
  pipeline_->SetSource(source.get());
  pipeline_->ProcessLine(DefaultFormatLine(0, 200));
  // The same object made again in place: another sender, another id.
  LineSource* at = source.get();
  at->~LineSource();
  new (at) LineSource{{"", "api", "web-2"}, NewLineSourceId()};
  pipeline_->SetSource(at);
  pipeline_->ProcessLine(DefaultFormatLine(1, 200));
  EXPECT_EQ(Requests("none", "shop", "web-1"), 1);
  EXPECT_EQ(Requests("none", "api", "web-2"), 1);
}

}  // namespace
}  // namespace poolwatch
