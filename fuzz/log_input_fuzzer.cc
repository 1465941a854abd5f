// libFuzzer target: syslog datagrams and whole log files, plain or gzip (see fuzz_targets.h).
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  poolwatch::fuzz::LogInputTarget(data, size);
  return 0;
}
