#!/usr/bin/env bash
# The unit and integration suites under AddressSanitizer + UndefinedBehaviorSanitizer (the
# integration tests start the instrumented poolwatch against real nginx, promtool, Alertmanager
# and the Slack stand-in), and the threaded parts (dispatcher, metrics under concurrent scrapes,
# the basic-auth cache, the Alertmanager re-poster) under ThreadSanitizer. GCC's sanitizers: no
# extra packages. The e2e suite and the benchmarks are not built, to keep CI short.
# Usage: scripts/sanitizers.sh [asan|tsan|all]   (default all)
# POOLWATCH_STEP=build only builds: .ci/run builds beside the test phases, then runs this again
# (the build is then up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
jobs="$(nproc)"
run=true
[ "${POOLWATCH_STEP:-all}" = build ] && run=false

# -Wno-maybe-uninitialized: GCC 12 at -O1 with ASan reports it falsely inside libstdc++'s
# std::regex (used by two tests); the Release build keeps the warning.
configure() {  # build dir, sanitizer flags
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=None -DPOOLWATCH_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="$2 -O1 -g1 -fno-omit-frame-pointer -Wno-maybe-uninitialized" \
    -DCMAKE_EXE_LINKER_FLAGS="$2" -DCMAKE_SHARED_LINKER_FLAGS="$2" -DCMAKE_MODULE_LINKER_FLAGS="$2" >/dev/null
}

if [ "$what" = asan ] || [ "$what" = all ]; then
  start=$(date +%s)
  configure build-asan "-fsanitize=address,undefined -fno-sanitize-recover=undefined"
  cmake --build build-asan --parallel "$jobs" --target poolwatch_unit_and_integration_tests
  if $run; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan -L 'unit|integration' --output-on-failure --parallel "$jobs" \
        --timeout 300 -E '^Dockerfiles\.'  # checks the release binary's libraries, not libasan's
    echo "sanitizers.sh: ASan+UBSan unit and integration suites passed in $(( $(date +%s) - start ))s"
  fi
fi

if [ "$what" = tsan ] || [ "$what" = all ]; then
  start=$(date +%s)
  configure build-tsan "-fsanitize=thread"
  # The threaded parts: test executable and the suites in it.
  tsan_runs=(
    "notify_unit_tests DispatcherTest.*:DispatcherWorker.*:Alertmanager*"
    "app_unit_tests ConcurrentScrape.*"
    "web_unit_tests BasicAuth*"
  )
  cmake --build build-tsan --parallel "$jobs" --target notify_unit_tests app_unit_tests web_unit_tests
  if $run; then
    # TSan needs a memory layout that high ASLR entropy breaks on newer kernels: run without ASLR.
    norandom=""
    if setarch "$(uname -m)" -R true 2>/dev/null; then norandom="setarch $(uname -m) -R"; fi
    for entry in "${tsan_runs[@]}"; do
      read -r target filter <<<"$entry"
      TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 $norandom "build-tsan/tests/$target" \
        --gtest_brief=1 --gtest_filter="$filter"
    done
    echo "sanitizers.sh: TSan (${tsan_runs[*]}) passed in $(( $(date +%s) - start ))s"
  fi
fi
