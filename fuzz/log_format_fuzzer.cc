// libFuzzer target: nginx log_format compilation and line parsing (see fuzz_targets.h).
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  poolwatch::fuzz::LogFormatTarget(data, size);
  return 0;
}
