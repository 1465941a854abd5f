#include "remote_write/write_request.h"

#include <snappy.h>

#include <algorithm>

#include "remote_write/remote_write.pb.h"

namespace poolwatch {
namespace {

bool HasLabel(const LabelSet& labels, std::string_view name) {
  return std::any_of(labels.begin(), labels.end(),
                     [name](const auto& label) { return label.first == name; });
}

// Fills `request` (cleared) with `batch`.
void Fill(const std::vector<QueuedSample>& batch, remote_write::WriteRequest& request) {
  request.Clear();
  const LabelSet* current = nullptr;
  remote_write::TimeSeries* series = nullptr;
  for (const QueuedSample& sample : batch) {
    if (series == nullptr || sample.labels.get() != current) {
      current = sample.labels.get();
      series = request.add_timeseries();
      for (const auto& [name, value] : *current) {
        remote_write::Label* label = series->add_labels();
        label->set_name(name);
        label->set_value(value);
      }
    }
    remote_write::Sample* out = series->add_samples();
    out->set_value(sample.value);
    out->set_timestamp(sample.timestamp_ms);
  }
}

}  // namespace

LabelSet PushedLabels(std::vector<std::pair<std::string, std::string>> own,
                      const std::map<std::string, std::string>& external_labels,
                      const std::map<std::string, std::string>& target_labels) {
  LabelSet labels = std::move(own);
  for (const auto& [name, value] : external_labels) {
    if (!HasLabel(labels, name)) labels.emplace_back(name, value);
  }
  for (const auto& [name, value] : target_labels) {
    if (!HasLabel(labels, name)) labels.emplace_back(name, value);
  }
  std::sort(labels.begin(), labels.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return labels;
}

std::vector<QueuedSample> SnapshotSamples(std::vector<ExposedSample> exposed, int64_t timestamp_ms,
                                          const std::map<std::string, std::string>& external_labels,
                                          const std::map<std::string, std::string>& target_labels) {
  std::vector<QueuedSample> samples;
  samples.reserve(exposed.size());
  for (ExposedSample& sample : exposed) {
    auto labels = std::make_shared<const LabelSet>(
        PushedLabels(std::move(sample.labels), external_labels, target_labels));
    samples.push_back(QueuedSample{std::move(labels), sample.value, timestamp_ms});
  }
  return samples;
}

std::vector<QueuedSample> SnapshotReader::Read(std::string_view exposition, int64_t timestamp_ms,
                                               size_t* malformed) {
  std::vector<QueuedSample> samples;
  Cache seen;
  seen.reserve(labels_.size());
  const size_t bad = ForEachSampleLine(exposition, [&](const SampleLine& line) {
    std::shared_ptr<const LabelSet> labels;
    if (auto kept = labels_.find(line.series); kept != labels_.end()) {
      labels = kept->second;
      seen.insert(labels_.extract(kept));  // moves the node: no new key
    } else if (auto again = seen.find(line.series); again != seen.end()) {
      labels = again->second;  // the same series twice in one exposition
    } else {
      labels = std::make_shared<const LabelSet>(
          PushedLabels(SeriesLabels(line.series), external_labels_, target_labels_));
      seen.emplace(std::string(line.series), labels);
    }
    samples.push_back(QueuedSample{std::move(labels), line.value, timestamp_ms});
  });
  labels_ = std::move(seen);  // series gone from /metrics are forgotten
  if (malformed != nullptr) *malformed = bad;
  return samples;
}

std::string SerializeWriteRequest(const std::vector<QueuedSample>& batch) {
  remote_write::WriteRequest request;
  Fill(batch, request);
  return request.SerializeAsString();
}

WriteRequestEncoder::WriteRequestEncoder()
    : request_(std::make_unique<remote_write::WriteRequest>()) {}
WriteRequestEncoder::~WriteRequestEncoder() = default;

const std::string& WriteRequestEncoder::Encode(const std::vector<QueuedSample>& batch) {
  Fill(batch, *request_);
  raw_.clear();
  request_->SerializeToString(&raw_);
  body_.clear();
  snappy::Compress(raw_.data(), raw_.size(), &body_);
  return body_;
}

std::string EncodeWriteRequest(const std::vector<QueuedSample>& batch) {
  return SnappyCompress(SerializeWriteRequest(batch));
}

std::string SnappyCompress(std::string_view raw) {
  std::string compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  return compressed;
}

bool SnappyUncompress(std::string_view compressed, std::string& raw) {
  return snappy::Uncompress(compressed.data(), compressed.size(), &raw);
}

}  // namespace poolwatch
