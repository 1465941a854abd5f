#!/usr/bin/env bash
# The fast lane while developing: the formatting check, a warnings-as-errors build and the unit
# tests; under 2 minutes on a warm build (2 cores). scripts/test.sh runs every suite.
# Usage: scripts/check.sh            everything above
#        scripts/check.sh --format   only the formatting check (CI runs it beside test.sh)
# Fix formatting with: clang-format -i <files it names>
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# Every C++ file of the project (build trees and the demo's run directory aside).
mapfile -t sources < <(find . \( -path './build*' -o -path './.demo' -o -path './.git' \) -prune \
  -o \( -name '*.cc' -o -name '*.h' \) -type f -print | sort)
if ! clang-format --dry-run -Werror "${sources[@]}" 2>/tmp/poolwatch-format.$$; then
  grep -E '^[^ ]+:[0-9]+:[0-9]+: error' /tmp/poolwatch-format.$$ | cut -d: -f1 | sort | uniq -c \
    | awk '{print "check.sh: not formatted: " $2 " (" $1 " places)"}' >&2
  rm -f /tmp/poolwatch-format.$$
  echo "check.sh: run clang-format -i on the files above (the project's .clang-format)" >&2
  exit 1
fi
rm -f /tmp/poolwatch-format.$$
echo "check.sh: formatting clean (${#sources[@]} files)"
[ "${1:-}" = "--format" ] && exit 0

# Its own build tree, so switching between this and test.sh rebuilds nothing.
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B build-check -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_COMPILE_WARNING_AS_ERROR=ON \
  "${launcher[@]}" >/dev/null
cmake --build build-check --parallel "$(nproc)" --target poolwatch poolwatch_unit_tests
ctest --test-dir build-check -L unit --output-on-failure --parallel "$(nproc)"
