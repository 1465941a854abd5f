#include "remote_write/write_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "remote_write/remote_write.pb.h"
#include "remote_write/sample_queue.h"

namespace poolwatch {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// What a receiver does with a body: snappy, then protobuf.
remote_write::WriteRequest Decode(const std::string& body) {
  std::string raw;
  EXPECT_TRUE(SnappyUncompress(body, raw));
  remote_write::WriteRequest request;
  EXPECT_TRUE(request.ParseFromString(raw));
  return request;
}

Labels LabelsOf(const remote_write::TimeSeries& series) {
  Labels labels;
  for (const auto& l : series.labels()) labels.emplace_back(l.name(), l.value());
  return labels;
}

TEST(PushedLabels, AddsExternalThenTargetLabelsAndSortsByName) {
  EXPECT_EQ(PushedLabels({{"__name__", "m"}, {"pool", "blue"}}, {{"region", "eu"}},
                         {{"job", "poolwatch"}, {"instance", "node1"}}),
            (Labels{{"__name__", "m"},
                    {"instance", "node1"},
                    {"job", "poolwatch"},
                    {"pool", "blue"},
                    {"region", "eu"}}));
}

TEST(PushedLabels, ASeriesOwnLabelWinsAndExternalLabelsWinOverTargetLabels) {
  EXPECT_EQ(PushedLabels({{"__name__", "m"}, {"region", "own"}},
                         {{"region", "eu"}, {"job", "edge"}}, {{"job", "poolwatch"}}),
            (Labels{{"__name__", "m"}, {"job", "edge"}, {"region", "own"}}));
}

TEST(EncodeWriteRequest, DecodesBackToTheSamplesWithSortedLabelsAndMillisecondTimes) {
  std::vector<ExposedSample> exposed(2);
  exposed[0].labels = {{"__name__", "b_total"}, {"pool", "blue"}};
  exposed[0].value = 7;
  exposed[1].labels = {{"__name__", "a"}};
  exposed[1].value = -0.25;
  const auto samples = SnapshotSamples(exposed, 1764140400123, {{"region", "eu"}}, {});

  const remote_write::WriteRequest request = Decode(EncodeWriteRequest(samples));
  ASSERT_EQ(request.timeseries_size(), 2);
  EXPECT_EQ(LabelsOf(request.timeseries(0)),
            (Labels{{"__name__", "b_total"}, {"pool", "blue"}, {"region", "eu"}}));
  ASSERT_EQ(request.timeseries(0).samples_size(), 1);
  EXPECT_EQ(request.timeseries(0).samples(0).value(), 7);
  EXPECT_EQ(request.timeseries(0).samples(0).timestamp(), 1764140400123);
  EXPECT_EQ(LabelsOf(request.timeseries(1)), (Labels{{"__name__", "a"}, {"region", "eu"}}));
  EXPECT_EQ(request.timeseries(1).samples(0).value(), -0.25);
}

TEST(EncodeWriteRequest, ConsecutiveSamplesOfOneLabelSetShareATimeSeries) {
  auto labels = std::make_shared<const LabelSet>(LabelSet{{"__name__", "m"}});
  auto other = std::make_shared<const LabelSet>(LabelSet{{"__name__", "n"}});
  std::vector<QueuedSample> batch = {{labels, 1, 1000}, {labels, 2, 2000}, {other, 3, 2000}};
  const remote_write::WriteRequest request = Decode(EncodeWriteRequest(batch));
  ASSERT_EQ(request.timeseries_size(), 2);
  ASSERT_EQ(request.timeseries(0).samples_size(), 2);
  EXPECT_EQ(request.timeseries(0).samples(1).timestamp(), 2000);
  EXPECT_EQ(request.timeseries(1).samples(0).value(), 3);
}

TEST(EncodeWriteRequest, IsSnappysBlockFormatOfTheProtobuf) {
  auto labels = std::make_shared<const LabelSet>(LabelSet{{"__name__", "m"}});
  std::vector<QueuedSample> batch(100, QueuedSample{labels, 1, 1000});
  const std::string body = EncodeWriteRequest(batch);
  std::string raw;
  ASSERT_TRUE(SnappyUncompress(body, raw));
  EXPECT_EQ(raw, SerializeWriteRequest(batch));
  EXPECT_LT(body.size(), raw.size());  // repeated samples compress
  std::string corrupt;
  EXPECT_FALSE(SnappyUncompress("\xff\xff\xff\xff garbage", corrupt));
}

std::vector<QueuedSample> Samples(int from, int count) {
  std::vector<QueuedSample> out;
  for (int i = from; i < from + count; ++i) out.push_back({nullptr, static_cast<double>(i), 0});
  return out;
}

std::vector<double> Values(const std::vector<QueuedSample>& samples) {
  std::vector<double> out;
  for (const auto& s : samples) out.push_back(s.value);
  return out;
}

TEST(SampleQueue, TakesOldestFirstInBatches) {
  SampleQueue queue(10);
  EXPECT_EQ(queue.Push(Samples(0, 5)), 0u);
  EXPECT_EQ(Values(queue.Take(3)), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(Values(queue.Take(3)), (std::vector<double>{3, 4}));
  EXPECT_TRUE(queue.Take(3).empty());
}

TEST(SampleQueue, DropsTheOldestBeyondItsCapacityAndSaysHowMany) {
  SampleQueue queue(5);
  EXPECT_EQ(queue.Push(Samples(0, 4)), 0u);
  EXPECT_EQ(queue.Push(Samples(4, 3)), 2u);
  EXPECT_EQ(queue.size(), 5u);
  EXPECT_EQ(Values(queue.Take(10)), (std::vector<double>{2, 3, 4, 5, 6}));
}

TEST(SampleQueue, KeepsTheNewestPartOfASnapshotLargerThanItself) {
  SampleQueue queue(3);
  queue.Push(Samples(0, 2));
  EXPECT_EQ(queue.Push(Samples(10, 5)), 4u);
  EXPECT_EQ(Values(queue.Take(10)), (std::vector<double>{12, 13, 14}));
}

}  // namespace
}  // namespace poolwatch

namespace poolwatch {
namespace {

TEST(SnapshotReader, ReadsWhatSnapshotSamplesBuilds) {
  const std::string text =
      "# TYPE a counter\na{pool=\"blue\",s=\"x\\\"y\"} 3\nb 4\nbroken{ 5\nc{region=\"own\"} 6\n";
  SnapshotReader reader({{"region", "eu"}}, {{"job", "poolwatch"}});
  size_t malformed = 0;
  const auto read = reader.Read(text, 1000, &malformed);
  const auto built =
      SnapshotSamples(ParseTextExposition(text), 1000, {{"region", "eu"}}, {{"job", "poolwatch"}});
  EXPECT_EQ(malformed, 1u);
  ASSERT_EQ(read.size(), built.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(*read[i].labels, *built[i].labels);
    EXPECT_EQ(read[i].value, built[i].value);
    EXPECT_EQ(read[i].timestamp_ms, 1000);
  }
}

TEST(SnapshotReader, ASeriesKeepsItsLabelSetFromOneSnapshotToTheNext) {
  SnapshotReader reader({}, {});
  const auto first = reader.Read("a{p=\"1\"} 1\nb 2\n", 1000);
  const auto second = reader.Read("b 3\na{p=\"1\"} 4\nc 5\n", 2000);
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(second[0].labels.get(), first[1].labels.get());
  EXPECT_EQ(second[1].labels.get(), first[0].labels.get());
  EXPECT_EQ(second[1].value, 4);
  EXPECT_EQ(*second[2].labels, (LabelSet{{"__name__", "c"}}));
}

}  // namespace
}  // namespace poolwatch
