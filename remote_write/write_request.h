#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "remote_write/exposition_parser.h"

namespace poolwatch {

// A series' labels as remote write wants them: sorted by name, each name once.
using LabelSet = std::vector<std::pair<std::string, std::string>>;

// One sample waiting to be sent. Labels are shared by the samples of a series in one snapshot
// and built once per snapshot.
struct QueuedSample {
  std::shared_ptr<const LabelSet> labels;
  double value = 0;
  int64_t timestamp_ms = 0;
};

// The labels a pushed series carries: its own, then each of `external_labels` it does not have
// (Prometheus' rule: a series' label wins over an external one), then each of `target_labels`
// (job, instance: what a Prometheus that scraped poolwatch would have added) it still lacks.
// Sorted by name.
LabelSet PushedLabels(std::vector<std::pair<std::string, std::string>> own,
                      const std::map<std::string, std::string>& external_labels,
                      const std::map<std::string, std::string>& target_labels);

// A snapshot's samples, all stamped `timestamp_ms`, with the labels above.
std::vector<QueuedSample> SnapshotSamples(std::vector<ExposedSample> exposed, int64_t timestamp_ms,
                                          const std::map<std::string, std::string>& external_labels,
                                          const std::map<std::string, std::string>& target_labels);

// SnapshotSamples for a reader that snapshots the same exposition again and again: a series
// seen in the previous snapshot (same text of name and labels) keeps its LabelSet, so a
// snapshot at the caps allocates almost nothing and snapshots queued during an outage share
// their labels instead of holding a copy each.
class SnapshotReader {
 public:
  SnapshotReader(std::map<std::string, std::string> external_labels,
                 std::map<std::string, std::string> target_labels)
      : external_labels_(std::move(external_labels)), target_labels_(std::move(target_labels)) {}

  std::vector<QueuedSample> Read(std::string_view exposition, int64_t timestamp_ms,
                                 size_t* malformed = nullptr);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Cache =
      std::unordered_map<std::string, std::shared_ptr<const LabelSet>, Hash, std::equal_to<>>;
  std::map<std::string, std::string> external_labels_, target_labels_;
  Cache labels_;  // the previous snapshot's series
};

// The body of one remote-write 1.0 request: a protobuf WriteRequest (consecutive samples of the
// same label set share one TimeSeries) compressed with snappy's block format.
std::string EncodeWriteRequest(const std::vector<QueuedSample>& batch);

// The protobuf WriteRequest before compression (what EncodeWriteRequest compresses).
std::string SerializeWriteRequest(const std::vector<QueuedSample>& batch);

namespace remote_write {
class WriteRequest;
}

// EncodeWriteRequest for a sender that encodes batch after batch: the same bytes, but the
// message, its series and their label strings are kept between batches (protobuf's Clear()
// keeps what it allocated), which makes a push at the caps about twice as cheap
// (bench/README.md).
class WriteRequestEncoder {
 public:
  WriteRequestEncoder();
  ~WriteRequestEncoder();
  WriteRequestEncoder(const WriteRequestEncoder&) = delete;
  WriteRequestEncoder& operator=(const WriteRequestEncoder&) = delete;

  // The body for `batch`; valid until the next call.
  const std::string& Encode(const std::vector<QueuedSample>& batch);

 private:
  std::unique_ptr<remote_write::WriteRequest> request_;
  std::string raw_, body_;
};

// Snappy block format, both ways (the receiver's side is for tests). Uncompress returns false
// for a corrupt block.
std::string SnappyCompress(std::string_view raw);
bool SnappyUncompress(std::string_view compressed, std::string& raw);

}  // namespace poolwatch
