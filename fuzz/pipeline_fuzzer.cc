// libFuzzer target: log lines through the whole pipeline, parse to scrape (see fuzz_targets.h).
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  poolwatch::fuzz::PipelineTarget(data, size);
  return 0;
}
