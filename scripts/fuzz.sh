#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a bounded time on its
# seed corpus (fuzz/corpus/<name>); new inputs go to a scratch corpus, not into the repo.
# A crash leaves its input in build-fuzz/artifacts/ and fails the script; turn it into a
# regression test and add it to fuzz/corpus/.
# Usage: scripts/fuzz.sh [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build=build-fuzz
targets="log_format_fuzzer pipeline_fuzzer config_fuzzer"

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target $targets

mkdir -p "$build/artifacts"
status=0
# shellcheck disable=SC2086
for target in $targets; do
  seeds="fuzz/corpus/${target%_fuzzer}"
  scratch="$build/corpus/${target%_fuzzer}"
  mkdir -p "$scratch"
  log="$build/$target.log"
  regressions="fuzz/regressions/${target%_fuzzer}"
  [ -d "$regressions" ] || regressions=""
  echo "fuzz.sh: $target for ${seconds}s (seeds: $seeds)"
  # -max_len: a log line or a config file is small; -timeout: a hang counts as a failure.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$build/$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 \
      "$scratch" "$seeds" $regressions >"$log" 2>&1; then
    echo "fuzz.sh: $target FAILED; input in $build/artifacts/, log:" >&2
    tail -n 60 "$log" >&2
    status=1
  fi
  runs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}' || true)
  echo "fuzz.sh: $target: ${runs:-?} executions in ${seconds}s"
done
exit $status
