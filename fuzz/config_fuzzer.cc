// libFuzzer target: configuration, web configuration and state file loading (see
// fuzz_targets.h).
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  poolwatch::fuzz::ConfigTarget(data, size);
  return 0;
}
