#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for a bounded time on its
# seed corpus (fuzz/corpus/<name>); new inputs go to a scratch corpus, not into the repo.
# A crash leaves its input in build-fuzz/artifacts/ and fails the script; turn it into a
# regression test and add it to fuzz/corpus/.
# Usage: scripts/fuzz.sh [seconds per target, default 60]
# POOLWATCH_STEP=build only builds (.ci/run builds beside the test phases, then runs).
# The targets run side by side, as many at a time as there are cores (POOLWATCH_FUZZ_JOBS
# overrides): each still gets its full time on a core of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
jobs="${POOLWATCH_FUZZ_JOBS:-$(nproc)}"
build=build-fuzz
targets="log_format_fuzzer pipeline_fuzzer config_fuzzer log_input_fuzzer"

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
CC=clang CXX=clang++ cmake -S fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" --parallel "$(nproc)" --target $targets
[ "${POOLWATCH_STEP:-all}" = build ] && exit 0

mkdir -p "$build/artifacts"

fuzz_one() {  # target; its output goes to $build/<target>.log
  local target=$1
  local seeds="fuzz/corpus/${target%_fuzzer}"
  local scratch="$build/corpus/${target%_fuzzer}"
  local regressions="fuzz/regressions/${target%_fuzzer}"
  [ -d "$regressions" ] || regressions=""
  mkdir -p "$scratch"
  # -max_len: a log line or a config file is small; -timeout: a hang counts as a failure.
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 \
    "$scratch" "$seeds" $regressions >"$build/$target.log" 2>&1
}

report() {  # target, its exit status
  local target=$1 log="$build/$1.log" runs
  if [ "$2" -ne 0 ]; then
    echo "fuzz.sh: $target FAILED; input in $build/artifacts/, log:" >&2
    tail -n 60 "$log" >&2
    status=1
  fi
  runs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}' || true)
  echo "fuzz.sh: $target: ${runs:-?} executions in ${seconds}s"
}

status=0
declare -A running=()  # pid -> target
for target in $targets; do
  if [ "${#running[@]}" -ge "$jobs" ]; then
    finished_status=0
    wait -n -p finished "${!running[@]}" || finished_status=$?
    report "${running[$finished]}" "$finished_status"
    unset "running[$finished]"
  fi
  echo "fuzz.sh: $target for ${seconds}s (seeds: fuzz/corpus/${target%_fuzzer})"
  fuzz_one "$target" &
  running[$!]=$target
done
while [ "${#running[@]}" -gt 0 ]; do
  finished_status=0
  wait -n -p finished "${!running[@]}" || finished_status=$?
  report "${running[$finished]}" "$finished_status"
  unset "running[$finished]"
done
exit $status
